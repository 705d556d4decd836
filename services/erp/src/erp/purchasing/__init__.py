"""Purchasing: purchase orders, goods receipts into stock, supplier bills with a three-way match."""
