"""domainft.models"""
