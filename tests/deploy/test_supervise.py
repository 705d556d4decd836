"""`make run` keeps its processes up: one that dies is restarted with growing delays and the event logged;
TERM (what Ctrl-C leads to) stops the command and its supervisor."""

import subprocess
import time
from pathlib import Path

SUPERVISE = Path(__file__).resolve().parents[2] / "deploy" / "local" / "supervise.sh"


def _start(script: str, tmp_path: Path) -> int:
    """Run the script (its supervisor stays in the background, detached from our pipes); the loop's pid."""
    subprocess.run(["bash", "-c", script], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=True)
    return int((tmp_path / "loop.pid").read_text())


def test_a_process_that_dies_is_restarted_with_growing_delays_and_logged(tmp_path):
    runs = tmp_path / "runs"
    script = f"""
        LOGS={tmp_path}; pids=()
        source {SUPERVISE}
        supervise flaky sh -c 'echo run >> {runs}; exit 3'
        echo "${{pids[0]}}" > {tmp_path}/loop.pid
    """
    loop_pid = _start(script, tmp_path)
    try:
        time.sleep(3.6)  # runs at ~0 s, ~1 s, ~3 s
        starts = runs.read_text().split()
        assert len(starts) == 3, starts
        log = (tmp_path / "supervisor.log").read_text().splitlines()
        assert [line.split(" restarting in ")[1] for line in log[:2]] == ["1s", "2s"]
        assert all("flaky exited with status 3" in line for line in log)
    finally:
        subprocess.run(["kill", "-TERM", str(loop_pid)], check=False)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and subprocess.run(["kill", "-0", str(loop_pid)],
                                                         capture_output=True).returncode == 0:
        time.sleep(0.1)
    assert subprocess.run(["kill", "-0", str(loop_pid)], capture_output=True).returncode != 0, "supervisor lives on"
    count = len(runs.read_text().split())
    time.sleep(1.5)
    assert len(runs.read_text().split()) == count  # nothing restarted after the stop


def test_term_stops_a_long_running_command_and_its_supervisor(tmp_path):
    pidfile = tmp_path / "child"
    script = f"""
        LOGS={tmp_path}; pids=()
        source {SUPERVISE}
        supervise sleeper sh -c 'echo $$ > {pidfile}; exec sleep 300'
        echo "${{pids[0]}}" > {tmp_path}/loop.pid
    """
    loop_pid = _start(script, tmp_path)
    deadline = time.monotonic() + 5
    while not pidfile.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    child = int(pidfile.read_text())
    subprocess.run(["kill", "-TERM", str(loop_pid)], check=True)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and subprocess.run(["kill", "-0", str(child)],
                                                         capture_output=True).returncode == 0:
        time.sleep(0.1)
    assert subprocess.run(["kill", "-0", str(child)], capture_output=True).returncode != 0, "the command lives on"
    assert not (tmp_path / "supervisor.log").exists()  # a stop is not a crash: nothing restarted
