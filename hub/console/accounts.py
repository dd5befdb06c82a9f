"""Managing officer accounts: create, change password, unlock, deactivate, list.

Used by ``omnihub officer``; every change is audited (with no officer, ``by: cli``),
so the log shows who got which role and when. A new password or a deactivation
ends the account's open sessions at once.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.console.officer_login import USERNAME, Role, normalise_username
from hub.console.passwords import PasswordError, Passwords, check_new_password
from hub.store import Database
from hub.store import audit as audit_store
from hub.store import console_sessions as session_store
from hub.store import officers as officer_store
from hub.store.officers import OfficerRecord


class AccountError(ValueError):
    """An account change that cannot be made, worded for the operator."""


class OfficerAccounts:
    def __init__(
        self,
        db: Database,
        passwords: Passwords,
        clock: Callable[[], datetime],
        *,
        by: str = "cli",
    ) -> None:
        """``by`` names where changes come from, in the audit log."""
        self.db = db
        self.passwords = passwords
        self.clock = clock
        self.by = by

    async def add(
        self,
        username: str,
        *,
        role: str,
        password: str,
        display_name: str = "",
        agencies: Iterable[str] = (),
        known_agencies: Collection[str],
    ) -> OfficerRecord:
        name = self._username(username)
        try:
            role_value = Role(role).value
        except ValueError:
            roles = ", ".join(r.value for r in Role)
            raise AccountError(f"unknown role {role!r}: use one of {roles}") from None
        chosen = sorted(set(agencies))
        unknown = [a for a in chosen if a not in known_agencies]
        if unknown:
            known = ", ".join(sorted(known_agencies))
            raise AccountError(f"unknown agency {', '.join(unknown)!s}: the catalogue has {known}")
        if len(display_name) > 200:
            raise AccountError("the display name may have at most 200 characters")
        password_hash = await self._hash(password)
        now = self.clock()
        try:
            async with self.db.begin() as conn:
                record = await officer_store.insert(
                    conn,
                    username=name,
                    display_name=display_name.strip(),
                    password_hash=password_hash,
                    role=role_value,
                    agencies=chosen,
                    at=now,
                )
                detail = {"role": role_value, "agencies": chosen}
                await self._audit(conn, "officer_created", record.id, detail)
        except IntegrityError:
            raise AccountError(f"an officer named {name!r} exists already") from None
        return record

    async def set_password(self, username: str, password: str) -> OfficerRecord:
        record = await self._existing(username)
        password_hash = await self._hash(password)
        async with self.db.begin() as conn:
            await officer_store.set_password(conn, record.id, password_hash)
            ended = await session_store.delete_for_officer(conn, record.id)
            await self._audit(conn, "password_changed", record.id, {"sessions_ended": ended})
        return record

    async def unlock(self, username: str) -> OfficerRecord:
        record = await self._existing(username)
        async with self.db.begin() as conn:
            await officer_store.unlock(conn, record.id)
            await self._audit(conn, "officer_unlocked", record.id, {})
        return record

    async def deactivate(self, username: str) -> OfficerRecord:
        record = await self._existing(username)
        async with self.db.begin() as conn:
            if not await officer_store.deactivate(conn, record.id):
                raise AccountError(f"officer {record.username!r} is already inactive")
            ended = await session_store.delete_for_officer(conn, record.id)
            await self._audit(conn, "officer_deactivated", record.id, {"sessions_ended": ended})
        return record

    async def list_all(self) -> list[OfficerRecord]:
        async with self.db.engine.connect() as conn:
            return await officer_store.all_officers(conn)

    @staticmethod
    def _username(username: str) -> str:
        name = normalise_username(username)
        if not USERNAME.fullmatch(name):
            raise AccountError(
                f"username {username!r}: use 1-64 lower-case letters, digits, '.', '_' or '-'"
            )
        return name

    async def _existing(self, username: str) -> OfficerRecord:
        name = self._username(username)
        async with self.db.engine.connect() as conn:
            record = await officer_store.by_username(conn, name)
        if record is None:
            raise AccountError(f"no officer named {name!r}")
        return record

    async def _hash(self, password: str) -> str:
        try:
            check_new_password(password)
        except PasswordError as exc:
            raise AccountError(str(exc)) from None
        return await self.passwords.hash_async(password)

    async def _audit(
        self, conn: AsyncConnection, action: str, officer_id: int, detail: dict[str, Any]
    ) -> None:
        await audit_store.record(
            conn,
            at=self.clock(),
            officer_id=None,
            action=action,
            target_kind="officer",
            target_id=officer_id,
            detail={"by": self.by, **detail},
        )
