"""The intent classifier's fast path scores exactly as scikit-learn's pipeline does."""

from __future__ import annotations

from pathlib import Path

import joblib
import pytest

from hub.nlu.classifier import IntentClassifier

TEXTS = [
    "saya mau antre zservicez zdatez",
    "syarat zservicez apa saja",
    "biaya zservicez berapa",
    "halo kakak",
    "makasih ya",
    "what documents do i need for zservicez",
    "cuaca zdatez bagaimana",
    "antrean saya jam berapa",
    "petugas loket jutek banget",
]
INTENTS = [
    "book_queue",
    "ask_requirements",
    "ask_fee",
    "greet",
    "thanks",
    "ask_requirements",
    "out_of_scope",
    "check_booking",
    "file_complaint",
]


@pytest.fixture(scope="module")
def classifier() -> IntentClassifier:
    return IntentClassifier().fit(TEXTS, INTENTS)


@pytest.mark.parametrize(
    "text",
    [
        "mau antre zservicez",
        "syarat apa",
        "qwerty",  # no known n-gram of words; characters only
        "",  # nothing at all: the intercepts decide
        "biaya zservicez zdatez berapa ya kakak",
    ],
)
def test_fast_ranking_equals_the_pipeline(classifier: IntentClassifier, text: str) -> None:
    fast = dict(classifier.rank(text, top=len(INTENTS)))
    slow = dict(classifier.rank_slowly(text, top=len(INTENTS)))
    assert fast.keys() == slow.keys()
    for intent, probability in slow.items():
        assert fast[intent] == pytest.approx(probability, abs=1e-9)
    assert classifier.rank(text)[0][0] == classifier.rank_slowly(text)[0][0]


def test_a_saved_classifier_ranks_the_same(classifier: IntentClassifier, tmp_path: Path) -> None:
    path = tmp_path / "model.joblib"
    joblib.dump(classifier, path)
    loaded: IntentClassifier = joblib.load(path)
    assert loaded.rank("syarat zservicez") == classifier.rank("syarat zservicez")
    assert loaded.rank("syarat zservicez")[0][0] == "ask_requirements"
