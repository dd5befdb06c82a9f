"""The hub's own secrets: the key that signs web-chat cookies and the keys of stored NIKs.

Set them in config (``security.secret_key``, ``security.nik_keys``) when several
machines run the hub. On the embedded default nobody has to: the first start
writes generated keys to ``security.keys_file`` (mode 0600) and every later start,
and every process on the machine, reads the same ones. Losing that file makes
stored NIKs unreadable, so it belongs in the backups (docs/operations.md, backups).
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, MultiFernet

from hub.config import ConfigError, SecurityConfig


@dataclass(frozen=True, slots=True)
class Keys:
    """``secret`` signs; ``nik`` encrypts with the newest key and decrypts with any."""

    secret: bytes
    nik: MultiFernet


def load_keys(config: SecurityConfig) -> Keys:
    """The configured keys, with what is missing read from (or first written to) the keys file."""
    stored: dict[str, object] = {}
    if not config.secret_key or not config.nik_keys:
        stored = _stored_keys(Path(config.keys_file))
    secret = config.secret_key or str(stored["secret_key"])
    nik_keys = config.nik_keys or [str(key) for key in _as_list(stored["nik_keys"])]
    try:
        fernets = [Fernet(key.encode()) for key in nik_keys]
    except ValueError as exc:
        raise ConfigError(
            "config error: security.nik_keys must be Fernet keys (omnihub keys generate prints one)"
        ) from exc
    return Keys(secret=secret.encode(), nik=MultiFernet(fernets))


def generate_keys() -> dict[str, object]:
    """A fresh set, in the keys file's shape."""
    return {
        "secret_key": secrets.token_urlsafe(48),
        "nik_keys": [Fernet.generate_key().decode()],
    }


def _as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else [value]


def _stored_keys(path: Path) -> dict[str, object]:
    """Read the keys file; create it (exclusively, 0600) when it does not exist yet."""
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    keys = generate_keys()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read(path)  # another process of this machine wrote it first
    except OSError as exc:
        raise ConfigError(f"cannot create the keys file {path}: {exc.strerror or exc}") from exc
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        json.dump(keys, file)
        file.flush()
        os.fsync(file.fileno())
    return keys


def _read(path: Path) -> dict[str, object]:
    for _ in range(50):  # a process that just created the file may still be writing it
        text = path.read_text(encoding="utf-8")
        if text:
            break
        time.sleep(0.01)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"the keys file {path} is damaged (not JSON)") from exc
    if not isinstance(data, dict) or "secret_key" not in data or "nik_keys" not in data:
        raise ConfigError(f"the keys file {path} lacks secret_key or nik_keys")
    return data
