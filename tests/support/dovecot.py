"""A real IMAP server for tests: Dovecot (Debian's dovecot-imapd, installed by deploy/local/bootstrap.sh) on a
loopback port (TEST_IMAP_PORT, else a free one), its mail in a temporary folder (Maildir), users in passwd-files,
no TLS and plaintext login allowed (loopback only). It runs as an unprivileged user: the caller's, or, when the
tests run as root, Debian's `dovecot` system user (the folder is handed to it)."""

import grp
import imaplib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.smtp import free_port

DOVECOT = "/usr/sbin/dovecot"
LDA = "/usr/lib/dovecot/dovecot-lda"

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = {uid}
last_valid_uid = {uid}
mail_location = maildir:{root}/mail/%u
mail_uid = {uid}
mail_gid = {gid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users/%u
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/users/%u
  default_fields = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service auth {{
  user = {user}
}}
service auth-worker {{
  user = {user}
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
}}
"""


@dataclass
class Dovecot:
    host: str
    port: int
    root: Path
    process: subprocess.Popen
    run_as: dict = field(default_factory=dict)  # subprocess user/group when the tests run as root
    users: dict = field(default_factory=dict)

    def add_user(self, name: str, password: str) -> None:
        """A mail user: a passwd-file of its own (Dovecot caches a file it has read for a moment, so one shared
        file rewritten for each new user would not be seen at once)."""
        self.users[name] = password
        path = self.root / "users" / name
        path.write_text(f"{name}:{password}::::::\n")
        if self.run_as:
            os.chown(path, self.run_as["user"], self.run_as["group"])

    def deliver(self, user: str, raw: bytes, folder: str | None = None) -> None:
        """Deliver a message as the MTA would, through Dovecot's own LDA (folder: INBOX unless given)."""
        args = [LDA, "-c", str(self.root / "dovecot.conf"), "-d", user] + (["-m", folder] if folder else [])
        result = subprocess.run(args, input=raw, capture_output=True, timeout=30, check=False, **self.run_as)
        if result.returncode != 0:
            raise RuntimeError(f"dovecot-lda: {result.returncode} {result.stderr.decode()[-2000:]}")

    def client(self, user: str) -> imaplib.IMAP4:
        imap = imaplib.IMAP4(self.host, self.port, timeout=10)
        imap.login(user, self.users[user])
        return imap

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        shutil.rmtree(self.root, ignore_errors=True)


def _account() -> tuple[dict, str, str, int, int]:
    """Who runs the server: (subprocess kwargs, user, group, uid, gid)."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid())
        return {}, me.pw_name, _group(me.pw_gid), me.pw_uid, me.pw_gid
    system = pwd.getpwnam("dovecot")
    return ({"user": system.pw_uid, "group": system.pw_gid, "extra_groups": []}, system.pw_name,
            _group(system.pw_gid), system.pw_uid, system.pw_gid)


def _group(gid: int) -> str:
    return grp.getgrgid(gid).gr_name


def start_dovecot(root: Path | None = None) -> Dovecot:
    """Start a server whose files live in `root` (default: a new folder under the system's temp dir, which the
    unprivileged server user can reach, unlike pytest's private tmp_path when the tests run as root)."""
    root = root or Path(tempfile.mkdtemp(prefix="crm-dovecot-"))
    if not os.access(DOVECOT, os.X_OK):
        raise RuntimeError("dovecot is not installed: run deploy/local/bootstrap.sh (apt: dovecot-imapd)")
    run_as, user, group, uid, gid = _account()
    if root.exists():
        shutil.rmtree(root)
    for sub in ("run", "state", "mail", "home", "users"):
        (root / sub).mkdir(parents=True)
    port = int(os.environ.get("TEST_IMAP_PORT") or 0) or free_port()
    (root / "dovecot.conf").write_text(CONFIG.format(root=root, user=user, group=group, uid=uid, gid=gid,
                                                     port=port))
    if run_as:
        for path in [root, *root.rglob("*")]:
            os.chown(path, uid, gid)
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(root / "dovecot.conf")], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, **run_as)
    server = Dovecot("127.0.0.1", port, root, process, run_as)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            imaplib.IMAP4("127.0.0.1", port, timeout=2).logout()
            return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    log = root / "dovecot.log"
    raise RuntimeError(f"dovecot did not start: {log.read_text()[-3000:] if log.exists() else 'no log'}")
