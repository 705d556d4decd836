"""Sales orders: placed in the CRM (crm.order.placed) or at the counter, accepted or rejected, delivered, cancelled."""
