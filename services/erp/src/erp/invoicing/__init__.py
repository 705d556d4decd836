"""Customer invoices and credit notes: gapless numbers per series and year, legal snapshots, PDF, overdue job."""
