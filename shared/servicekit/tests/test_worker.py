"""The worker process exits non-zero when one of its loops dies, so a supervisor restarts it."""

import threading
import time

import pytest
from servicekit.health import run_checks
from servicekit.worker import run_worker


class Dying:
    def run(self):
        raise RuntimeError("the consumer crashed")

    def stop(self):
        pass


class Steady:
    def __init__(self):
        self.stopped = threading.Event()

    def run(self):
        self.stopped.wait(30)

    def stop(self):
        self.stopped.set()


def test_a_dead_loop_stops_the_others_and_exits_with_status_1():
    steady = Steady()
    with pytest.raises(SystemExit) as info:
        run_worker("test", [Dying(), steady], {}, "127.0.0.1", 0)
    assert info.value.code == 1
    assert steady.stopped.is_set()


def test_readyz_answers_within_two_seconds_when_a_dependency_hangs():
    """A broker that does not answer makes the worker not ready at once, not after the client's own timeout."""
    release = threading.Event()

    def hanging():
        release.wait(30)

    def fine():
        pass

    try:
        began = time.monotonic()
        results, ok = run_checks({"broker": hanging, "database": fine})
        assert time.monotonic() - began < 2 and not ok
        assert results["database"] == "ok" and "no answer within" in results["broker"]
        again, ok = run_checks({"broker": hanging})
        assert not ok and again["broker"] == "the previous check has not answered yet"  # no second thread
    finally:
        release.set()
