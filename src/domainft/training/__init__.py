"""domainft.training"""
