"""A real CalDAV server for tests: Radicale (PyPI) on a free loopback port, its storage in a temporary folder, one
user with a password (htpasswd, plain)."""

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.support.smtp import free_port


@dataclass
class Radicale:
    url: str  # http://127.0.0.1:port/
    user: str
    password: str
    process: subprocess.Popen
    log: object  # the server's stderr file

    def calendar_url(self, name: str) -> str:
        return f"{self.url}{self.user}/{name}/"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.log.close()


def start_radicale(folder: Path, user: str = "ada", password: str = "s3cret-pass") -> Radicale:
    folder.mkdir(parents=True, exist_ok=True)
    users = folder / "users"
    users.write_text(f"{user}:{password}\n")
    port = free_port()
    log = open(folder / "radicale.log", "wb")  # noqa: SIM115 - closed by Radicale.stop
    process = subprocess.Popen(
        [sys.executable, "-m", "radicale", "--server-hosts", f"127.0.0.1:{port}",
         "--storage-filesystem-folder", str(folder / "collections"), "--auth-type", "htpasswd",
         "--auth-htpasswd-filename", str(users), "--auth-htpasswd-encryption", "plain",
         "--logging-level", "warning"],
        stdout=subprocess.DEVNULL, stderr=log)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return Radicale(url, user, password, process, log)
        except requests.ConnectionError:
            time.sleep(0.1)
    process.kill()
    log.close()
    raise RuntimeError(f"radicale did not start: {(folder / 'radicale.log').read_text()[-2000:]}")
