"""Built-in NLU engine against a Rasa server on the same held-out examples.

Reads a Rasa 3 NLU test file, asks (a) the built-in engine and (b) a Rasa server
(``scripts/rasa-server.sh``) for every example, and prints per engine: n, intent
accuracy, intent macro F1, parse latency p50/p95. Whether the optional Rasa server
is worth running beside the hub is decided on these numbers.

    python bench/nlu_vs_rasa.py [nlu/dev/heldout.yml] [--rasa-url URL]
                                [--skip-builtin | --skip-rasa] [--errors N]

Rasa is asked over its HTTP API directly (not through ``RasaEngine``) so that its
numbers are its own: no built-in parse inside the latency, no silent fallback. Its
intent names go through the same mapping the hub uses (unknown and ``nlu_fallback``
become ``out_of_scope``). Metrics and the file reader are local on purpose: the
bench must not change its numbers when the hub's own evaluation code changes.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import re
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import yaml

from hub.nlu.rasa import map_intent

DEFAULT_TEST_FILE = Path("nlu/dev/heldout.yml")
WITA = ZoneInfo("Asia/Makassar")

# `[text](entity)` and `[text]{"entity": ..., "value": ...}` → text
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


@dataclass(frozen=True)
class Example:
    intent: str
    text: str


@dataclass(frozen=True)
class Result:
    engine: str
    n: int
    accuracy: float
    macro_f1: float
    p50_ms: float
    p95_ms: float
    errors: Counter[tuple[str, str]]


def strip_annotations(line: str) -> str:
    return _ANNOTATION.sub(r"\1", line)


def read_examples(path: Path) -> list[Example]:
    """Intent examples of a Rasa 3 NLU file (``examples`` as a block string or a list)."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    examples: list[Example] = []
    for block in doc.get("nlu") or []:
        if not isinstance(block, dict) or "intent" not in block:
            continue  # synonym, regex, lookup blocks
        raw = block.get("examples") or ""
        items: list[str]
        if isinstance(raw, str):
            items = [ln.strip()[2:] for ln in raw.splitlines() if ln.strip().startswith("- ")]
        else:
            items = [str(it["text"]).strip() for it in raw if isinstance(it, dict)]
        examples += [Example(str(block["intent"]), strip_annotations(t).strip()) for t in items]
    return examples


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Unweighted mean F1 over every label seen in gold or predictions (sklearn's default)."""
    labels = set(gold) | set(predicted)
    pairs = list(zip(gold, predicted, strict=True))
    total = 0.0
    for label in labels:
        tp = sum(1 for g, p in pairs if g == label and p == label)
        fp = sum(1 for g, p in pairs if g != label and p == label)
        fn = sum(1 for g, p in pairs if g == label and p != label)
        total += 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return total / len(labels) if labels else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile: an actual measured latency, not an interpolation."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else math.nan


async def run(
    name: str, parse: Callable[[str], Awaitable[str]], examples: Sequence[Example]
) -> Result:
    """Parse every example one after another, as the hub does per conversation."""
    await parse("halo")  # warm-up: first-call costs (model load, connection) are not parsing
    predicted: list[str] = []
    latencies: list[float] = []
    for ex in examples:
        started = time.perf_counter()
        predicted.append(await parse(ex.text))
        latencies.append((time.perf_counter() - started) * 1000)
    gold = [ex.intent for ex in examples]
    hits = sum(g == p for g, p in zip(gold, predicted, strict=True))
    return Result(
        engine=name,
        n=len(examples),
        accuracy=hits / len(examples) if examples else math.nan,
        macro_f1=macro_f1(gold, predicted),
        p50_ms=percentile(latencies, 0.50),
        p95_ms=percentile(latencies, 0.95),
        errors=Counter((g, p) for g, p in zip(gold, predicted, strict=True) if g != p),
    )


def rss_mb() -> float:
    """This process's resident memory, from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def builtin_parser(today: date) -> Callable[[str], Awaitable[str]]:
    # Imported here: the built-in engine (and its training) is only needed when benched.
    before = rss_mb()
    from hub.pipeline.understanding import load_builtin_engine

    engine, model, trained = load_builtin_engine()
    print(
        f"builtin: model {'trained now' if trained else 'loaded'} ({model.examples} examples"
        f"{f', {model.seconds:.1f} s' if trained else ''}); memory grew by "
        f"{rss_mb() - before:.0f} MB (imports, catalogue, model)"
    )

    async def parse(text: str) -> str:
        result = await engine.parse(text, today=today)
        return str(result.intent.name)

    return parse


def rasa_parser(http: aiohttp.ClientSession, url: str) -> Callable[[str], Awaitable[str]]:
    endpoint = url.rstrip("/") + "/model/parse"

    async def parse(text: str) -> str:
        async with http.post(endpoint, json={"text": text}) as resp:
            resp.raise_for_status()
            body: dict[str, Any] = await resp.json()
        # Like the built-in engine here, score Rasa's top intent before any threshold:
        # FallbackClassifier's "nlu_fallback" is skipped in favour of the best real intent.
        ranked = [r for r in body.get("intent_ranking") or [] if r["name"] != "nlu_fallback"]
        best = ranked[0] if ranked else body["intent"]
        return map_intent(str(best["name"]))

    return parse


def print_table(results: Sequence[Result], show_errors: int) -> None:
    print(f"{'engine':<10}{'n':>6}{'accuracy':>10}{'macro_f1':>10}{'p50_ms':>9}{'p95_ms':>9}")
    for r in results:
        print(
            f"{r.engine:<10}{r.n:>6}{r.accuracy:>10.3f}{r.macro_f1:>10.3f}"
            f"{r.p50_ms:>9.1f}{r.p95_ms:>9.1f}"
        )
    for r in results:
        if show_errors and r.errors:
            print(f"\n{r.engine}: most frequent confusions (gold -> predicted)")
            for (gold, pred), count in r.errors.most_common(show_errors):
                print(f"  {count:>4}  {gold} -> {pred}")


async def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("test_file", nargs="?", type=Path, default=DEFAULT_TEST_FILE)
    ap.add_argument("--rasa-url", default="http://127.0.0.1:5005")
    ap.add_argument("--skip-builtin", action="store_true")
    ap.add_argument("--skip-rasa", action="store_true")
    ap.add_argument("--errors", type=int, default=0, metavar="N", help="show N top confusions")
    ap.add_argument("--today", type=date.fromisoformat, default=datetime.now(WITA).date())
    args = ap.parse_args(argv)

    if not args.test_file.is_file():
        print(f"no test file at {args.test_file}", file=sys.stderr)
        return 2
    examples = read_examples(args.test_file)
    if not examples:
        print(f"no intent examples in {args.test_file}", file=sys.stderr)
        return 2

    results: list[Result] = []
    if not args.skip_builtin:
        results.append(await run("builtin", builtin_parser(args.today), examples))
    if not args.skip_rasa:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
            try:
                results.append(await run("rasa", rasa_parser(http, args.rasa_url), examples))
            except (aiohttp.ClientError, TimeoutError) as exc:
                print(f"rasa at {args.rasa_url} failed: {exc!r}", file=sys.stderr)
                return 1
    print(
        f"{args.test_file}: {len(examples)} examples, {len({e.intent for e in examples})} intents"
    )
    print_table(results, args.errors)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
