"""Who may do what in the ERP: finance, warehouse and purchasing roles."""
