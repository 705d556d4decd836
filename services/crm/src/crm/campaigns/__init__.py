"""Campaigns: audiences (segments, lists), consent and suppression, double opt-in, sending and tracking."""
