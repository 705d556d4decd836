"""The catalog: categories, products and price lists (master data owned by the ERP, replicated to the CRM)."""
