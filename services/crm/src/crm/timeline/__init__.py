"""The customer timeline: one dated entry per thing that happened to a party, deal or lead, newest first."""
