"""Who is logged in: roles, logins slowed after wrong passwords, and sessions.

A login answers the same way, after the same argon2 work, whether the account is
unknown, inactive or the password wrong, so the login form tells an attacker
nothing about which usernames exist. Wrong passwords make the next try wait
(:mod:`hub.console.throttle`), per source address and per username, for unknown
usernames too; no account is ever locked, so nobody can lock the officers out.
The session cookie is 32 random bytes; only its SHA-256 is stored (like the API
tokens), and each session has its own CSRF token.
"""

from __future__ import annotations

import enum
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.console.console_deps import ConsoleContext
from hub.console.passwords import PasswordError, check_new_password
from hub.console.throttle import LoginThrottle, Throttled
from hub.coordination.ratelimit import RateLimiter
from hub.store import audit as audit_store
from hub.store import console_sessions as session_store
from hub.store import officers as officer_store
from hub.store.officers import OfficerRecord

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
"""Usernames are stored lower-case; a login matches them case-insensitively."""
_MAX_COOKIE_LENGTH = 100


class Role(enum.Enum):
    """What an officer may do; each role may do everything of the roles below it."""

    OFFICER = "officer"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def __lt__(self, other: Any) -> bool:
        if not isinstance(other, Role):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: Any) -> bool:
        if not isinstance(other, Role):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: Any) -> bool:
        if not isinstance(other, Role):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: Any) -> bool:
        if not isinstance(other, Role):
            return NotImplemented
        return self.rank >= other.rank


@dataclass(frozen=True, slots=True)
class Officer:
    """The logged-in officer as handlers and templates see them."""

    id: int
    username: str
    display_name: str
    role: Role
    agencies: tuple[str, ...]
    """Agency ids of the catalogue; empty means not tied to any agency."""

    @property
    def name(self) -> str:
        return self.display_name or self.username

    def sees_agency(self, agency: str) -> bool:
        """Supervisors and admins, and officers tied to no agency, see every agency."""
        return self.role >= Role.SUPERVISOR or not self.agencies or agency in self.agencies

    @classmethod
    def from_record(cls, record: OfficerRecord) -> Officer:
        return cls(
            id=record.id,
            username=record.username,
            display_name=record.display_name,
            role=Role(record.role),
            agencies=record.agencies,
        )


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    officer: Officer
    csrf_token: str
    """Every form and non-GET request of this session must carry it."""
    expires_at: datetime
    token_hash: str


@dataclass(frozen=True, slots=True)
class NewSession:
    session: ConsoleSession
    cookie: str
    """The cookie value; exists only here and in the browser, never in the database."""


def hash_cookie(cookie: str) -> str:
    return hashlib.sha256(cookie.encode("utf-8")).hexdigest()


def normalise_username(username: str) -> str:
    return username.strip().lower()


class ConsoleAuth:
    """Logins, their throttle, sessions and their audit events, over one ConsoleContext."""

    def __init__(self, ctx: ConsoleContext) -> None:
        self.ctx = ctx
        self.config = ctx.settings.console
        limiter = ctx.limiter if ctx.limiter is not None else RateLimiter.open({})
        self.throttle = LoginThrottle(limiter.storage, self.config.login_throttle, ctx.clock)

    async def login(
        self, username: str, password: str, *, remote: str | None
    ) -> NewSession | Throttled | None:
        """A new session for the right password of an active account; None when refused;
        :class:`Throttled` when this try must wait (no password checked, nothing counted)."""
        name = normalise_username(username)
        address = remote or ""
        throttled = await self.throttle.check(name, address)
        if throttled is not None:
            await self._throttled(throttled, name, remote)
            return throttled
        found = None
        if USERNAME.fullmatch(name):
            async with self.ctx.db.engine.connect() as conn:
                found = await officer_store.credentials(conn, name)
        now = self.ctx.clock()
        where = {"remote": remote} if remote else {}
        if found is None or not found[0].active:
            await self.ctx.passwords.waste_time(password)
            reason = "unknown_user" if found is None else "inactive"
            officer_id = None if found is None else found[0].id
            failures = await self.throttle.failed(name, address)
            detail = {"reason": reason, "failures": failures, **where}
            await self._audit(officer_id, "login_failed", detail, now)
            return None
        record, password_hash = found
        if not await self.ctx.passwords.verify_async(password_hash, password):
            await self._failed(record, now, where, address)
            return None
        await self.throttle.succeeded(name, address)
        new_hash = None
        if self.ctx.passwords.needs_rehash(password_hash):
            new_hash = await self.ctx.passwords.hash_async(password)
        return await self._open_session(record, now, where, new_hash)

    async def _failed(
        self, record: OfficerRecord, now: datetime, where: dict[str, Any], address: str
    ) -> None:
        failures = await self.throttle.failed(record.username, address)
        detail = {"reason": "wrong_password", "failures": failures, **where}
        await self._audit(record.id, "login_failed", detail, now)

    async def _throttled(self, throttled: Throttled, name: str, remote: str | None) -> None:
        """Audited once per wait (the first refused try), so a hammering client cannot
        fill the audit log; the officer is named when the username is one."""
        if not throttled.first:
            return
        officer_id = None
        if USERNAME.fullmatch(name):
            async with self.ctx.db.engine.connect() as conn:
                found = await officer_store.credentials(conn, name)
            officer_id = found[0].id if found is not None else None
        detail: dict[str, Any] = {"scope": throttled.scope, "retry_after": throttled.seconds}
        if remote:
            detail["remote"] = remote
        await self._audit(officer_id, "login_throttled", detail, self.ctx.clock())

    async def _open_session(
        self,
        record: OfficerRecord,
        now: datetime,
        where: dict[str, Any],
        new_hash: str | None,
    ) -> NewSession:
        cookie = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        expires = now + timedelta(hours=self.config.session_hours)
        async with self.ctx.db.begin() as conn:
            await session_store.delete_expired(conn, now)
            stored = await session_store.insert(
                conn,
                token_hash=hash_cookie(cookie),
                officer_id=record.id,
                csrf_token=csrf,
                created_at=now,
                expires_at=expires,
            )
            await officer_store.record_login(conn, record.id, now)
            if new_hash is not None:
                await officer_store.set_password(conn, record.id, new_hash)
            await self._audit_in(conn, record.id, "login", where, now)
        session = ConsoleSession(
            officer=Officer.from_record(record),
            csrf_token=stored.csrf_token,
            expires_at=stored.expires_at,
            token_hash=stored.token_hash,
        )
        return NewSession(session=session, cookie=cookie)

    async def session(self, cookie: str) -> ConsoleSession | None:
        """The live session this cookie opens, with its officer as they are now."""
        if not cookie or len(cookie) > _MAX_COOKIE_LENGTH:
            return None
        async with self.ctx.db.engine.connect() as conn:
            found = await session_store.valid(conn, hash_cookie(cookie), self.ctx.clock())
        if found is None:
            return None
        stored, record = found
        return ConsoleSession(
            officer=Officer.from_record(record),
            csrf_token=stored.csrf_token,
            expires_at=stored.expires_at,
            token_hash=stored.token_hash,
        )

    async def change_password(
        self, session: ConsoleSession, current: str, new: str, *, remote: str | None
    ) -> str | Throttled | None:
        """The officer's own new password; None when done, else why not (``wrong_password``,
        ``weak``, ``same``, or :class:`Throttled`). A wrong current password counts as a
        failed login and waits like one, so a session left open on a counter PC cannot
        be used to guess it; the officer's other sessions end, this one stays."""
        now = self.ctx.clock()
        where = {"remote": remote} if remote else {}
        address = remote or ""
        throttled = await self.throttle.check(session.officer.username, address)
        if throttled is not None:
            await self._throttled(throttled, session.officer.username, remote)
            return throttled
        async with self.ctx.db.engine.connect() as conn:
            found = await officer_store.credentials(conn, session.officer.username)
        if found is None:
            return "wrong_password"
        record, password_hash = found
        if not await self.ctx.passwords.verify_async(password_hash, current):
            await self._failed(record, now, where, address)
            return "wrong_password"
        await self.throttle.succeeded(record.username, address)
        try:
            check_new_password(new)
        except PasswordError:
            return "weak"
        if new == current:
            return "same"
        new_hash = await self.ctx.passwords.hash_async(new)
        async with self.ctx.db.begin() as conn:
            await officer_store.set_password(conn, record.id, new_hash)
            ended = await session_store.delete_for_officer(conn, record.id, keep=session.token_hash)
            detail = {"by": "officer", "sessions_ended": ended, **where}
            await self._audit_in(conn, record.id, "password_changed", detail, now, "officer")
        return None

    async def logout(self, session: ConsoleSession, *, remote: str | None) -> None:
        now = self.ctx.clock()
        async with self.ctx.db.begin() as conn:
            await session_store.delete(conn, session.token_hash)
            detail = {"remote": remote} if remote else {}
            await self._audit_in(conn, session.officer.id, "logout", detail, now)

    async def _audit(
        self, officer_id: int | None, action: str, detail: dict[str, Any], now: datetime
    ) -> None:
        async with self.ctx.db.begin() as conn:
            await self._audit_in(conn, officer_id, action, detail, now)

    async def _audit_in(
        self,
        conn: AsyncConnection,
        officer_id: int | None,
        action: str,
        detail: dict[str, Any],
        now: datetime,
        target_kind: str = "",
    ) -> None:
        target = "" if not target_kind or officer_id is None else str(officer_id)
        await audit_store.record(
            conn,
            at=now,
            officer_id=officer_id,
            action=action,
            target_kind=target_kind,
            target_id=target,
            detail=detail,
        )


AUTH: web.AppKey[ConsoleAuth] = web.AppKey("console_auth", ConsoleAuth)
