"""The ERP's warranty entitlements as the CRM sees them (a replica fed by erp.warranty.v1), and a ticket's coverage."""
