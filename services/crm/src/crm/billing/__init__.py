"""What the ERP tells the CRM about orders, deliveries, invoices and payments: a read-only, event-fed copy that
puts order status on the deal, documents on the customer's timeline, balances on the customer, and follow-up
tasks on overdue invoices. The CRM never issues invoices."""
