"""``omnihub dialogs test``: scenario files played on a running hub's web chat, and
scenario files that cannot be used named with their fault."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from hub import cli
from hub.app import create_app
from hub.config import Settings
from hub.dialogs.scenarios import DEFAULT_CLOCK, ScenarioError, load_scenarios
from tests.clock import Clock

ONE_PASSES_ONE_FAILS = """\
- name: salam
  channel: webchat
  turns:
    - say: halo
      expect: ['selamat datang', 'Ambil antrean']
  end_state:
    conversation: {status: bot}
- name: salam yang salah
  channel: [webchat, sms]
  turns:
    - say: halo
      expect: ['selamat datang']
    - say: biaya paspor brp
      expect: ['gratis untuk semua']
- name: hanya sms
  channel: sms
  turns:
    - say: halo
"""


@pytest.fixture
def outside_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The command's own config is the defaults: the hub under test has its own."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OMNIHUB_CONFIG", raising=False)
    return tmp_path


async def test_dialogs_test_prints_a_line_per_scenario_and_fails_when_one_fails(
    make_settings: Callable[..., Settings],
    outside_checkout: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    scenarios = outside_checkout / "mixed.yaml"
    scenarios.write_text(ONE_PASSES_ONE_FAILS, encoding="utf-8")
    app = create_app(make_settings(), clock=Clock(DEFAULT_CLOCK))
    async with TestServer(app, host="127.0.0.1") as server:
        url = str(server.make_url("")).rstrip("/")
        args = ["dialogs", "test", str(scenarios), "--url", url, "--settle", "0.3"]
        code = await asyncio.to_thread(cli.main, args)
    lines = capsys.readouterr().out.splitlines()
    assert code == 1
    assert lines[0] == "PASS salam (end_state not checked)"
    assert lines[1].startswith("FAIL salam yang salah: after 'biaya paspor brp': expected")
    assert "/gratis untuk semua/" in lines[1] and "Rp350.000" in lines[1]
    assert lines[2] == "SKIP hanya sms: not a web chat scenario"
    assert lines[3] == "1 passed, 1 failed, 1 skipped"
    assert len(lines) == 4


async def test_dialogs_test_passes_with_exit_code_0_when_all_pass(
    make_settings: Callable[..., Settings],
    outside_checkout: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    scenarios = outside_checkout / "good.yaml"
    scenarios.write_text(ONE_PASSES_ONE_FAILS.split("- name: salam yang salah")[0])
    app = create_app(make_settings(), clock=Clock(DEFAULT_CLOCK))
    async with TestServer(app, host="127.0.0.1") as server:
        url = str(server.make_url("")).rstrip("/")
        code = await asyncio.to_thread(cli.main, ["dialogs", "test", str(scenarios), "--url", url])
    assert code == 0
    assert capsys.readouterr().out.splitlines()[-1] == "1 passed, 0 failed"


async def test_time_passing_is_played_at_once_and_noted(
    make_settings: Callable[..., Settings],
    outside_checkout: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    scenarios = outside_checkout / "later.yaml"
    scenarios.write_text(
        "- name: salam nanti\n  channel: webchat\n  turns:\n"
        "    - {say: halo, expect: [selamat datang]}\n"
        "    - {say: halo, after: 31m, expect: [Halo lagi]}\n",
        encoding="utf-8",
    )
    app = create_app(make_settings(), clock=Clock(DEFAULT_CLOCK))
    async with TestServer(app, host="127.0.0.1") as server:
        url = str(server.make_url("")).rstrip("/")
        code = await asyncio.to_thread(cli.main, ["dialogs", "test", str(scenarios), "--url", url])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert lines[0] == "PASS salam nanti (after ignored: a running hub's clock cannot be moved)"


def test_an_unreachable_hub_fails_every_scenario(
    outside_checkout: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenarios = outside_checkout / "good.yaml"
    scenarios.write_text(ONE_PASSES_ONE_FAILS.split("- name: salam yang salah")[0])
    code = cli.main(["dialogs", "test", str(scenarios), "--url", "http://127.0.0.1:9"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 1
    assert lines[0].startswith("FAIL salam: hub not reachable at http://127.0.0.1:9")
    assert lines[-1] == "0 passed, 1 failed"


def test_a_bad_scenario_file_names_the_file_scenario_and_field(
    outside_checkout: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = outside_checkout / "bad.yaml"
    bad.write_text(
        "- name: baik\n  channel: webchat\n  turns: [{say: halo}]\n"
        "- name: salah kanal\n  channel: telegram\n  turns: [{say: halo}]\n"
    )
    assert cli.main(["dialogs", "test", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: scenario 2 ('salah kanal'): channel.0: Input should be" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("text", "fault"),
    [
        ("- name: a\n  channel: sms\n  turns: [{say: x, expect: ['(']}]\n", "turns.0.expect.0"),
        ("- name: a\n  channel: sms\n  turns: [{say: x, expct: [a]}]\n", "turns.0.expct"),
        ("- name: a\n  channel: sms\n  turns: []\n", "turns: List should have at least 1"),
        (
            "- name: a\n  channel: sms\n  turns: [{say: x}]\n"
            "  end_state: {bookings: [{service: ktp}]}\n",
            "end_state.bookings.0.service: Extra inputs",
        ),
        (
            "- name: a\n  channel: sms\n  clock: 2026-11-30T08:00+08:00\n  turns: [{say: x}]\n",
            "clock",
        ),
        ("name: a\n", "expected a list of scenarios"),
        (
            "- {name: a, channel: sms, turns: [{say: x}]}\n"
            "- {name: a, channel: sms, turns: [{say: y}]}\n",
            "scenario names used twice: a",
        ),
        (
            "- name: a\n  channel: sms\n  turns:\n    - say: x\n"
            "      not_expect: [a]\n      not_expect: [b]\n",
            "key 'not_expect' written twice",
        ),
    ],
)
def test_scenario_faults_are_named(tmp_path: Path, text: str, fault: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as caught:
        load_scenarios(path)
    assert str(caught.value).startswith(str(path)), caught.value
    assert fault in str(caught.value), caught.value
