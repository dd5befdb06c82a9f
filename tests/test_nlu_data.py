"""The Rasa-format training data is well formed, and the spine's matcher agrees with it."""

from __future__ import annotations

from pathlib import Path

import yaml

from hub.dialogs.keywords import KeywordMatcher

NLU = Path(__file__).resolve().parent.parent / "nlu"


def _examples() -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for file in sorted((NLU / "data").glob("*.yml")):
        document = yaml.safe_load(file.read_text(encoding="utf-8"))
        assert document["version"] == "3.1", file
        for block in document["nlu"]:
            lines = [line.strip() for line in block["examples"].splitlines() if line.strip()]
            assert all(line.startswith("- ") for line in lines), (file, block["intent"])
            pairs += [(block["intent"], line[2:]) for line in lines]
    return pairs


def test_training_data_is_rasa_3_format_and_not_empty() -> None:
    pairs = _examples()
    intents = {intent for intent, _ in pairs}
    assert {"greet", "thanks", "goodbye", "help"} <= intents
    assert all(len([p for p in pairs if p[0] == intent]) >= 7 for intent in intents)
    config = yaml.safe_load((NLU / "config.yml").read_text(encoding="utf-8"))
    assert config["recipe"] == "default.v1" and config["pipeline"]


def test_keyword_matcher_classifies_every_smalltalk_example() -> None:
    matcher = KeywordMatcher()
    wrong = [(text, intent, matcher.parse(text).intent) for intent, text in _examples()]
    wrong = [w for w in wrong if w[1] != w[2]]
    assert wrong == []
