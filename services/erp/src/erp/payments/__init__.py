"""Customer receipts and supplier payments, their allocations, bank accounts, cheques and party statements."""
