"""Activities: calls, emails, messages, meetings and notes logged against a party, deal or lead."""
