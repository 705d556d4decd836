"""In-app notifications of one user: reminders of the agenda today, any module's alerts tomorrow."""
