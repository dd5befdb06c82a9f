"""Scoring an engine: numbers checked against a hand computation, and the command."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from hub.nlu import training_data
from hub.nlu.evaluation import evaluate, evaluate_files, format_report
from hub.nlu.results import Entity, IntentScore, Parse

FIXTURE = Path(__file__).parent / "fixtures" / "nlu" / "eval_small.yml"
ROOT = Path(__file__).resolve().parent.parent


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


def _write_split(folder: Path) -> tuple[Path, Path]:
    """The fixture's six examples in two files: greetings, and the rest."""
    folder.mkdir(parents=True, exist_ok=True)
    greetings = folder / "a_greetings.yml"
    greetings.write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - halo\n    - selamat pagi\n',
        encoding="utf-8",
    )
    rest = folder / "b_rest.yml"
    rest.write_text(
        'version: "3.1"\n'
        "nlu:\n"
        "- intent: ask_fee\n"
        "  examples: |\n"
        '    - biaya [paspor]{"entity": "service", "value": "paspor"} brp\n'
        '    - bayar gk bikin [kk]{"entity": "service", "value": "kartu_keluarga"}\n'
        "- intent: book_queue\n"
        "  examples: |\n"
        '    - antri [ktp]{"entity": "service", "value": "ktp_el_baru"} [besok](date)\n'
        "- intent: thanks\n"
        "  examples: |\n"
        "    - makasih\n",
        encoding="utf-8",
    )
    (folder / "README.md").write_text("not data\n", encoding="utf-8")
    return greetings, rest


def test_reading_by_file_keeps_each_files_examples_and_shares_synonyms(tmp_path: Path) -> None:
    _write_split(tmp_path / "set")
    synonyms = tmp_path / "synonyms.yml"
    synonyms.write_text(
        'version: "3.1"\nnlu:\n- synonym: paspor\n  examples: |\n    - pasport\n',
        encoding="utf-8",
    )
    typo = tmp_path / "typo.yml"
    typo.write_text(
        'version: "3.1"\nnlu:\n- intent: ask_fee\n  examples: |\n    - [pasport](service) brp\n',
        encoding="utf-8",
    )
    files = training_data.load_by_file([tmp_path / "set", typo, synonyms])
    assert [(path.name, len(examples)) for path, examples in files] == [
        ("a_greetings.yml", 2),
        ("b_rest.yml", 4),
        ("typo.yml", 1),
        ("synonyms.yml", 0),
    ]
    # A synonym in one file applies to another, exactly as when the files are loaded together.
    assert files[2][1][0].entities[0].value == "paspor"
    pooled = training_data.load([tmp_path / "set", typo, synonyms]).examples
    assert [e for _path, examples in files for e in examples] == pooled


async def test_several_files_are_scored_pooled_and_each_on_its_own(tmp_path: Path) -> None:
    greetings, rest = _write_split(tmp_path / "set")
    files = [
        (str(path), examples) for path, examples in training_data.load_by_file([tmp_path / "set"])
    ]
    engine = ScriptedEngine()
    report = await evaluate_files(engine, files, date(2026, 11, 29))
    alone = await evaluate(engine, training_data.load([FIXTURE]).examples, date(2026, 11, 29))
    # The pooled keys are those of a single evaluation of the same six examples.
    ignored = {"latency_ms_p50", "latency_ms_p95", "by_file"}
    assert {k: v for k, v in report.items() if k not in ignored} == {
        k: v for k, v in alone.items() if k not in ignored
    }
    assert set(report) - set(alone) == {"by_file"}
    assert report["by_file"] == {
        str(greetings): {"n": 2, "intent_accuracy": 1.0, "intent_macro_f1": 1.0, "entity_f1": 0.0},
        # 2 of 4 right; F1 ask_fee 2/3, book_queue 1, ask_requirements/thanks/greet 0;
        # entities: paspor, ktp and the date right, kk read as ktp (P = R = 3/4).
        str(rest): {
            "n": 4,
            "intent_accuracy": 0.5,
            "intent_macro_f1": pytest.approx((2 / 3 + 1) / 5, abs=1e-4),
            "entity_f1": 0.75,
        },
    }
    text = format_report(report)
    assert "by register (file)" in text
    assert f"{greetings}" in text and " 1.000 " in text and " 0.500 " in text


def test_a_single_file_prints_no_register_table() -> None:
    report = {
        "engine": "scripted",
        "n": 1,
        "intent_accuracy": 1.0,
        "intent_macro_f1": 1.0,
        "entity_f1": 0.0,
        "latency_ms_p50": 0.1,
        "latency_ms_p95": 0.1,
        "per_intent": {},
        "confused": [],
        "per_entity": {},
        "by_file": {
            "one.yml": {"n": 1, "intent_accuracy": 1.0, "intent_macro_f1": 1.0, "entity_f1": 0.0}
        },
    }
    assert "by register" not in format_report(report)


def _omnihub(args: list[str], cwd: Path, model: str) -> subprocess.CompletedProcess[str]:
    """The command from this checkout (PYTHONPATH), with an already trained model."""
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"OMNIHUB_NLU__MODEL_PATH": model, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        cwd=cwd,
    )


def test_eval_command_scores_a_folder_or_several_files(
    tmp_path: Path, trained_nlu_model: str
) -> None:
    greetings, rest = _write_split(tmp_path / "set")
    model = trained_nlu_model
    result = _omnihub(["nlu", "eval", str(tmp_path / "set"), "--json"], tmp_path, model)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    for key in (
        "n",
        "engine",
        "intent_accuracy",
        "intent_macro_f1",
        "per_intent",
        "confused",
        "entity_f1",
        "entity_precision",
        "entity_recall",
        "per_entity",
        "latency_ms_p50",
        "latency_ms_p95",
        "fallbacks",
    ):
        assert key in report
    assert report["n"] == 6
    assert list(report["by_file"]) == [str(greetings), str(rest)]
    assert [f["n"] for f in report["by_file"].values()] == [2, 4]
    pooled_right = sum(f["intent_accuracy"] * f["n"] for f in report["by_file"].values())
    assert pooled_right / 6 == pytest.approx(report["intent_accuracy"], abs=1e-3)

    result = _omnihub(["nlu", "eval", str(rest), str(greetings)], tmp_path, model)
    assert result.returncode == 0, result.stderr
    assert "examples          6" in result.stdout and "by register (file)" in result.stdout
    assert result.stdout.index(str(rest)) < result.stdout.index(str(greetings))


def test_eval_command_refuses_a_missing_file_among_several(
    tmp_path: Path, trained_nlu_model: str
) -> None:
    args = ["nlu", "eval", str(tmp_path / "gone.yml"), str(FIXTURE)]
    result = _omnihub(args, tmp_path, trained_nlu_model)
    assert result.returncode == 2
    assert "no such file or folder" in result.stderr and "gone.yml" in result.stderr
    assert "Traceback" not in result.stderr


def test_eval_command_refuses_a_folder_without_examples(
    tmp_path: Path, trained_nlu_model: str
) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.md").write_text("no data\n", encoding="utf-8")
    result = _omnihub(["nlu", "eval", str(tmp_path / "empty")], tmp_path, trained_nlu_model)
    assert result.returncode == 2
    assert "no intent examples" in result.stderr and "empty" in result.stderr
