"""Support tickets: numbers, statuses, replies and notes, queues, attachments and SLA clocks."""
