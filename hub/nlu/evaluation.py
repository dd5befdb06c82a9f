"""Scoring an engine on Rasa-format examples: what ``omnihub nlu eval`` prints.

Intents: accuracy, macro F1 over every intent that occurs (in the gold labels or
the predictions), per-intent precision/recall/F1, the most confused pairs.
Entities: precision/recall/F1 per type, ``service`` compared by catalogue id and
the others by type and text (case and surrounding spaces ignored). Several files
are scored pooled, with accuracy per file as well (``by_file``).
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from hub.nlu.results import NluEngine, Parse
from hub.nlu.training_data import Example


@dataclass(frozen=True, slots=True)
class Scores:
    precision: float
    recall: float
    f1: float
    support: int

    def as_dict(self) -> dict[str, float | int]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "support": self.support,
        }


def _scores(tp: int, fp: int, fn: int) -> Scores:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(precision, recall, f1, tp + fn)


def intent_report(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    labels = sorted(set(gold) | set(predicted))
    per_intent = {
        label: _scores(
            tp=sum(g == p == label for g, p in zip(gold, predicted, strict=True)),
            fp=sum(p == label != g for g, p in zip(gold, predicted, strict=True)),
            fn=sum(g == label != p for g, p in zip(gold, predicted, strict=True)),
        )
        for label in labels
    }
    confused = Counter((g, p) for g, p in zip(gold, predicted, strict=True) if g != p)
    n = len(gold)
    return {
        "intent_accuracy": round(sum(g == p for g, p in zip(gold, predicted, strict=True)) / n, 4)
        if n
        else 0.0,
        "intent_macro_f1": round(statistics.fmean(s.f1 for s in per_intent.values()), 4)
        if per_intent
        else 0.0,
        "per_intent": {label: s.as_dict() for label, s in per_intent.items()},
        "confused": [
            {"gold": g, "predicted": p, "count": c} for (g, p), c in confused.most_common(10)
        ],
    }


def _entity_keys(items: Sequence[tuple[str, str, str]]) -> Counter[tuple[str, str]]:
    """(type, value, text) -> comparable keys: service by value, the rest by text."""
    return Counter(
        (kind, value if kind == "service" else text.strip().lower()) for kind, value, text in items
    )


def entity_report(
    gold: Sequence[Sequence[tuple[str, str, str]]],
    predicted: Sequence[Sequence[tuple[str, str, str]]],
) -> dict[str, Any]:
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for gold_items, predicted_items in zip(gold, predicted, strict=True):
        g, p = _entity_keys(gold_items), _entity_keys(predicted_items)
        for key, count in (g & p).items():
            tp[key[0]] += count
        for key, count in (p - g).items():
            fp[key[0]] += count
        for key, count in (g - p).items():
            fn[key[0]] += count
    types = sorted(set(tp) | set(fp) | set(fn))
    overall = _scores(sum(tp.values()), sum(fp.values()), sum(fn.values()))
    return {
        "entity_f1": round(overall.f1, 4),
        "entity_precision": round(overall.precision, 4),
        "entity_recall": round(overall.recall, 4),
        "per_entity": {t: _scores(tp[t], fp[t], fn[t]).as_dict() for t in types},
    }


async def _parse_all(
    engine: NluEngine, examples: Sequence[Example], today: date
) -> tuple[list[Parse], list[float]]:
    """Every example parsed once, with each parse's latency in milliseconds."""
    parses: list[Parse] = []
    latencies: list[float] = []
    for example in examples:
        started = time.perf_counter()
        parses.append(await engine.parse(example.text, today=today))
        latencies.append((time.perf_counter() - started) * 1000)
    return parses, latencies


def _scored(examples: Sequence[Example], parses: Sequence[Parse]) -> dict[str, Any]:
    report = intent_report([e.intent for e in examples], [p.intent.name for p in parses])
    report |= entity_report(
        [[(g.type, g.value, g.text) for g in e.entities] for e in examples],
        [[(x.type, x.value, x.text) for x in p.entities] for p in parses],
    )
    return report


def _report(
    engine: NluEngine, examples: Sequence[Example], parses: Sequence[Parse], latencies: list[float]
) -> dict[str, Any]:
    report: dict[str, Any] = {"n": len(examples), "engine": engine.name}
    report |= _scored(examples, parses)
    ordered = sorted(latencies)
    report["latency_ms_p50"] = round(statistics.median(ordered), 3) if ordered else 0.0
    report["latency_ms_p95"] = (
        round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 3) if ordered else 0.0
    )
    report["fallbacks"] = sum(p.engine != engine.name for p in parses)
    return report


async def evaluate(engine: NluEngine, examples: Sequence[Example], today: date) -> dict[str, Any]:
    """Parse every example once and score the results."""
    parses, latencies = await _parse_all(engine, examples, today)
    return _report(engine, examples, parses, latencies)


async def evaluate_files(
    engine: NluEngine, files: Sequence[tuple[str, Sequence[Example]]], today: date
) -> dict[str, Any]:
    """Score the examples of several files pooled, plus each file on its own.

    A held-out set keeps one register of writing per file (informal, formal, English,
    Balinese-mixed), so ``by_file`` is the score per register. The pooled keys are
    exactly those of :func:`evaluate`.
    """
    examples = [example for _name, file_examples in files for example in file_examples]
    parses, latencies = await _parse_all(engine, examples, today)
    report = _report(engine, examples, parses, latencies)
    by_file: dict[str, dict[str, Any]] = {}
    start = 0
    for name, file_examples in files:
        end = start + len(file_examples)
        scored = _scored(file_examples, parses[start:end])
        by_file[name] = {
            "n": len(file_examples),
            "intent_accuracy": scored["intent_accuracy"],
            "intent_macro_f1": scored["intent_macro_f1"],
            "entity_f1": scored["entity_f1"],
        }
        start = end
    report["by_file"] = by_file
    return report


def _row(label: str, s: dict[str, Any]) -> str:
    p, r, f, n = s["precision"], s["recall"], s["f1"], s["support"]
    return f"{label:<24} {p:>6.3f} {r:>6.3f} {f:>6.3f} {n:>5}"


def _by_file_lines(by_file: dict[str, dict[str, Any]]) -> list[str]:
    """Accuracy per file ("by register"), shown when more than one file was scored."""
    if len(by_file) < 2:
        return []
    width = max(24, *(len(name) for name in by_file))
    lines = ["", f"{'by register (file)':<{width}} {'n':>5} {'acc':>6} {'mF1':>6} {'entF1':>6}"]
    lines += [
        f"{name:<{width}} {s['n']:>5} {s['intent_accuracy']:>6.3f} "
        f"{s['intent_macro_f1']:>6.3f} {s['entity_f1']:>6.3f}"
        for name, s in by_file.items()
    ]
    return lines


def format_report(report: dict[str, Any]) -> str:
    """The human-readable form of a report, for the terminal."""
    lines = [
        f"engine            {report['engine']}",
        f"examples          {report['n']}",
        f"intent accuracy   {report['intent_accuracy']:.4f}",
        f"intent macro F1   {report['intent_macro_f1']:.4f}",
        f"entity F1         {report['entity_f1']:.4f}",
        f"latency p50       {report['latency_ms_p50']:.3f} ms",
        f"latency p95       {report['latency_ms_p95']:.3f} ms",
    ]
    lines += _by_file_lines(report.get("by_file", {}))
    lines += ["", f"{'intent':<24} {'prec':>6} {'rec':>6} {'f1':>6} {'n':>5}"]
    lines += [_row(label, s) for label, s in report["per_intent"].items()]
    if report["confused"]:
        lines += ["", "most confused (gold -> predicted)"]
        lines += [f"  {c['gold']} -> {c['predicted']}: {c['count']}" for c in report["confused"]]
    lines += ["", f"{'entity':<24} {'prec':>6} {'rec':>6} {'f1':>6} {'n':>5}"]
    lines += [_row(label, s) for label, s in report["per_entity"].items()]
    return "\n".join(lines)
