"""Officer passwords: argon2id hashes (argon2-cffi), checked off the event loop.

argon2 is slow on purpose (tens of milliseconds, 64 MiB) so a stolen hash cannot be
guessed quickly; that cost runs in a worker thread so one login never stalls every
web chat and webhook the process serves.
"""

from __future__ import annotations

import asyncio
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 10
MAX_LENGTH = 1024
"""Longer input is refused before hashing: a megabyte "password" is only a way to burn CPU."""


class PasswordError(ValueError):
    """A password the hub will not accept, worded for the person choosing it."""


def check_new_password(password: str) -> None:
    """Raise PasswordError unless ``password`` may become an officer's password."""
    if len(password) < MIN_LENGTH:
        raise PasswordError(f"the password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordError(f"the password may have at most {MAX_LENGTH} characters")
    if password != password.strip():
        raise PasswordError("the password may not start or end with a space")


class Passwords:
    """Hashing and verifying; one per console or command, never a module-level hasher."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or PasswordHasher()
        self._dummy: str | None = None

    def hash(self, password: str) -> str:
        """The argon2id hash to store; never store or log ``password`` itself.

        No policy check here (a rehash at login keeps an older, shorter password
        working): callers setting a new password call :func:`check_new_password` first.
        """
        return self.hasher.hash(password)

    async def hash_async(self, password: str) -> str:
        return await asyncio.to_thread(self.hash, password)

    def verify(self, password_hash: str, password: str) -> bool:
        if len(password) > MAX_LENGTH:
            return False
        try:
            return self.hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    async def verify_async(self, password_hash: str, password: str) -> bool:
        return await asyncio.to_thread(self.verify, password_hash, password)

    async def waste_time(self, password: str) -> None:
        """Verify against a hash nobody has, so an unknown or locked account answers in
        the same time as a wrong password and timing reveals nothing."""
        if self._dummy is None:
            self._dummy = await asyncio.to_thread(
                self.hasher.hash, secrets.token_urlsafe(MIN_LENGTH * 2)
            )
        await self.verify_async(self._dummy, password[:MAX_LENGTH])

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with weaker parameters than the current ones."""
        try:
            return self.hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True
