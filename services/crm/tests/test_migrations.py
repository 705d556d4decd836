"""The CRM's models and its Alembic migrations describe the same schema: autogenerate against the migrated
database finds nothing to write (a model changed without its migration, or the reverse, fails here)."""

import os

import pytest
from crm import models  # noqa: F401 - registers every table on the metadata
from crm.db import Base
from servicekit.testing import schema_drift

pytestmark = pytest.mark.db


def test_the_models_and_the_migrations_agree():
    assert schema_drift(os.environ["CRM_DATABASE_URL"], Base.metadata) == []
