"""The double-entry ledger: chart of accounts, journals, posted entries (immutable, hash-chained), period close and
the financial reports. Other modules post with service.post_entry(...) and reverse with service.reverse_entry(...)."""
