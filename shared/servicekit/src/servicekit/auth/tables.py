"""The identity tables, added to a service's own metadata."""

from dataclasses import dataclass

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Index, MetaData, String, Table, func, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID


@dataclass(frozen=True)
class AuthTables:
    users: Table
    roles: Table
    user_roles: Table
    api_tokens: Table
    login_failures: Table


def auth_tables(metadata: MetaData) -> AuthTables:
    users = Table(
        "users", metadata,
        Column("id", UUID(as_uuid=False), primary_key=True),
        Column("email", String(254), nullable=False),
        Column("name", String(200), nullable=False),
        Column("password_hash", String(200), nullable=False),
        Column("is_active", Boolean, nullable=False, server_default=text("true")),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Index("uq_users_email_lower", text("lower(email)"), unique=True),
    )
    roles = Table(
        "roles", metadata,
        Column("name", String(50), primary_key=True),
        Column("description", String(300), nullable=False, server_default=""),
        Column("permissions", ARRAY(String(80)), nullable=False),
        Column("builtin", Boolean, nullable=False, server_default=text("false")),
    )
    user_roles = Table(
        "user_roles", metadata,
        Column("user_id", UUID(as_uuid=False), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        Column("role", String(50), ForeignKey("roles.name", ondelete="CASCADE"), primary_key=True),
    )
    api_tokens = Table(
        "api_tokens", metadata,
        Column("id", UUID(as_uuid=False), primary_key=True),
        Column("user_id", UUID(as_uuid=False), ForeignKey("users.id", ondelete="CASCADE"), nullable=False,
               index=True),
        Column("kind", String(10), nullable=False),  # session (from login) | personal (for integrations)
        Column("name", String(100), nullable=False),
        Column("prefix", String(16), nullable=False),
        Column("token_hash", String(64), nullable=False, unique=True),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("expires_at", DateTime(timezone=True)),
        Column("revoked_at", DateTime(timezone=True)),
        Column("last_used_at", DateTime(timezone=True)),
    )
    login_failures = Table(
        "login_failures", metadata,
        Column("id", UUID(as_uuid=False), primary_key=True, server_default=text("gen_random_uuid()")),
        Column("email", String(254), nullable=False),
        Column("address", String(64), nullable=False),
        Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Index("ix_login_failures_email_at", "email", "at"),
        Index("ix_login_failures_address_at", "address", "at"),
    )
    return AuthTables(users, roles, user_roles, api_tokens, login_failures)
