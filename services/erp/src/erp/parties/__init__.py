"""Customers and suppliers: a read-only replica of CRM parties, plus the terms the ERP owns."""
