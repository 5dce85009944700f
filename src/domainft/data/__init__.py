"""domainft.data"""
