"""Identity and access for a service: users, roles of permissions, hashed tokens, and the request guard.

Each service keeps its own users and roles in its own database; only the mechanics are shared.
"""
