"""Who may see and change which CRM records: roles, teams, ownership and sharing."""
