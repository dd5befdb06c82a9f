"""The hub's own keys: generated once per machine, shared by its processes, rotatable."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken

from hub import cli
from hub.config import ConfigError, SecurityConfig, load_config
from hub.security.keys import load_keys


def test_the_first_start_writes_keys_that_later_starts_read(tmp_path: Path) -> None:
    config = SecurityConfig(keys_file=str(tmp_path / "omnihub.keys"))
    first, second = load_keys(config), load_keys(config)
    assert first.secret == second.secret and len(first.secret) >= 32
    assert second.nik.decrypt(first.nik.encrypt(b"5103011234560001")) == b"5103011234560001"
    mode = stat.S_IMODE((tmp_path / "omnihub.keys").stat().st_mode)
    assert mode == 0o600, "only the hub's user may read the keys"


def test_configured_keys_win_and_the_file_is_not_written(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    config = SecurityConfig(secret_key="s" * 40, nik_keys=[key], keys_file=str(tmp_path / "never"))
    keys = load_keys(config)
    assert keys.secret == b"s" * 40
    assert Fernet(key.encode()).decrypt(keys.nik.encrypt(b"x")) == b"x"
    assert not (tmp_path / "never").exists()


def test_a_new_nik_key_first_still_reads_what_the_old_one_wrote(tmp_path: Path) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    written = load_keys(SecurityConfig(secret_key="s" * 40, nik_keys=[old])).nik.encrypt(b"n")
    rotated = load_keys(SecurityConfig(secret_key="s" * 40, nik_keys=[new, old]))
    assert rotated.nik.decrypt(written) == b"n"
    with pytest.raises(InvalidToken):
        Fernet(old.encode()).decrypt(rotated.nik.encrypt(b"n"))


@pytest.mark.parametrize("text", ["not json", "{}", '{"secret_key": "x"}'])
def test_a_damaged_keys_file_stops_the_start_with_its_name(tmp_path: Path, text: str) -> None:
    path = tmp_path / "omnihub.keys"
    path.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(str(path))):
        load_keys(SecurityConfig(keys_file=str(path)))


def test_a_short_secret_key_or_a_bad_nik_key_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"security\.secret_key"):
        load_config(None, security={"secret_key": "short"})
    with pytest.raises(ConfigError, match="nik_keys"):
        load_keys(SecurityConfig(secret_key="s" * 40, nik_keys=["not-a-fernet-key"]))


def test_keys_generate_prints_settings_the_hub_accepts(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert cli.main(["keys", "generate"]) == 0
    lines = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines())
    monkeypatch.setenv("OMNIHUB_SECURITY__KEYS_FILE", str(tmp_path / "never"))
    for name, value in lines.items():
        monkeypatch.setenv(name, value)
    keys = load_keys(load_config(None).security)
    assert keys.secret.decode() == lines["OMNIHUB_SECURITY__SECRET_KEY"]
    assert json.loads(lines["OMNIHUB_SECURITY__NIK_KEYS"])[0]
    assert not (tmp_path / "never").exists()


def test_config_check_hides_every_key(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    nik_key = Fernet.generate_key().decode()
    monkeypatch.setenv("OMNIHUB_SECURITY__SECRET_KEY", "k" * 40)
    monkeypatch.setenv("OMNIHUB_SECURITY__NIK_KEYS", json.dumps([nik_key]))
    monkeypatch.setenv("OMNIHUB_SECURITY__METRICS_TOKEN", "metrics-token-1234567890")
    assert cli.main(["config", "check"]) == 0
    out = capsys.readouterr().out
    assert "k" * 40 not in out and nik_key not in out and "metrics-token-1234567890" not in out
    assert json.loads(out)["security"]["nik_keys"] == ["***"]


def test_serve_with_a_damaged_keys_file_says_so_without_a_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "omnihub.keys"
    path.write_text("{broken")
    monkeypatch.setenv("OMNIHUB_SECURITY__KEYS_FILE", str(path))
    monkeypatch.setenv("OMNIHUB_STORAGE__URL", f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}")
    assert cli.main(["serve", "--port", "18999"]) == 2
    err = capsys.readouterr().err
    assert "keys file" in err and str(path) in err and "Traceback" not in err
