"""The built-in engine: entities by rules and fuzzy matching, intents by a small model.

It runs in the hub's process with no server and nothing downloaded. The model is
trained from ``nlu/data`` (the Rasa-format files) by ``omnihub nlu train``, and
automatically at start when the saved model is missing or was trained on other
data (the data's hash is stored with the model).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import joblib

from hub.nlu import training_data
from hub.nlu.classifier import IntentClassifier
from hub.nlu.entities import EntityExtractor
from hub.nlu.language import clear_language
from hub.nlu.normalise import normalise
from hub.nlu.results import Entity, IntentScore, Parse

log = logging.getLogger(__name__)

MODEL_FORMAT = 2
TRAINING_TODAY = date(2026, 1, 5)
"""Any fixed day: at training time dates only matter as spans, not as values."""


def _features(text: str, entities: Sequence[Entity]) -> str:
    return normalise(text, [(e.start, e.end, e.type) for e in entities])


@dataclass(frozen=True, slots=True)
class SavedModel:
    fingerprint: str
    classifier: IntentClassifier
    examples: int
    seconds: float


def train(data_paths: Sequence[Path], extractor: EntityExtractor) -> SavedModel:
    """Fit the intent classifier on every example of the data files."""
    started = time.perf_counter()
    data = training_data.load(data_paths)
    if not data.examples:
        raise training_data.TrainingDataError("no intent examples found in the NLU data")
    texts = [_features(ex.text, extractor.extract(ex.text, TRAINING_TODAY)) for ex in data.examples]
    classifier = IntentClassifier().fit(texts, [ex.intent for ex in data.examples])
    return SavedModel(
        fingerprint=training_data.fingerprint(data_paths),
        classifier=classifier,
        examples=len(data.examples),
        seconds=time.perf_counter() - started,
    )


def save(model: SavedModel, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    joblib.dump({"format": MODEL_FORMAT, "model": model}, temporary)
    temporary.replace(path)  # never leave a half-written model behind


def load_saved(path: Path) -> SavedModel | None:
    """The saved model, or None when there is none or it is of another format."""
    try:
        stored: Any = joblib.load(path)
    except FileNotFoundError:
        return None
    except Exception:
        log.warning("saved NLU model unreadable; it will be retrained")
        return None
    if not isinstance(stored, dict) or stored.get("format") != MODEL_FORMAT:
        return None
    model = stored.get("model")
    return model if isinstance(model, SavedModel) else None


def load_or_train(
    data_paths: Sequence[Path], model_path: Path, extractor: EntityExtractor
) -> tuple[SavedModel, bool]:
    """The saved model if it matches the data, else a new one, trained and saved.

    Returns the model and whether it was trained just now.
    """
    saved = load_saved(model_path)
    if saved is not None and saved.fingerprint == training_data.fingerprint(data_paths):
        return saved, False
    model = train(data_paths, extractor)
    try:
        save(model, model_path)
    except OSError as exc:
        log.warning("NLU model trained but not saved: %s", exc.strerror or exc)
    log.info(
        "NLU model trained", extra={"examples": model.examples, "seconds": round(model.seconds, 2)}
    )
    return model, True


class BuiltinEngine:
    """Understands a message in well under a millisecond or two, in-process."""

    name = "builtin"

    def __init__(self, classifier: IntentClassifier, extractor: EntityExtractor) -> None:
        self.classifier = classifier
        self.extractor = extractor

    def parse_now(self, text: str, *, today: date) -> Parse:
        entities = tuple(self.extractor.extract(text, today))
        features = _features(text, entities)
        if not features.strip():
            ranking = [IntentScore("out_of_scope", 1.0)]
        else:
            ranking = [IntentScore(name, p) for name, p in self.classifier.rank(features)]
        return Parse(
            text=text,
            intent=ranking[0],
            ranking=tuple(ranking),
            entities=entities,
            locale=clear_language(text),
            engine=self.name,
        )

    async def parse(self, text: str, *, today: date) -> Parse:
        return self.parse_now(text, today=today)
