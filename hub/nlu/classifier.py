"""The built-in intent classifier: TF-IDF over characters and words, logistic regression.

Character n-grams survive the typos and abbreviations of informal Indonesian
("pasport", "antriannya"); word n-grams carry the phrasing ("syarat apa").
Logistic regression gives calibrated-enough probabilities for the confidence
threshold, trains in about a second and predicts in well under a millisecond.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline


class IntentClassifier:
    """Fit on normalised texts; predicts a ranking of (intent, probability)."""

    def __init__(self, c: float = 10.0) -> None:
        # scikit-learn takes most of a second to import: only a hub that builds or
        # loads a model pays it, not every ``omnihub`` command.
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import FeatureUnion, Pipeline

        self.pipeline: Pipeline = Pipeline(
            [
                (
                    "features",
                    FeatureUnion(
                        [
                            (
                                "chars",
                                TfidfVectorizer(
                                    analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True
                                ),
                            ),
                            (
                                "words",
                                TfidfVectorizer(
                                    analyzer="word",
                                    ngram_range=(1, 2),
                                    sublinear_tf=True,
                                    token_pattern=r"(?u)\b\w+\b|[?!]",
                                ),
                            ),
                        ]
                    ),
                ),
                (
                    "model",
                    LogisticRegression(C=c, max_iter=3000, class_weight="balanced"),
                ),
            ]
        )

    def fit(self, texts: Sequence[str], intents: Sequence[str]) -> IntentClassifier:
        self.pipeline.fit(list(texts), list(intents))
        return self

    @property
    def intents(self) -> list[str]:
        classes: Any = self.pipeline.classes_
        return [str(c) for c in classes]

    def rank(self, text: str, top: int = 5) -> list[tuple[str, float]]:
        probabilities = self.pipeline.predict_proba([text])[0]
        order = np.argsort(probabilities)[::-1][:top]
        classes = self.intents
        return [(classes[i], float(probabilities[i])) for i in order]
