"""How long the built-in NLU takes per message, part by part, against its budgets.

Budgets: a whole parse p50 ≤ 2 ms (the issue's), entity extraction of a typical
message ≤ 1 ms. Timings belong here, not in the tests (a loaded CI machine would
make a timed test fail for nothing).

    python bench/nlu_latency.py [FILE.yml ...]     # default: every file in nlu/dev

Prints p50/p95 in milliseconds for the whole parse and for each part (entities,
normalising, intent ranking, language) and exits 1 when a budget is exceeded.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import timeit
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from hub.config import load_config
from hub.nlu import training_data
from hub.nlu.builtin import BuiltinEngine
from hub.nlu.language import detect_language
from hub.nlu.normalise import normalise
from hub.pipeline.understanding import load_builtin_engine

TODAY = date(2026, 11, 29)
PARSE_P50_BUDGET_MS = 2.0
ENTITIES_BUDGET_MS = 1.0
TYPICAL = "sy mau antri bikin ktp besok jam 9 bisa gk kak"


def _percentiles(run: Callable[[str], object], texts: Sequence[str]) -> tuple[float, float]:
    timings = []
    for text in texts:
        timings.append(min(timeit.repeat(functools.partial(run, text), number=1, repeat=3)) * 1000)
    ordered = sorted(timings)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, default=[Path("nlu/dev")])
    args = parser.parse_args(argv)
    texts = [e.text for e in training_data.load(args.files).examples]
    engine: BuiltinEngine
    engine, _model, _trained = load_builtin_engine(load_config())
    extractor, classifier = engine.extractor, engine.classifier
    for text in texts[:50]:  # warm caches
        engine.parse_now(text, today=TODAY)

    def features(text: str) -> str:
        entities = extractor.extract(text, TODAY)
        return normalise(text, [(e.start, e.end, e.type) for e in entities])

    featured = {text: features(text) for text in texts}
    parts: dict[str, Callable[[str], object]] = {
        "parse": lambda t: engine.parse_now(t, today=TODAY),
        "entities": lambda t: extractor.extract(t, TODAY),
        "entities+normalise": features,
        "intent ranking": lambda t: classifier.rank(featured[t]),
        "language": detect_language,
    }
    print(f"{len(texts)} messages")
    results = {}
    for name, run in parts.items():
        p50, p95 = _percentiles(run, texts)
        results[name] = p50
        print(f"{name:<20} p50 {p50:7.3f} ms   p95 {p95:7.3f} ms")
    typical = min(timeit.repeat(lambda: extractor.extract(TYPICAL, TODAY), number=200, repeat=5))
    typical_ms = typical / 200 * 1000
    print(f"entities of {TYPICAL!r}: {typical_ms:.3f} ms")
    over = []
    if results["parse"] > PARSE_P50_BUDGET_MS:
        over.append(f"parse p50 {results['parse']:.3f} ms > {PARSE_P50_BUDGET_MS} ms")
    if typical_ms > ENTITIES_BUDGET_MS:
        over.append(f"entities {typical_ms:.3f} ms > {ENTITIES_BUDGET_MS} ms")
    for line in over:
        print(f"OVER BUDGET: {line}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
