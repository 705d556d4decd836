"""Both services as real processes (gunicorn web + worker each) on the real PostgreSQL and Kafka broker, for the
integration tests (tests/integration) and the fault tests (tests/faults), which share one stack per run.

`make test` starts PostgreSQL and Kafka and names them in CRM_DATABASE_URL, ERP_DATABASE_URL and
KAFKA_BOOTSTRAP_SERVERS; INFRA_SCRIPTS points at deploy/local so fault tests can stop and restart the broker.
The stack runs on databases of its own (crm_stack, erp_stack, freshly created and migrated on the same server), so
what the database tests left in the services' outboxes is not a backlog its workers must drain first; the stack's
URLs are in stack.env.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, make_url, text

from tests.support.smtp import Inbox, free_port

BIN = Path(sys.executable).parent


def wait_until(predicate, timeout=30.0, interval=0.1, what="condition"):
    """Poll until predicate() returns a truthy value; return it, or fail naming what never happened."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except requests.RequestException as exc:
            last = exc
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


class Proc:
    """One service process, restartable, logging to a file."""

    def __init__(self, name, argv, env, log_dir, ready_url):
        self.name, self.argv, self.env, self.ready_url = name, argv, env, ready_url
        self.log = log_dir / f"{name}.log"
        self.popen = None

    def start(self):
        with open(self.log, "ab") as log:  # the child keeps its own descriptor
            self.popen = subprocess.Popen(self.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                          start_new_session=True)
        return self

    def wait_ready(self, timeout=60):
        def ready():
            if self.popen.poll() is not None:
                pytest.fail(f"{self.name} exited with {self.popen.returncode}; log:\n{self.log.read_text()[-3000:]}")
            return requests.get(self.ready_url, timeout=2).status_code == 200
        wait_until(ready, timeout, 0.2, f"{self.name} ready at {self.ready_url}")

    def kill(self, sig=signal.SIGKILL):
        if self.popen and self.popen.poll() is None:
            os.killpg(self.popen.pid, sig)
            self.popen.wait(30)

    def stop(self):
        self.kill(signal.SIGTERM)


class Stack:
    def __init__(self, env, log_dir):
        self.env = env
        self.crm = f"http://{env['CRM_BIND']}"
        self.erp = f"http://{env['ERP_BIND']}"
        crm_worker_url = f"http://127.0.0.1:{env['CRM_WORKER_HEALTH_PORT']}"
        erp_worker_url = f"http://127.0.0.1:{env['ERP_WORKER_HEALTH_PORT']}"
        self.crm_worker_url, self.erp_worker_url = crm_worker_url, erp_worker_url
        self.procs = {
            "crm-web": Proc("crm-web", [str(BIN / "crm"), "web", "--workers", "2"], env, log_dir, self.crm + "/readyz"),
            "erp-web": Proc("erp-web", [str(BIN / "erp"), "web", "--workers", "2"], env, log_dir, self.erp + "/readyz"),
            "crm-worker": Proc("crm-worker", [str(BIN / "crm"), "worker"], env, log_dir, crm_worker_url + "/readyz"),
            "erp-worker": Proc("erp-worker", [str(BIN / "erp"), "worker"], env, log_dir, erp_worker_url + "/readyz"),
        }

    def start(self):
        for p in self.procs.values():
            p.start()
        for p in self.procs.values():
            p.wait_ready()
        self.crm_http = self._admin_session("crm", self.crm)
        self.erp_http = self._admin_session("erp", self.erp)

    def _admin_session(self, service, base):
        """Create an administrator with the operator command, then log in through the API as a user would."""
        email, password = f"admin-{uuid.uuid4().hex[:6]}@{service}.test", "integration-admin-pw"
        subprocess.run([str(BIN / service), "create-admin", "--email", email], env={**self.env,
                       "ADMIN_PASSWORD": password}, check=True, capture_output=True)
        login = requests.post(base + "/api/v1/auth/login", json={"email": email, "password": password}, timeout=10)
        assert login.status_code == 200, login.text
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {login.json()['token']}"
        http.admin_email = email
        return http

    def stop(self):
        for p in self.procs.values():
            p.stop()

    # -- what a user does -----------------------------------------------------------------------

    def create_party(self, **body):
        r = self.crm_http.post(self.crm + "/api/v1/parties", json=body, timeout=10)
        assert r.status_code == 201, r.text
        return r.json()

    def update_party(self, party, **changes):
        r = self.crm_http.patch(f"{self.crm}/api/v1/parties/{party['id']}", json=changes,
                           headers={"If-Match": f'"{party["version"]}"'}, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    def erp_party(self, party_id):
        r = self.erp_http.get(f"{self.erp}/api/v1/parties/{party_id}", timeout=5)
        return r.json() if r.status_code == 200 else None

    def erp_changes(self, party_id):
        return self.erp_http.get(f"{self.erp}/api/v1/parties/{party_id}/changes", params={"page_size": 100},
                            timeout=5).json()["items"]

    def wait_in_erp(self, party_id, version=1, timeout=30):
        """Wait until the ERP shows the party at (at least) the given CRM version."""
        return wait_until(lambda: (p := self.erp_party(party_id)) and p["crm_version"] >= version and p,
                          timeout, 0.1, f"party {party_id} v{version} in the ERP")


def fresh_database(url: str, name: str) -> str:
    """Drop and create the database `name` on the server of `url`; returns its URL."""
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(text(f"drop database if exists {name} with (force)"))
            c.execute(text(f"create database {name}"))
    finally:
        admin.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    missing = [v for v in ("CRM_DATABASE_URL", "ERP_DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS") if not os.environ.get(v)]
    if missing:
        pytest.fail(f"{', '.join(missing)} not set: run the integration tests through `make test`")
    env = dict(os.environ)
    env["CRM_DATABASE_URL"] = fresh_database(os.environ["CRM_DATABASE_URL"], "crm_stack")
    env["ERP_DATABASE_URL"] = fresh_database(os.environ["ERP_DATABASE_URL"], "erp_stack")
    for service in ("crm", "erp"):
        subprocess.run([str(BIN / service), "migrate"], env=env, check=True, capture_output=True)
    env.update(CRM_WEB_WORKERS="2", ERP_WEB_WORKERS="2")  # the tests are not about throughput: start fast
    env.update(CRM_BIND=f"127.0.0.1:{free_port()}", ERP_BIND=f"127.0.0.1:{free_port()}",
               CRM_WORKER_HEALTH_PORT=str(free_port()), ERP_WORKER_HEALTH_PORT=str(free_port()))
    env["CRM_PUBLIC_URL"] = f"http://{env['CRM_BIND']}"
    env["ERP_PUBLIC_URL"] = f"http://{env['ERP_BIND']}"
    smtp_port = str(free_port())  # the mail tests' SMTP server: quotes from the CRM, invoices from the ERP
    env.update(CRM_SMTP_HOST="127.0.0.1", CRM_SMTP_PORT=smtp_port, ERP_SMTP_HOST="127.0.0.1", ERP_SMTP_PORT=smtp_port)
    env["CRM_LMTP_PORT"] = str(free_port())  # the CRM worker's inbound LMTP endpoint (campaign bounces)
    env.update(CRM_MAILBOX_ALLOW_PRIVATE="true", CRM_MAILBOX_INTERVAL_SECONDS="5")  # a Dovecot on loopback
    log_dir = Path(os.environ.get("LOCAL_DIR", tmp_path_factory.mktemp("it"))) / "it-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    s = Stack(env, log_dir)
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def bootstrap():
    return os.environ["KAFKA_BOOTSTRAP_SERVERS"]


class Server:
    """Stop and start one of the test run's servers with its deploy/local script (data kept), as an outage would."""

    def __init__(self, script: str):
        scripts = os.environ.get("INFRA_SCRIPTS")
        if not scripts:
            pytest.fail("INFRA_SCRIPTS is not set: run the fault tests through `make test`")
        self.script = f"{scripts}/{script}"

    def stop(self):
        subprocess.run([self.script, "stop"], check=True, capture_output=True)

    def start(self):
        subprocess.run([self.script, "start"], check=True, capture_output=True)


@pytest.fixture(scope="session")
def broker():
    """The real Kafka broker, to stop and restart."""
    return Server("kafka.sh")


@pytest.fixture(scope="session")
def database():
    """The real PostgreSQL server of both services, to stop and restart."""
    return Server("postgres.sh")


@pytest.fixture
def mailbox(stack):
    """A real SMTP server where the stack's CRM sends quotes and its ERP invoices (CRM_/ERP_SMTP_HOST/PORT)."""
    box = Inbox()
    controller = Controller(box, hostname=stack.env["CRM_SMTP_HOST"], port=int(stack.env["CRM_SMTP_PORT"]))
    controller.start()
    yield box
    controller.stop()
