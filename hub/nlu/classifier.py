"""The built-in intent classifier: TF-IDF over characters and words, logistic regression.

Character n-grams survive the typos and abbreviations of informal Indonesian
("pasport", "antriannya"); word n-grams carry the phrasing ("syarat apa").
Logistic regression gives calibrated-enough probabilities for the confidence
threshold and trains in seconds.

scikit-learn fits the model, but predicting one message through its pipeline costs
about 2 ms, nearly all of it input validation made for batches. After fitting, the
vocabularies, IDF weights and coefficients are copied into :class:`_Scorer`, which
does the same arithmetic for one text in a tenth of that (``rank`` matches the
pipeline's ``predict_proba``; a test holds them equal).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline


@dataclass(frozen=True, slots=True)
class _Vectoriser:
    """One TF-IDF vectoriser's view of a text: its analyser, vocabulary and IDF."""

    analyse: Callable[[str], list[str]]
    vocabulary: dict[str, int]
    idf: NDArray[np.float64]
    offset: int
    """Where this vectoriser's columns start in the joined feature space."""

    def features(self, text: str) -> tuple[list[int], NDArray[np.float64]]:
        counts = Counter(
            index for term in self.analyse(text) if (index := self.vocabulary.get(term)) is not None
        )
        if not counts:
            return [], np.zeros(0)
        columns = list(counts)
        weights = np.fromiter(
            (1.0 + math.log(counts[c]) for c in columns), dtype=np.float64, count=len(columns)
        )
        weights *= self.idf[columns]
        weights /= np.sqrt(weights @ weights)
        return [c + self.offset for c in columns], weights


@dataclass(frozen=True, slots=True)
class _Scorer:
    """The fitted pipeline's prediction for one text, without its batch machinery."""

    vectorisers: tuple[_Vectoriser, ...]
    weights: NDArray[np.float64]
    """Coefficients by feature (rows) and class (columns)."""
    intercept: NDArray[np.float64]

    def probabilities(self, text: str) -> NDArray[np.float64]:
        logits = self.intercept.copy()
        for vectoriser in self.vectorisers:
            columns, values = vectoriser.features(text)
            if columns:
                logits += values @ self.weights[columns]
        logits -= logits.max()
        exp = np.exp(logits)
        result: NDArray[np.float64] = exp / exp.sum()
        return result


def _scorer(pipeline: Pipeline) -> _Scorer:
    union = pipeline.named_steps["features"]
    model = pipeline.named_steps["model"]
    vectorisers: list[_Vectoriser] = []
    offset = 0
    for _name, vectoriser in union.transformer_list:
        vocabulary = {str(term): int(index) for term, index in vectoriser.vocabulary_.items()}
        vectorisers.append(
            _Vectoriser(
                analyse=vectoriser.build_analyzer(),
                vocabulary=vocabulary,
                idf=np.asarray(vectoriser.idf_, dtype=np.float64),
                offset=offset,
            )
        )
        offset += len(vocabulary)
    coef = np.asarray(model.coef_, dtype=np.float64)
    intercept = np.asarray(model.intercept_, dtype=np.float64)
    if coef.shape[0] == 1:  # two classes: one logit, the first class's is zero
        coef = np.vstack([np.zeros_like(coef), coef])
        intercept = np.concatenate([np.zeros(1), intercept])
    return _Scorer(tuple(vectorisers), np.ascontiguousarray(coef.T), intercept)


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
        self._scorer: _Scorer | None = None

    def fit(self, texts: Sequence[str], intents: Sequence[str]) -> IntentClassifier:
        self.pipeline.fit(list(texts), list(intents))
        self._scorer = _scorer(self.pipeline)
        return self

    @property
    def intents(self) -> list[str]:
        classes: Any = self.pipeline.classes_
        return [str(c) for c in classes]

    def rank(self, text: str, top: int = 5) -> list[tuple[str, float]]:
        if self._scorer is None:
            self._scorer = _scorer(self.pipeline)
        probabilities = self._scorer.probabilities(text)
        order = np.argsort(probabilities)[::-1][:top]
        classes = self.intents
        return [(classes[i], float(probabilities[i])) for i in order]

    def rank_slowly(self, text: str, top: int = 5) -> list[tuple[str, float]]:
        """The same ranking through scikit-learn's pipeline: what :meth:`rank` must equal."""
        probabilities = self.pipeline.predict_proba([text])[0]
        order = np.argsort(probabilities)[::-1][:top]
        classes = self.intents
        return [(classes[i], float(probabilities[i])) for i in order]
