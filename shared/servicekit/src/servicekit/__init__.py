"""Plumbing both services share: problem+json errors, health and metrics, pagination, the worker runtime."""
