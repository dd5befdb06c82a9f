"""Inbound mail from an IMAP mailbox, for a mall that keeps its existing mail provider.

Every poll takes the waiting mail of ``config.folder``, oldest UID first: with
``config.move_to`` every mail still there, without it the unseen ones. A message
is fetched with ``BODY.PEEK[]`` (which leaves it unseen), handed to ``on_mail``,
and only once that returned is it flagged ``\\Seen`` (and moved to
``config.move_to``). If ``on_mail`` fails, the message stays and the round ends,
so it is offered again next poll: a crash or restart never loses a mail, and one
offered twice (two hub processes polling, a move cut short) is deduplicated by the
hub on its Message-ID.

aioimaplib has no type hints; :class:`_Session` is the narrow typed layer over it
and turns every failure (refused command, lost connection, timeout, TLS) into
:class:`ImapError`, after which the connection is dropped and opened afresh.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import inspect
import logging
import re
import ssl
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

import aioimaplib  # type: ignore[import-untyped]

from hub.channels.email.listen import LibraryLogGuard, MailDeferred, OnMail
from hub.config import EmailImapConfig

log = logging.getLogger(__name__)

T = TypeVar("T")
Lines = list[bytes | bytearray]
"""A reply as aioimaplib gives it: response lines (bytes) and message literals (bytearray)."""

_MAX_BACKOFF_SECONDS = 300.0
_STOP_GRACE_SECONDS = 5.0
"""How long stop() lets a mail being stored finish before the round is cancelled."""
_LOGOUT_SECONDS = 2.0

_SEARCH_LINE = re.compile(rb"\s*(?:\d+(?:\s+\d+)*)?\s*")
_FETCH_LITERAL = re.compile(rb"\d+ FETCH \(.*BODY\[\] \{(\d+)\}")
_UID = re.compile(rb"UID (\d+)")


class ImapError(Exception):
    """The mailbox could not be read: refused command, lost connection, timeout, TLS.

    The message names the step and the kind of failure, never an address or a secret.
    """


def _describe(exc: BaseException) -> str:
    """A loggable reason: the exception type plus, for TLS, OpenSSL's short reason."""
    name = type(exc).__name__
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"{name}: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return f"{name}: {exc.reason}"
    if isinstance(exc, OSError) and exc.strerror:
        return f"{name}: {exc.strerror}"
    return name


def _quote(value: str) -> str:
    """An IMAP quoted string (RFC 3501 section 9)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _mailbox(name: str) -> str:
    """A folder name as IMAP wants it: modified UTF-7 (RFC 3501 5.1.3), quoted."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            data = base64.b64encode("".join(pending).encode("utf-16-be")).decode("ascii")
            out.append("&" + data.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return _quote("".join(out))


def parse_search(lines: Sequence[bytes | bytearray]) -> list[int]:
    """UIDs from the untagged ``SEARCH`` lines aioimaplib collected, ascending."""
    uids: set[int] = set()
    for line in lines[:-1]:  # the last line is the tagged completion text
        if isinstance(line, bytes) and _SEARCH_LINE.fullmatch(line):
            uids.update(int(token) for token in line.split())
    return sorted(uids)


def parse_fetch_body(lines: Sequence[bytes | bytearray], uid: int) -> bytes | None:
    """The ``BODY[]`` literal of message ``uid`` from a ``UID FETCH`` reply, if any.

    aioimaplib gives the untagged line announcing the literal (bytes, ending in
    ``{size}``), then the literal itself as a *bytearray*, then the rest of the
    response (``UID n)`` may come after the literal). None when the message is gone.
    """
    for index, line in enumerate(lines[:-1]):
        if not isinstance(line, bytes):  # bytearray is a literal, not a response line
            continue
        match = _FETCH_LITERAL.match(line)
        if match is None:
            continue
        literal = lines[index + 1]
        if not isinstance(literal, bytearray) or len(literal) != int(match.group(1)):
            continue
        rest = lines[index + 2] if index + 2 < len(lines) else b""
        tail = rest if isinstance(rest, bytes) else b""
        uid_match = _UID.search(line) or _UID.search(tail)
        if uid_match is not None and int(uid_match.group(1)) != uid:
            continue
        return bytes(literal)
    return None


class _Session:
    """One logged-in IMAP connection with ``folder`` selected; typed layer over aioimaplib.

    Every call races the server's answer against the connection being lost and the
    timeout, because aioimaplib leaves a command waiting forever when the server
    goes away mid-command.
    """

    def __init__(
        self, config: EmailImapConfig, ssl_context: ssl.SSLContext | None, guard: LibraryLogGuard
    ) -> None:
        self._config = config
        self._timeout = config.timeout_seconds
        self._lost = asyncio.Event()
        self._guard = guard
        context: ssl.SSLContext | None = None
        if config.ssl:
            context = ssl_context if ssl_context is not None else ssl.create_default_context()
        guard.attach()
        # IMAP4 with an ssl_context is what IMAP4_SSL does, but IMAP4_SSL drops conn_lost_cb.
        self._client: Any = aioimaplib.IMAP4(
            host=config.host,
            port=config.port,
            timeout=config.timeout_seconds,
            conn_lost_cb=self._connection_lost,
            ssl_context=context,
        )
        self._closed = False

    def _connection_lost(self, exc: Exception | None) -> None:
        self._lost.set()

    @property
    def alive(self) -> bool:
        return not self._closed and not self._lost.is_set()

    async def _call(self, what: str, awaitable: Awaitable[T], limit: float | None) -> T:
        if not self.alive:
            if inspect.iscoroutine(awaitable):
                awaitable.close()  # never started: no "never awaited" warning
            raise ImapError(f"connection lost before {what}")
        task = asyncio.ensure_future(awaitable)
        lost = asyncio.ensure_future(self._lost.wait())
        try:
            done, _ = await asyncio.wait(
                {task, lost}, timeout=limit, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            lost.cancel()
            if not task.done():
                task.cancel()
        if task in done and not task.cancelled():
            try:
                return task.result()
            except Exception as exc:
                raise ImapError(f"{what} failed: {_describe(exc)}") from exc
        if self._lost.is_set():
            raise ImapError(f"connection lost during {what}")
        if limit is None:
            raise ImapError(f"{what} was cancelled")
        raise ImapError(f"no answer to {what} within {limit:g} s")

    async def _command(
        self, what: str, awaitable: Awaitable[Any], *, own_timer: bool = False
    ) -> tuple[str, Lines]:
        """Result (``OK``/``NO``/``BAD``) and lines; ``own_timer``: aioimaplib times it."""
        response = await self._call(what, awaitable, None if own_timer else self._timeout)
        return str(response.result), list(response.lines)

    async def _ok(self, what: str, awaitable: Awaitable[Any]) -> Lines:
        result, lines = await self._command(what, awaitable)
        if result != "OK":
            raise ImapError(f"{what} refused ({result})")
        return lines

    def has_capability(self, name: str) -> bool:
        return bool(self._client.has_capability(name))

    async def open(self) -> None:
        """Greeting, LOGIN, CAPABILITY (the post-login list has MOVE/UIDPLUS), SELECT."""
        config = self._config
        await self._call("connect", self._client.wait_hello_from_server(), self._timeout)
        await self._ok("LOGIN", self._client.login(_quote(config.username), config.password))
        await self._call("CAPABILITY", self._client.protocol.capability(), self._timeout)
        if config.move_to:
            await self._create(config.move_to)
        await self._ok("SELECT", self._client.select(_mailbox(config.folder)))

    async def _create(self, folder: str) -> None:
        name = _mailbox(folder)
        result, lines = await self._command("CREATE", self._client.create(name))
        if result != "OK" and not any(b"[ALREADYEXISTS]" in bytes(line) for line in lines):
            raise ImapError(f"CREATE of the move_to folder refused ({result})")
        if result == "OK":
            # Staff reading the mailbox in a mail client should see the new folder.
            await self._command("SUBSCRIBE", self._client.subscribe(name))

    async def waiting(self) -> list[int]:
        """UIDs of the mail still to take. With ``move_to`` that is every mail left in the
        folder (whatever took it moved it away), so a mail a person opened first, or one
        flagged but not moved when a poll broke off, is still taken; without it, the
        unseen mail."""
        # A server announces new mail (EXISTS) only after a command and SEARCH must not
        # see mail not yet announced, so on a reused connection NOOP comes first.
        await self._ok("NOOP", self._client.noop())
        criteria = ("UNDELETED",) if self._config.move_to else ("UNSEEN", "UNDELETED")
        lines = await self._ok("UID SEARCH", self._client.uid_search(*criteria, charset=None))
        return parse_search(lines)

    async def fetch(self, uid: int) -> bytes | None:
        # aioimaplib times FETCH out on inactivity, so a big mail on a slow link still arrives.
        result, lines = await self._command(
            "UID FETCH", self._client.uid("FETCH", str(uid), "(BODY.PEEK[])"), own_timer=True
        )
        if result != "OK":
            raise ImapError(f"UID FETCH refused ({result})")
        return parse_fetch_body(lines, uid)

    async def mark_seen(self, uid: int) -> None:
        await self._ok(
            "UID STORE", self._client.uid("STORE", str(uid), "+FLAGS.SILENT", r"(\Seen)")
        )

    async def move(self, uid: int, folder: str) -> None:
        name = _mailbox(folder)
        if self.has_capability("MOVE"):
            await self._ok("UID MOVE", self._client.uid("MOVE", str(uid), name))
            return
        await self._ok("UID COPY", self._client.uid("COPY", str(uid), name))
        await self._ok(
            "UID STORE", self._client.uid("STORE", str(uid), "+FLAGS.SILENT", r"(\Deleted)")
        )
        if self.has_capability("UIDPLUS"):
            await self._ok("UID EXPUNGE", self._client.uid("EXPUNGE", str(uid)))
        else:
            await self._ok("EXPUNGE", self._client.expunge())

    async def close(self, *, logout: bool) -> None:
        """LOGOUT (briefly) if asked and still connected, then drop the connection."""
        if self._closed:
            return
        try:
            if logout and self.alive:
                with contextlib.suppress(ImapError):
                    await self._call(
                        "LOGOUT", self._client.logout(), min(self._timeout, _LOGOUT_SECONDS)
                    )
        finally:
            self._closed = True
            protocol = self._client.protocol
            if protocol is not None and protocol.transport is not None:
                protocol.transport.close()
            self._collect_background_tasks()
            self._guard.detach()

    def _collect_background_tasks(self) -> None:
        """Retrieve aioimaplib's own task results so none is reported as never retrieved."""
        tasks: list[asyncio.Future[Any]] = [self._client._client_task]
        tasks += list(self._client.tasks) + list(self._client.protocol.tasks)
        for task in tasks:
            if task.done():
                if not task.cancelled():
                    task.exception()
            else:
                task.cancel()


RoundLock = Callable[[], AbstractAsyncContextManager[None]]
"""Opens a lock shared by every hub process that polls the mailbox; entering it raises
when another process holds it."""


class ImapPoller:
    """Polls ``config.folder`` of one IMAP mailbox and hands each waiting mail to ``on_mail``."""

    def __init__(
        self,
        config: EmailImapConfig,
        on_mail: OnMail,
        *,
        ssl_context: ssl.SSLContext | None = None,
        round_lock: RoundLock | None = None,
    ) -> None:
        """``round_lock``: with several hub processes, one polls at a time; two taking
        the same mail at once would answer it once (the hub dedupes) but could leave
        two copies of it in ``move_to``, since a server's MOVE is not atomic across
        sessions."""
        self._config = config
        self._on_mail = on_mail
        self._ssl_context = ssl_context
        self._round_lock = round_lock
        self._session: _Session | None = None
        self._lock = asyncio.Lock()
        self._stopping = asyncio.Event()
        self._round: asyncio.Task[int] | None = None
        self._log_guard = LibraryLogGuard("aioimaplib.aioimaplib")

    async def _connected(self) -> _Session:
        if self._session is not None and self._session.alive:
            return self._session
        await self._drop(logout=False)
        session = _Session(self._config, self._ssl_context, self._log_guard)
        try:
            await session.open()
        except BaseException:
            await session.close(logout=False)
            raise
        self._session = session
        return session

    async def _drop(self, *, logout: bool) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close(logout=logout)

    async def poll_once(self) -> int:
        """Take every unseen mail in the folder, oldest first; return how many were taken.

        Raises :class:`ImapError` when the mailbox cannot be read (the connection is
        then dropped; the next call reconnects). A failing ``on_mail`` is not an
        error here: that mail stays unseen and the round ends early.
        """
        async with self._lock:
            if self._stopping.is_set():
                return 0  # stopped for good: no new connection
            try:
                session = await self._connected()
                return await self._take_unseen(session)
            except BaseException:
                # Whatever broke (server, network, cancellation), the next call starts afresh.
                await self._drop(logout=False)
                raise

    async def check(self) -> int:
        """Log in, select the folder and count the mail waiting there, taking none: what
        ``omnihub email check`` tells whoever sets the mailbox up. Raises ImapError."""
        async with self._lock:
            try:
                session = await self._connected()
                return len(await session.waiting())
            finally:
                await self._drop(logout=True)

    async def _take_unseen(self, session: _Session) -> int:
        taken = 0
        for uid in await session.waiting():
            if self._stopping.is_set():
                break
            raw = await session.fetch(uid)
            if raw is None:
                continue  # expunged by someone else since the search
            try:
                await self._on_mail(raw, None)
            except MailDeferred:
                log.info("email: the hub deferred an IMAP mail; it stays unseen for the next poll")
                break
            except Exception as exc:
                log.error(
                    "email: storing an IMAP mail failed (%s); it stays unseen for the next poll",
                    type(exc).__name__,
                )
                break
            await session.mark_seen(uid)
            if self._config.move_to:
                await session.move(uid, self._config.move_to)
            taken += 1
        if taken:
            log.info("email: took %d mail(s) from the IMAP mailbox", taken)
        return taken

    async def _locked_round(self) -> int:
        """One poll under the shared lock; 0 when another process is polling now."""
        if self._round_lock is None:
            return await self.poll_once()
        async with contextlib.AsyncExitStack() as stack:
            try:
                await stack.enter_async_context(self._round_lock())
            except Exception:
                return 0  # another hub process holds the mailbox this round
            return await self.poll_once()
        raise AssertionError("unreachable")  # pragma: no cover - mypy: the stack may swallow

    async def run(self) -> None:
        """Poll every ``poll_seconds`` until :meth:`stop`; errors back off, never end the loop."""
        poll = self._config.poll_seconds
        failures = 0
        try:
            while not self._stopping.is_set():
                delay = poll
                self._round = asyncio.ensure_future(self._locked_round())
                try:
                    await asyncio.wait({self._round})
                finally:
                    if not self._round.done():
                        self._round.cancel()  # run() itself was cancelled
                if self._round.cancelled():
                    continue  # stop() cut the round short
                error = self._round.exception()
                if error is None:
                    failures = 0
                elif isinstance(error, ImapError):
                    failures += 1
                    delay = min(poll * 2 ** (failures - 1), max(poll, _MAX_BACKOFF_SECONDS))
                    log.warning(
                        "email: IMAP poll failed (%s); attempt %d, retrying in %.1f s",
                        error,
                        failures,
                        delay,
                    )
                else:
                    failures += 1
                    delay = min(poll * 2 ** (failures - 1), max(poll, _MAX_BACKOFF_SECONDS))
                    log.error(
                        "email: IMAP poll crashed (%s); retrying in %.1f s",
                        type(error).__name__,
                        delay,
                    )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)
        finally:
            self._round = None
            async with self._lock:
                await self._drop(logout=True)

    async def stop(self) -> None:
        """End :meth:`run` (a mail being stored may finish first) and LOG OUT; idempotent."""
        self._stopping.set()
        current = self._round
        if current is not None and not current.done():
            done, _ = await asyncio.wait({current}, timeout=_STOP_GRACE_SECONDS)
            if not done:
                current.cancel()
                await asyncio.wait({current})
        async with self._lock:
            await self._drop(logout=True)


__all__ = ["ImapError", "ImapPoller", "MailDeferred", "OnMail"]
