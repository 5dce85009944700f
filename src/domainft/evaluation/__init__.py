"""domainft.evaluation"""
