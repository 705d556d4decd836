"""ERP service: customers and suppliers (CRM replica plus ERP-owned terms); later catalog, stock, invoicing, ledger."""
