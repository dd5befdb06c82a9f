"""Who comes to the counter: the applicant of a booking, and the one a citizen lets us keep.

A booking names its applicant (the person who will stand at the counter, the citizen
or someone they book for) so the counter can find the booking by the NIK on the KTP
at check-in. The name is kept as written; the NIK only as ciphertext
(:class:`hub.security.vault.NikVault`) in the field made for it, and shown masked
(``5103••••••••0001``) everywhere but where a role needs it. A citizen's own applicant
may be remembered for their next booking, only after they agreed to it, and forgotten
when they ask.

Finding bookings by NIK opens the stored ciphertexts one by one (Fernet gives a
different ciphertext each time, so there is nothing to look up by): only over a
bounded set, a day's bookings at the counter or one contact's bookings in a chat.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from hub.catalogue import Service
from hub.model import utcnow
from hub.pii import NIK_UNREADABLE
from hub.security.vault import NikVault, SealedNikError
from hub.store import contacts
from hub.store.database import Database

MAX_NAME = 200
"""Characters kept of an applicant's name (the column's size)."""

_IDENTITY_WORDS = re.compile(r"\b(?:KTP|NIK|KK|Kartu Keluarga)\b")


def needs_nik(service: Service) -> bool:
    """Whether the counter asks for the applicant's identity: the service's requirements
    name a KTP, NIK or KK (nearly all do; an information desk does not)."""
    return any(_IDENTITY_WORDS.search(r) for r in service.requirements)


@dataclass(frozen=True, slots=True)
class Applicant:
    """The person a booking is for: a name and, sealed, their NIK (None when not asked)."""

    name: str
    nik: str | None = None
    """Ciphertext (hub.security.vault), never the NIK in clear."""


class HasApplicant(Protocol):
    @property
    def applicant_nik(self) -> str | None: ...


T = TypeVar("T", bound=HasApplicant)


class Applicants:
    """The NIKs of applicants: sealed, masked, matched, and the one a contact keeps."""

    def __init__(
        self, db: Database, vault: NikVault | None, clock: Callable[[], datetime] = utcnow
    ) -> None:
        """Without ``vault`` (unit tests of other parts) no NIK can be kept or matched."""
        self.db = db
        self.vault = vault
        self.clock = clock

    def seal(self, nik: str) -> str:
        """The NIK (in clear, any spelling) as ciphertext for a booking's field."""
        if self.vault is None:
            raise ValueError("no NIK vault: an applicant's NIK cannot be kept")
        return self.vault.encrypt(nik)

    def open(self, sealed: str) -> str | None:
        """The NIK in clear, for a check or a comparison in memory only; None if unreadable."""
        if self.vault is None:
            return None
        try:
            return self.vault.decrypt(sealed)
        except SealedNikError:
            return None

    def masked(self, sealed: str | None) -> str | None:
        """``5103••••••••0001`` of a sealed NIK; None when there is none."""
        if not sealed:
            return None
        if self.vault is None:
            return NIK_UNREADABLE
        try:
            return self.vault.mask(sealed)
        except SealedNikError:
            return NIK_UNREADABLE

    def matching(self, items: Iterable[T], nik: str) -> list[T]:
        """Those of ``items`` whose applicant NIK is ``nik`` (in clear, any spelling)."""
        try:
            wanted = NikVault.normalise(nik)
        except ValueError:
            return []
        return [i for i in items if i.applicant_nik and self.open(i.applicant_nik) == wanted]

    # --- the applicant a contact keeps ------------------------------------------------------

    async def saved(self, contact_id: int) -> Applicant | None:
        """The citizen's own applicant, if they let us keep it and it still opens."""
        async with self.db.engine.connect() as conn:
            found = await contacts.saved_applicant(conn, contact_id)
        if found is None or self.open(found.nik) is None:
            return None
        return Applicant(found.name, found.nik)

    async def save(self, contact_id: int, applicant: Applicant) -> None:
        """Remember ``applicant`` as the citizen's own (they said yes to it)."""
        if not applicant.nik:
            raise ValueError("only an applicant with a NIK is remembered")
        async with self.db.begin() as conn:
            await contacts.save_applicant(
                conn, contact_id, applicant.name[:MAX_NAME], applicant.nik, self.clock()
            )

    async def forget(self, contact_id: int) -> bool:
        """Forget the remembered applicant; True when there was one."""
        async with self.db.begin() as conn:
            return await contacts.forget_applicant(conn, contact_id, self.clock())
