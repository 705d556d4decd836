"""CRM service: parties, and (later) leads, deals, agenda, tickets and campaigns."""
