"""``omnihub serve`` as an operator runs it: starts, answers, stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _omnihub(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("OMNIHUB_")}
    full_env.update(env or {})
    return subprocess.Popen(
        [sys.executable, "-m", "hub.cli", *args],
        cwd=tmp_path,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_serve_answers_health_and_stops_on_sigterm(tmp_path: Path, trained_nlu_model: str) -> None:
    port = _free_port()
    proc = _omnihub(
        tmp_path,
        "serve",
        "--port",
        str(port),
        env={
            "OMNIHUB_STORAGE__URL": f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}",
            "OMNIHUB_NLU__MODEL_PATH": trained_nlu_model,
        },
    )
    try:
        deadline = time.monotonic() + 30
        body = None
        while time.monotonic() < deadline and body is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as resp:
                    body = json.loads(resp.read())
            except OSError:
                time.sleep(0.1)
        assert body == {"status": "ok", "checks": {"database": True}}
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    # Every log line is one JSON object (the start banner aside).
    records = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert any(r["msg"] == "omnihub serving" for r in records)
    assert (tmp_path / "hub.db").exists(), "serve created the schema in an empty database"


@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({"OMNIHUB_SERVER__PORT": "eighty"}, "server.port"),
        ({"OMNIHUB_STORAGE__URL": "mysql://db/hub"}, "storage.url"),
    ],
)
def test_serve_refuses_a_bad_value_in_one_line(
    tmp_path: Path, env: dict[str, str], key: str
) -> None:
    proc = _omnihub(tmp_path, "serve", env=env)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and key in lines[0], stderr
