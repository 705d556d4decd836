"""The integration tests share the stack of tests/conftest.py (both services as real processes on the real
PostgreSQL and Kafka) with the fault tests; the helpers they import live there too."""

from tests.conftest import BIN, Proc, Stack, free_port, wait_until  # noqa: F401 - re-exported for tests
