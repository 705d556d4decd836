"""Leads: people and companies who showed interest, from forms, imports and salespeople, until they convert."""
