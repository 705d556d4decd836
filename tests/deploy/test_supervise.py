"""`make run` keeps its processes up: one that dies is restarted with growing delays and the event logged;
TERM (what Ctrl-C leads to) stops the command and its supervisor."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import free_port

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


# --- the whole of `make run`, with stand-ins for the servers and the services -----------------------------------

RUN = SUPERVISE.parent / "run.sh"

FAKE_SERVICE = '''#!{python}
"""Stands in for `crm`/`erp`: `migrate` succeeds, `web` and `worker` answer 200 on their port until killed."""
import os, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
service, command = os.path.basename(sys.argv[0]).upper(), sys.argv[1]
if command == "migrate":
    sys.exit(0)
host, port = (os.environ[service + "_BIND"].split(":") if command == "web"
              else ("127.0.0.1", os.environ[service + "_WORKER_HEALTH_PORT"]))
class Ok(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers()
    def log_message(self, *args):
        pass
server = HTTPServer((host, int(port)), Ok)
with open(os.environ["FAKE_PIDS"], "a") as f:
    f.write(f"{{service.lower()}}-{{command}} {{os.getpid()}}\\n")
server.serve_forever()
'''

FAKE_INFRA = '''#!/usr/bin/env bash
echo "$1" >> "{calls}"
if [[ $1 == env ]]; then echo "export FAKE_INFRA=1"; fi
'''


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state != "Z"


def _registered(pids_file: Path) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for line in pids_file.read_text().splitlines() if pids_file.exists() else []:
        name, pid = line.split()
        found.setdefault(name, []).append(int(pid))
    return found


def _wait(predicate, what: str, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_make_run_restarts_a_killed_process_and_ctrl_c_stops_everything_with_status_0(tmp_path):
    venv_bin = tmp_path / "venv" / "bin"
    venv_bin.mkdir(parents=True)
    for service in ("crm", "erp"):
        (venv_bin / service).write_text(FAKE_SERVICE.format(python=sys.executable))
        (venv_bin / service).chmod(0o755)
    infra, calls, pids_file = tmp_path / "infra.sh", tmp_path / "infra-calls", tmp_path / "pids"
    infra.write_text(FAKE_INFRA.format(calls=calls))
    infra.chmod(0o755)
    env = {**os.environ, "VENV": str(tmp_path / "venv"), "INFRA": str(infra), "LOCAL_DIR": str(tmp_path / "run"),
           "FAKE_PIDS": str(pids_file), "CRM_BIND": f"127.0.0.1:{free_port()}", "ERP_BIND": f"127.0.0.1:{free_port()}",
           "CRM_WORKER_HEALTH_PORT": str(free_port()), "ERP_WORKER_HEALTH_PORT": str(free_port())}
    out = tmp_path / "out"
    with open(out, "w") as stdout:
        run = subprocess.Popen(["bash", str(RUN)], env=env, stdin=subprocess.DEVNULL, stdout=stdout,
                               stderr=subprocess.STDOUT, start_new_session=True)  # its own group, as in a terminal
    try:
        _wait(lambda: "Ctrl-C stops everything" in out.read_text(), "make run to be up")
        first = _registered(pids_file)
        assert sorted(first) == ["crm-web", "crm-worker", "erp-web", "erp-worker"]
        os.kill(first["crm-worker"][0], signal.SIGKILL)
        _wait(lambda: len(_registered(pids_file)["crm-worker"]) == 2, "the killed worker to be started again")
        assert run.poll() is None, "make run stopped when one process died"
        log = (tmp_path / "run" / "logs" / "supervisor.log").read_text()
        assert "crm-worker exited with status 137" in log and "restarting in 1s" in log, log
        port = env["CRM_WORKER_HEALTH_PORT"]
        _wait(lambda: subprocess.run(["curl", "-fsS", "-o", "/dev/null", f"http://127.0.0.1:{port}/"]).returncode == 0,
              "the restarted worker to answer")
        os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's foreground group
        assert run.wait(20) == 0, out.read_text()
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    everyone = [pid for pids in _registered(pids_file).values() for pid in pids]
    _wait(lambda: not any(_alive(pid) for pid in everyone), "every process to be gone", timeout=10)
    assert calls.read_text().split() == ["up", "env", "down"]
    assert "stopped." in out.read_text()


# --- a real worker under the supervisor ---------------------------------------------------------------------------

def _children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return ""


@pytest.mark.integration
def test_a_killed_crm_worker_comes_back_under_the_supervisor(tmp_path):
    """The real `crm worker` on the test run's PostgreSQL and Kafka, SIGKILLed: supervised, it is ready again."""
    if not os.environ.get("CRM_DATABASE_URL") or not os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        pytest.fail("CRM_DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS not set: run through `make test`")
    port = free_port()
    worker_bin = Path(sys.executable).parent / "crm"
    script = f"""
        LOGS={tmp_path}; pids=()
        export CRM_WORKER_HEALTH_PORT={port}
        source {SUPERVISE}
        supervise crm-worker {worker_bin} worker
        echo "${{pids[0]}}" > {tmp_path}/loop.pid
    """
    loop_pid = _start(script, tmp_path)

    def worker() -> int | None:
        found = [c for c in _children(loop_pid) if " worker" in _cmdline(c)]
        return found[0] if found else None

    def ready() -> bool:
        return subprocess.run(["curl", "-fsS", "-o", "/dev/null", "-m", "3",
                               f"http://127.0.0.1:{port}/readyz"]).returncode == 0

    try:
        _wait(lambda: worker() and ready(), "the worker to be ready", timeout=60)
        first = worker()
        os.kill(first, signal.SIGKILL)
        _wait(lambda: (pid := worker()) and pid != first and ready(), "the killed worker to be ready again", 60)
        log = (tmp_path / "supervisor.log").read_text()
        assert "crm-worker exited with status 137" in log, log
    finally:
        last = worker()
        subprocess.run(["kill", "-TERM", str(loop_pid)], check=False)
    _wait(lambda: not _alive(loop_pid) and not (last and _alive(last)), "the supervisor and its worker to stop", 30)
