"""The one place a NIK is kept in clear form: encrypted, in a field made for it.

A NIK the hub needs (a ticket's reporter; later a booking's applicant) is stored as
Fernet ciphertext made with the newest of ``security.nik_keys`` (:mod:`hub.security.keys`);
any of the listed keys still opens older values, so keys rotate by putting a new one
first. Everywhere else a NIK is masked (:mod:`hub.pii`). The vault is handed to
whoever needs it through constructors; nothing holds it globally.
"""

from __future__ import annotations

from cryptography.fernet import InvalidToken, MultiFernet

from hub.pii import NIK_DIGITS, mask_nik, nik_values

UNREADABLE = "a stored NIK cannot be decrypted with the configured keys"


class SealedNikError(ValueError):
    """A stored value no configured key opens (a lost or removed key, or tampering)."""


class NikVault:
    """Encrypts, decrypts and masks NIKs with the hub's NIK keys."""

    def __init__(self, keys: MultiFernet) -> None:
        self._keys = keys

    @staticmethod
    def normalise(nik: str) -> str:
        """The 16 digits of a NIK written any recognised way; ValueError otherwise."""
        digits = nik_values(nik.strip())
        if len(digits) != 1 or len(digits[0]) != NIK_DIGITS:
            raise ValueError("not a NIK (16 digits)")
        return digits[0]

    def encrypt(self, nik: str) -> str:
        """Ciphertext of the NIK's 16 digits (a different one each time)."""
        return self._keys.encrypt(self.normalise(nik).encode()).decode()

    def decrypt(self, token: str) -> str:
        """The NIK in clear; SealedNikError when no key opens ``token``."""
        try:
            return self._keys.decrypt(token.encode()).decode()
        except (InvalidToken, UnicodeError) as exc:
            raise SealedNikError(UNREADABLE) from exc

    def mask(self, token: str) -> str:
        """What most people may see of a stored NIK: ``5103••••••••0001``."""
        return mask_nik(self.decrypt(token))

    def rotate(self, token: str) -> str:
        """The same NIK re-encrypted with the newest key (after a new key was put first)."""
        try:
            return self._keys.rotate(token.encode()).decode()
        except InvalidToken as exc:
            raise SealedNikError(UNREADABLE) from exc
