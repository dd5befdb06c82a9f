"""Configuration: defaults, the repo's config.yaml, env overrides, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel

from hub.cli.config_commands import _redacted
from hub.config import ConfigError, Settings, load_config

REPO = Path(__file__).resolve().parents[1]
REPO_CONFIG = REPO / "config.yaml"
ENTRY_POINT = Path(sys.executable).parent / "omnihub"

# (YAML text, key the error must name)
BAD_FILES = [
    pytest.param("server:\n  port: abc\n", "server.port", id="port-not-int"),
    pytest.param("server:\n  port: 70000\n", "server.port", id="port-too-big"),
    pytest.param("server:\n  timezone: Mars/Base\n", "server.timezone", id="timezone"),
    pytest.param("storage:\n  url: 'mysql://'\n", "storage.url", id="storage-driver"),
    pytest.param("server:\n  colour: red\n", "server.colour", id="unknown-key"),
    pytest.param("redis:\n  url: http://x\n", "redis.url", id="redis-scheme"),
    pytest.param("locale:\n  default: fr\n", "locale.default", id="locale"),
]

COMMANDS = [
    pytest.param([sys.executable, "-m", "hub.cli"], id="python-m"),
    pytest.param([str(ENTRY_POINT)], id="entry-point"),
]


def _write(tmp_path: Path, text: str, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _one_line(message: str) -> str:
    assert message, "error message is empty"
    assert "\n" not in message.rstrip("\n"), f"not one line: {message!r}"
    return message


def _run(
    command: list[str], *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("OMNIHUB_")}
    full_env.update(env or {})
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=full_env,
        timeout=60,
        check=False,
    )


# --- defaults and the repository's file -----------------------------------------------


def test_defaults_without_a_file() -> None:
    settings = load_config()
    assert settings.server.timezone == "Asia/Makassar"
    assert settings.storage.url == "sqlite+aiosqlite:///omnihub.db"
    assert settings.redis.url is None
    assert settings.locale.default == "id"
    assert settings.locale.supported == ["id", "en"]
    assert settings.channels.webchat.enabled is True
    assert settings.server.port == 8080


def test_repo_config_yaml_loads() -> None:
    settings = load_config(REPO_CONFIG)
    assert settings.server.timezone == "Asia/Makassar"
    assert settings.server.port == 8080
    assert settings.storage.url.startswith("sqlite+aiosqlite://")
    assert settings.redis.url is None
    assert settings.locale.supported == ["id", "en"]
    assert settings.channels.webchat.title == "MPP Badung"
    assert settings.outbox.max_attempts == 8


def test_empty_file_gives_defaults(tmp_path: Path) -> None:
    settings = load_config(_write(tmp_path, "# nothing here\n"))
    assert settings == Settings()


# --- environment overrides -------------------------------------------------------------


def test_env_overrides_nested_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIHUB_SERVER__PORT", "9000")
    monkeypatch.setenv("OMNIHUB_REDIS__URL", "redis://x:6379/0")
    monkeypatch.setenv("OMNIHUB_CHANNELS__WEBCHAT__ENABLED", "false")
    settings = load_config()
    assert settings.server.port == 9000
    assert settings.redis.url == "redis://x:6379/0"
    assert settings.channels.webchat.enabled is False
    # Untouched keys of the same sections keep their defaults.
    assert settings.server.timezone == "Asia/Makassar"
    assert settings.channels.webchat.title == "MPP Badung"


def test_env_beats_the_file_and_keeps_the_rest_of_the_section(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(
        tmp_path,
        "server:\n  host: 0.0.0.0\n  port: 8081\n"
        "channels:\n  webchat:\n    enabled: true\n    title: Loket Online\n",
    )
    assert load_config(path).server.port == 8081
    monkeypatch.setenv("OMNIHUB_SERVER__PORT", "9000")
    monkeypatch.setenv("OMNIHUB_CHANNELS__WEBCHAT__ENABLED", "false")
    settings = load_config(path)
    assert settings.server.port == 9000
    assert settings.server.host == "0.0.0.0"
    assert settings.channels.webchat.enabled is False
    assert settings.channels.webchat.title == "Loket Online"


def test_env_list_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIHUB_LOCALE__SUPPORTED", '["en"]')
    assert load_config().locale.supported == ["en"]


def test_empty_env_redis_url_means_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIHUB_REDIS__URL", "")
    assert load_config(REPO_CONFIG).redis.url is None


# --- errors, in-process ------------------------------------------------------------------


@pytest.mark.parametrize(("text", "key"), BAD_FILES)
def test_bad_value_raises_one_line_config_error(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(_write(tmp_path, text))
    message = _one_line(str(caught.value))
    assert key in message
    assert "OMNIHUB_" + key.upper().replace(".", "__") in message


def test_bad_env_value_names_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIHUB_SERVER__PORT", "abc")
    with pytest.raises(ConfigError) as caught:
        load_config(REPO_CONFIG)
    message = _one_line(str(caught.value))
    assert "server.port" in message
    assert "OMNIHUB_SERVER__PORT" in message


def test_env_list_that_is_not_json_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIHUB_LOCALE__SUPPORTED", "id")
    with pytest.raises(ConfigError) as caught:
        load_config()
    message = _one_line(str(caught.value))
    assert "locale" in message
    assert "JSON" in message


def test_several_errors_are_reported_as_one_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "server:\n  port: abc\n  timezone: Mars/Base\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = _one_line(str(caught.value))
    assert "server.port" in message
    assert "1 more" in message


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"server: [unclosed\n  port: 1\n", id="broken-yaml"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\xff\xfe", id="binary"),
    ],
)
def test_file_that_is_not_yaml(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "config.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = _one_line(str(caught.value))
    assert str(path) in message


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("- id\n- en\n", id="list"),
        pytest.param("just a sentence\n", id="scalar"),
        pytest.param("1: x\n", id="numeric-section"),
    ],
)
def test_file_that_is_not_a_mapping_of_sections(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(path) in _one_line(str(caught.value))


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = _one_line(str(caught.value))
    assert "not found" in message
    assert str(path) in message


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert str(tmp_path) in _one_line(str(caught.value))


# --- errors through the real command ---------------------------------------------------


def _assert_clean_failure(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode != 0
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("omnihub: ")
    for needle in needles:
        assert needle in lines[0]


def test_entry_point_is_installed() -> None:
    assert ENTRY_POINT.is_file(), ENTRY_POINT


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(("text", "key"), BAD_FILES)
def test_config_check_on_bad_file(tmp_path: Path, command: list[str], text: str, key: str) -> None:
    path = _write(tmp_path, text, "bad.yaml")
    result = _run(command, "--config", str(path), "config", "check", cwd=tmp_path)
    _assert_clean_failure(result, key)


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"server: [unclosed\n  port: 1\n", id="broken-yaml"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\xff\xfe", id="binary"),
    ],
)
def test_config_check_on_file_that_is_not_yaml(
    tmp_path: Path, command: list[str], content: bytes
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    result = _run(command, "--config", str(path), "config", "check", cwd=tmp_path)
    _assert_clean_failure(result, str(path))


@pytest.mark.parametrize("command", COMMANDS)
def test_config_check_on_missing_file(tmp_path: Path, command: list[str]) -> None:
    path = tmp_path / "missing.yaml"
    result = _run(command, "--config", str(path), "config", "check", cwd=tmp_path)
    _assert_clean_failure(result, str(path), "not found")


@pytest.mark.parametrize("command", COMMANDS)
def test_config_check_on_bad_env(tmp_path: Path, command: list[str]) -> None:
    result = _run(command, "config", "check", cwd=tmp_path, env={"OMNIHUB_SERVER__PORT": "abc"})
    _assert_clean_failure(result, "server.port", "OMNIHUB_SERVER__PORT")


@pytest.mark.parametrize("command", COMMANDS)
def test_config_check_on_env_list_that_is_not_json(tmp_path: Path, command: list[str]) -> None:
    result = _run(command, "config", "check", cwd=tmp_path, env={"OMNIHUB_LOCALE__SUPPORTED": "id"})
    _assert_clean_failure(result, "locale")


@pytest.mark.parametrize("command", COMMANDS)
def test_config_check_on_good_file(tmp_path: Path, command: list[str]) -> None:
    result = _run(command, "--config", str(REPO_CONFIG), "config", "check", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    printed = json.loads(result.stdout)
    assert printed["server"]["timezone"] == "Asia/Makassar"
    assert printed["server"]["port"] == 8080
    assert printed["locale"] == {"default": "id", "supported": ["id", "en"]}
    assert printed["channels"]["webchat"]["enabled"] is True
    assert set(printed) == set(Settings.model_fields)


def test_config_check_finds_config_yaml_in_working_directory(tmp_path: Path) -> None:
    _write(tmp_path, "server:\n  port: 8123\n")
    result = _run([str(ENTRY_POINT)], "config", "check", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["server"]["port"] == 8123


def test_config_check_applies_env_and_hides_url_passwords(tmp_path: Path) -> None:
    result = _run(
        [str(ENTRY_POINT)],
        "--config",
        str(REPO_CONFIG),
        "config",
        "check",
        cwd=tmp_path,
        env={
            "OMNIHUB_SERVER__PORT": "9000",
            "OMNIHUB_STORAGE__URL": "postgresql+asyncpg://omni:s3cr@t-pw@db:5432/omnihub",
            "OMNIHUB_REDIS__URL": "redis://:r3dis-pw@cache:6379/0",
        },
    )
    assert result.returncode == 0, result.stderr
    assert "s3cr@t-pw" not in result.stdout
    assert "r3dis-pw" not in result.stdout
    printed = json.loads(result.stdout)
    assert printed["server"]["port"] == 9000
    assert printed["storage"]["url"] == "postgresql+asyncpg://omni:***@db:5432/omnihub"
    assert printed["redis"]["url"] == "redis://:***@cache:6379/0"


# --- redaction -------------------------------------------------------------------------


class _Vault(BaseModel):
    api_token: str = "tok-123456"
    password: str = "hunter2"
    client_secret: str = "shh"
    empty_token: str = ""
    username: str = "omni"


class _SettingsWithSecrets(Settings):
    vault: _Vault = _Vault()


def test_redacted_hides_token_password_and_secret_keys() -> None:
    redacted = _redacted(_SettingsWithSecrets())
    vault = redacted["vault"]
    assert isinstance(vault, dict)
    assert vault["api_token"] == "***"
    assert vault["password"] == "***"
    assert vault["client_secret"] == "***"
    # Empty secrets stay empty (so "not set" is visible) and other keys are shown.
    assert vault["empty_token"] == ""
    assert vault["username"] == "omni"
    for hidden in ("tok-123456", "hunter2", "shh"):
        assert hidden not in json.dumps(redacted)


def test_redacted_keeps_ordinary_settings() -> None:
    settings = load_config(REPO_CONFIG)
    assert _redacted(settings) == settings.model_dump(mode="json")


def test_redacted_hides_passwords_inside_urls() -> None:
    settings = load_config(
        None,
        storage={"url": "postgresql+asyncpg://omni:pw123@db/omnihub"},
        redis={"url": "rediss://user:pw456@cache:6380/1"},
    )
    redacted = _redacted(settings)
    text = json.dumps(redacted)
    assert "pw123" not in text
    assert "pw456" not in text
    assert redacted["storage"] == {"url": "postgresql+asyncpg://omni:***@db/omnihub"}
    assert redacted["redis"] == {"url": "rediss://user:***@cache:6380/1"}
