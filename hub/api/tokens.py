"""API tokens: made once, shown once, kept only as a hash.

A token is ``omh_`` and 32 random bytes (``secrets.token_urlsafe``), about 256 bits
of entropy. Against a secret that cannot be guessed, a fast SHA-256 is as good as a
slow password hash (argon2 and friends exist to stretch weak human passwords), and it
lets a request find its token by an index lookup on the hash: nothing compares the
secret character by character, so the check takes the same time whatever was sent.
The ``omh_`` prefix makes a leaked token recognisable to secret scanners.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from hub.api.scopes import Scope, ScopeError
from hub.store import api_tokens as store
from hub.store.api_tokens import ApiTokenRecord
from hub.store.database import Database

PREFIX = "omh_"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_MAX_TOKEN_LENGTH = 200
TOUCH_EVERY = timedelta(minutes=1)
"""``last_used_at`` is written at most this often per token."""


class TokenError(ValueError):
    """A token command that cannot be done (bad or taken name, nothing to revoke)."""


@dataclass(frozen=True, slots=True)
class NewToken:
    record: ApiTokenRecord
    token: str
    """The secret itself: exists only here, never in the database."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenStore:
    """Creating, checking, listing and revoking the API's bearer tokens."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        """``clock`` gives aware UTC datetimes (``hub.model.utcnow`` in the hub)."""
        self.db = db
        self.clock = clock

    async def create(self, name: str, scopes: Collection[Scope]) -> NewToken:
        """A token that may do ``scopes`` (at least one: no token may do everything by default)."""
        if not scopes:
            raise ScopeError("a token needs at least one scope")
        if not _NAME.fullmatch(name):
            raise TokenError(
                f"token name {name!r}: use 1-100 letters, digits, '.', '_' or '-' "
                "(e.g. queue-display)"
            )
        token = PREFIX + secrets.token_urlsafe(32)
        try:
            async with self.db.begin() as conn:
                record = await store.insert(
                    conn, name, hash_token(token), self.clock(), [Scope(s).value for s in scopes]
                )
        except IntegrityError:
            raise TokenError(
                f"a token named {name!r} exists already (revoked ones keep their name)"
            ) from None
        return NewToken(record, token)

    async def verify(self, token: str) -> ApiTokenRecord | None:
        """The active token this is, or None; notes the use at most once a minute."""
        if not token.startswith(PREFIX) or len(token) > _MAX_TOKEN_LENGTH:
            return None
        async with self.db.engine.connect() as conn:
            record = await store.by_hash(conn, hash_token(token))
        if record is None or not record.active:
            return None
        now = self.clock()
        if record.last_used_at is None or now - record.last_used_at >= TOUCH_EVERY:
            async with self.db.begin() as conn:
                await store.touch(conn, record.id, now, TOUCH_EVERY)
        return record

    async def list_all(self) -> list[ApiTokenRecord]:
        async with self.db.engine.connect() as conn:
            return await store.all_tokens(conn)

    async def revoke(self, name: str) -> None:
        async with self.db.begin() as conn:
            if await store.revoke(conn, name, self.clock()):
                return
            known = {r.name: r for r in await store.all_tokens(conn)}
        if name in known:
            raise TokenError(f"token {name!r} is already revoked")
        raise TokenError(f"no token named {name!r}")
