"""ERP service: customers and suppliers (replica of CRM parties plus ERP-owned terms), and later catalog, stock, invoicing, ledger."""
