"""Quotes on deals: priced lines from the catalog replica, versions, PDF, email, acceptance as an order."""
