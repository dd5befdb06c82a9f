"""Scoring an engine: numbers checked against a hand computation, and the command."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from hub.nlu import training_data
from hub.nlu.base import Entity, IntentScore, Parse
from hub.nlu.evaluation import evaluate, format_report

FIXTURE = Path(__file__).parent / "fixtures" / "nlu" / "eval_small.yml"


class ScriptedEngine:
    """Answers fixed predictions per text, so the expected scores can be worked out by hand."""

    name = "scripted"

    def __init__(self) -> None:
        def e(kind: str, value: str, text: str) -> Entity:
            return Entity(kind, value, text, 0, len(text))

        self.answers = {
            "halo": ("greet", ()),
            "selamat pagi": ("greet", (e("time", "pagi", "pagi"),)),
            "biaya paspor brp": ("ask_fee", (e("service", "paspor", "paspor"),)),
            "bayar gk bikin kk": ("ask_requirements", (e("service", "ktp_el_baru", "kk"),)),
            "antri ktp besok": (
                "book_queue",
                (e("service", "ktp_el_baru", "ktp"), e("date", "2026-11-30", "Besok")),
            ),
            "makasih": ("greet", ()),
        }

    async def parse(self, text: str, *, today: date) -> Parse:
        intent, entities = self.answers[text]
        return Parse(text, IntentScore(intent, 0.9), entities=entities, engine=self.name)


def test_reading_rasa_annotations() -> None:
    data = training_data.load([FIXTURE])
    book = next(e for e in data.examples if e.intent == "book_queue")
    assert book.text == "antri ktp besok"
    assert [(g.type, g.value, g.text, book.text[g.start : g.end]) for g in book.entities] == [
        ("service", "ktp_el_baru", "ktp", "ktp"),
        ("date", "besok", "besok", "besok"),
    ]
    assert len(data.examples) == 6


def test_bad_training_data_is_refused_with_the_file_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text('version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    halo\n')
    with pytest.raises(training_data.TrainingDataError, match=r"bad\.yml"):
        training_data.load([bad])


async def test_scores_match_the_hand_computation() -> None:
    examples = training_data.load([FIXTURE]).examples
    report = await evaluate(ScriptedEngine(), examples, date(2026, 11, 29))
    assert report["n"] == 6
    # 4 of 6 intents right.
    assert report["intent_accuracy"] == pytest.approx(0.6667, abs=1e-4)
    # F1 per label: greet 0.8, ask_fee 2/3, ask_requirements 0, book_queue 1, thanks 0.
    assert report["per_intent"]["greet"] == {
        "precision": 0.6667,
        "recall": 1.0,
        "f1": 0.8,
        "support": 2,
    }
    assert report["per_intent"]["ask_fee"]["f1"] == pytest.approx(0.6667, abs=1e-4)
    assert report["per_intent"]["ask_requirements"]["f1"] == 0.0
    assert report["intent_macro_f1"] == pytest.approx((0.8 + 2 / 3 + 0 + 1 + 0) / 5, abs=1e-4)
    assert {(c["gold"], c["predicted"]) for c in report["confused"]} == {
        ("ask_fee", "ask_requirements"),
        ("thanks", "greet"),
    }
    # Entities: service 2 right, 1 wrong value, 1 missed; date right; a spurious time.
    assert report["per_entity"]["service"]["f1"] == pytest.approx(0.6667, abs=1e-4)
    assert report["per_entity"]["date"]["f1"] == 1.0
    assert report["per_entity"]["time"] == {
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
        "support": 0,
    }
    assert report["entity_precision"] == 0.6
    assert report["entity_recall"] == 0.75
    assert report["entity_f1"] == pytest.approx(0.6667, abs=1e-4)
    assert report["latency_ms_p50"] >= 0
    text = format_report(report)
    assert "intent accuracy   0.6667" in text and "thanks -> greet: 1" in text


def test_eval_command_prints_json_with_the_promised_keys(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "hub.cli", "nlu", "eval", str(FIXTURE), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"OMNIHUB_NLU__MODEL_PATH": str(tmp_path / "model.joblib"), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    for key in (
        "n",
        "intent_accuracy",
        "intent_macro_f1",
        "entity_f1",
        "per_intent",
        "latency_ms_p50",
    ):
        assert key in report
    assert report["n"] == 6 and report["engine"] == "builtin"
    assert 0.0 <= report["intent_accuracy"] <= 1.0
    assert (tmp_path / "model.joblib").exists(), "the model was trained and saved on first use"


def test_eval_command_refuses_a_missing_file(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "hub.cli", "nlu", "eval", str(tmp_path / "nope.yml")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "nope.yml" in result.stderr and "Traceback" not in result.stderr
