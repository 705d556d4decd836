"""The agenda: events, recurring series, attendees, reminders, notifications and calendar feeds."""
