"""Parties: the companies and people the business deals with (master data owned by the CRM)."""
