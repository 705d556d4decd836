"""Banking: accounts and cash boxes, movements and transfers, statement import, reconciliation."""
