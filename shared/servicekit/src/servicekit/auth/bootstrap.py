"""Operator-side identity chores: seed the built-in roles after migrating, create the first administrator."""

from ..db import make_engine, make_session_factory
from . import service
from .service import RoleCatalog
from .tables import AuthTables


def seed_builtin_roles(database_url: str, tables: AuthTables, catalog: RoleCatalog) -> None:
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine).begin() as session:
            service.seed_roles(session, tables, catalog)
    finally:
        engine.dispose()


def create_admin(database_url: str, tables: AuthTables, audit_table, email: str, name: str,
                 password: str) -> tuple[dict, bool]:
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine).begin() as session:
            return service.ensure_admin(session, tables, audit_table, email, name, password)
    finally:
        engine.dispose()
