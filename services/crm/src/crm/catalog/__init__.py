"""The catalog replica: the ERP's products, categories, price lists and stock availability, read-only here."""
