"""A real Dovecot IMAP server for the tests, one per test, in its own temp directory.

Debian's ``dovecot-imapd`` is started with a generated ``dovecot.conf`` (``-F -c``):
one passwd-file user, a static userdb with a Maildir, an ``imap`` listener on a free
loopback port, or with ``tls=True`` only an ``imaps`` listener (``ssl = required``)
whose certificate comes from a throw-away CA made with the ``openssl`` CLI.

Why the files live in a fresh ``/tmp/omnihub-dovecot-*`` directory and not in
pytest's ``tmp_path``: Dovecot never touches mail as uid 0, so as root the mail is
kept by ``nobody``, which cannot traverse pytest's private ``/tmp/pytest-of-root``;
and Dovecot's unix sockets must fit in 108 bytes, which a long test name breaks.
Every instance has its own directory and ports, so pytest-xdist workers can run
side by side. As a non-root user Dovecot runs entirely as that user (no chroot).

Missing ``/usr/sbin/dovecot`` skips the test, or fails it when
``OMNIHUB_TEST_REQUIRE_SERVICES=1`` (``.ci/run``), like ``tests/services.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import grp
import imaplib
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from hub.config import EmailImapConfig
from tests.services import unavailable

DOVECOT = Path(os.environ.get("OMNIHUB_TEST_DOVECOT", "/usr/sbin/dovecot"))

_START_SECONDS = 15.0
_STOP_SECONDS = 0.5


def require_dovecot() -> Path:
    """The dovecot binary; skip the test without it (fail in CI)."""
    if DOVECOT.is_file() and os.access(DOVECOT, os.X_OK):
        return DOVECOT
    unavailable(f"Dovecot not installed at {DOVECOT} (apt-get install dovecot-imapd)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


def make_test_ca(directory: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1/localhost: (ca.pem, server.pem, server.key)."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl(
        "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=omnihub test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=directory,
    )  # fmt: skip
    _openssl(
        "req", "-new", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost",
        cwd=directory,
    )  # fmt: skip
    (directory / "server.ext").write_text(
        "subjectAltName = IP:127.0.0.1, DNS:localhost\n"
        "basicConstraints = critical, CA:FALSE\n"
        "keyUsage = critical, digitalSignature\n"
        "extendedKeyUsage = serverAuth\n"
        "subjectKeyIdentifier = hash\n"
        "authorityKeyIdentifier = keyid\n"
    )
    _openssl(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-out", "server.pem", "-extfile", "server.ext",
        cwd=directory,
    )  # fmt: skip
    return directory / "ca.pem", directory / "server.pem", directory / "server.key"


class Dovecot:
    """One Dovecot with user ``hub``; a sync and async context manager.

    ``stop()``/``start()`` restart it on the same port with the same mail, so a
    client's reconnect can be tested; leaving the context removes everything.
    """

    user = "hub"
    password = "hub-imap-test"

    def __init__(self, *, tls: bool = False) -> None:
        self.binary = require_dovecot()
        self.tls = tls
        self.port = free_port()
        self.ssl_context: ssl.SSLContext | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self.root = Path(tempfile.mkdtemp(prefix="omnihub-dovecot-"))
        try:
            self._prepare()
        except BaseException:
            shutil.rmtree(self.root, ignore_errors=True)
            raise

    # -- setup ---------------------------------------------------------------------------

    def _prepare(self) -> None:
        root = self.root
        root.chmod(0o755)  # the mail user must traverse it when we are root
        for name in ("run", "state", "mail"):
            (root / name).mkdir()
        (root / "passwd").write_text(f"{self.user}:{{PLAIN}}{self.password}::::::\n")
        if self.tls:
            ca, cert, key = make_test_ca(root)
            self.ssl_context = ssl.create_default_context(cafile=str(ca))
            self._tls_files: tuple[Path, Path] = (cert, key)
        self._mail_uid, self._mail_gid = self._mail_owner()
        os.chown(root / "mail", self._mail_uid, self._mail_gid)
        self._write_config()

    @staticmethod
    def _mail_owner() -> tuple[int, int]:
        """Dovecot refuses uid 0 for mail: as root, ``nobody`` keeps it."""
        if os.geteuid() != 0:
            return os.getuid(), os.getgid()
        entry = pwd.getpwnam("nobody")
        return entry.pw_uid, entry.pw_gid

    def _write_config(self) -> None:
        root = self.root
        # As a non-root user Dovecot cannot chroot or switch users: it runs as us throughout.
        me = "" if os.geteuid() == 0 else pwd.getpwuid(os.getuid()).pw_name
        my_group = "" if not me else grp.getgrgid(os.getgid()).gr_name
        lines = [
            f"base_dir = {root / 'run'}",
            f"state_dir = {root / 'state'}",
            f"log_path = {root / 'dovecot.log'}",
            "listen = 127.0.0.1",
            "protocols = imap",
            "auth_mechanisms = plain login",
            "auth_failure_delay = 0",  # a wrong-password test need not wait 2 s
            f"mail_location = maildir:{root / 'mail'}/%u",
            f"first_valid_uid = {self._mail_uid}",
            f"first_valid_gid = {self._mail_gid}",
            "passdb {",
            "  driver = passwd-file",
            f"  args = scheme=PLAIN username_format=%u {root / 'passwd'}",
            "}",
            "userdb {",
            "  driver = static",
            f"  args = uid={self._mail_uid} gid={self._mail_gid} home={root / 'mail'}/%u",
            "}",
            "service imap-login {",
            *(["  chroot ="] if me else []),
            "  inet_listener imap {",
            f"    port = {0 if self.tls else self.port}",
            "  }",
            "  inet_listener imaps {",
            f"    port = {self.port if self.tls else 0}",
            "    ssl = yes",
            "  }",
            "}",
        ]
        if self.tls:
            cert, key = self._tls_files
            lines += ["ssl = required", f"ssl_cert = <{cert}", f"ssl_key = <{key}"]
        else:
            # Plain IMAP on loopback only: the poller's ssl=false path.
            lines += ["ssl = no", "disable_plaintext_auth = no"]
        if me:
            lines += [
                f"default_internal_user = {me}",
                f"default_login_user = {me}",
                f"default_internal_group = {my_group}",
                "service anvil {\n  chroot =\n}",
                f"service auth-worker {{\n  user = {me}\n}}",
            ]
        (root / "dovecot.conf").write_text("\n".join(lines) + "\n")

    # -- process -------------------------------------------------------------------------

    def start(self) -> None:
        """Start Dovecot and wait until its port accepts connections."""
        if self._process is not None:
            return
        output = (self.root / "stdout.log").open("ab")
        try:
            self._process = subprocess.Popen(
                [str(self.binary), "-F", "-c", str(self.root / "dovecot.conf")],
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: stop() ends all of Dovecot
            )
        finally:
            output.close()
        deadline = time.monotonic() + _START_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                raise RuntimeError(f"dovecot exited at start:\n{self.log_text()}")
            if self._greets():
                return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"dovecot did not listen within {_START_SECONDS} s:\n{self.log_text()}")

    def _greets(self) -> bool:
        """True once a client gets the IMAP greeting (through TLS when tls=True)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), 1.0) as raw:
                raw.settimeout(2.0)
                if self.ssl_context is None:
                    return raw.recv(64).startswith(b"* OK")
                with self.ssl_context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                    return tls.recv(64).startswith(b"* OK")
        except OSError:
            return False

    def stop(self) -> None:
        """SIGTERM to all of Dovecot, SIGKILL what lingers; mail and config stay for start().

        Signalling the whole process group matters: the master alone waits a second or
        more (six, just after start) for its children, which would make every test slow.
        """
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(_STOP_SECONDS)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log_text(self) -> str:
        parts = []
        for name in ("stdout.log", "dovecot.log"):
            path = self.root / name
            if path.exists():
                parts.append(path.read_text(errors="replace")[-4000:])
        return "\n".join(parts)

    def __enter__(self) -> Dovecot:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Dovecot:
        return await asyncio.to_thread(self.__enter__)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.close)

    # -- for the code under test ---------------------------------------------------------

    def imap_config(self, **overrides: Any) -> EmailImapConfig:
        """Settings for :class:`hub.channels.email.imap.ImapPoller` against this server."""
        values: dict[str, Any] = {
            "enabled": True,
            "host": "127.0.0.1",
            "port": self.port,
            "ssl": self.tls,
            "username": self.user,
            "password": self.password,
            "poll_seconds": 0.05,
            "timeout_seconds": 5.0,
        }
        values.update(overrides)
        return EmailImapConfig(**values)

    # -- stdlib imaplib helpers for the tests ---------------------------------------------

    @contextlib.contextmanager
    def _client(self) -> Any:
        client: imaplib.IMAP4
        if self.tls:
            client = imaplib.IMAP4_SSL("127.0.0.1", self.port, ssl_context=self.ssl_context)
        else:
            client = imaplib.IMAP4("127.0.0.1", self.port)
        try:
            client.login(self.user, self.password)
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.logout()

    def append(self, raw: bytes, folder: str = "INBOX", flags: str = "") -> int:
        """APPEND a message; returns its UID."""
        with self._client() as client:
            typ, data = client.append(folder, f"({flags})" if flags else None, None, raw)
            assert typ == "OK", data
            match = re.search(rb"APPENDUID \d+ (\d+)", data[0] or b"")
            assert match, data
            return int(match.group(1))

    def flags(self, folder: str = "INBOX") -> dict[int, set[str]]:
        """UID -> flags of every message in ``folder``."""
        with self._client() as client:
            typ, data = client.select(folder, readonly=True)
            assert typ == "OK", data
            typ, data = client.uid("FETCH", "1:*", "(FLAGS)")
            assert typ == "OK", data
        result: dict[int, set[str]] = {}
        for item in data:
            if not isinstance(item, bytes):
                continue
            uid = re.search(rb"UID (\d+)", item)
            flags = re.search(rb"FLAGS \(([^)]*)\)", item)
            if uid and flags:
                result[int(uid.group(1))] = set(flags.group(1).decode().split())
        return result

    def count(self, folder: str = "INBOX") -> int:
        """How many messages ``folder`` holds."""
        with self._client() as client:
            typ, data = client.select(folder, readonly=True)
            assert typ == "OK", data
            return int(data[0] or 0)
