"""Tasks: things a user has to do, by when, for which record; pending and overdue lists per user and team."""
