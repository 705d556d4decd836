"""The worker process exits non-zero when one of its loops dies, so a supervisor restarts it."""

import threading

import pytest
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
