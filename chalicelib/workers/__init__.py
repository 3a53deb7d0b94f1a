"""Lambda handlers fed by SQS and schedules; wired in app.py."""
