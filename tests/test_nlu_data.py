"""The Rasa-format training data is well formed and covers every intent."""

from __future__ import annotations

from pathlib import Path

import yaml

from hub.nlu import training_data
from hub.nlu.results import ENTITY_TYPES, INTENTS

NLU = Path(__file__).resolve().parent.parent / "nlu"
SERVICES = Path(__file__).resolve().parent.parent / "services.yaml"


def test_every_intent_is_trained_and_in_the_development_set() -> None:
    train = training_data.load([NLU / "data"])
    held_out = training_data.load([NLU / "dev" / "heldout.yml"])
    for split, minimum in ((train, 40), (held_out, 15)):
        counts = {intent: 0 for intent in INTENTS}
        for example in split.examples:
            assert example.intent in counts, example
            counts[example.intent] += 1
        assert min(counts.values()) >= minimum, counts


def test_development_sets_share_no_example_with_training() -> None:
    train = {e.text.strip().lower() for e in training_data.load([NLU / "data"]).examples}
    held_out = {e.text.strip().lower() for e in training_data.load([NLU / "dev"]).examples}
    assert held_out
    assert train & held_out == set()


def test_annotations_use_known_types_and_catalogue_ids() -> None:
    catalogue = yaml.safe_load(SERVICES.read_text(encoding="utf-8"))
    ids = {service["id"] for service in catalogue["services"]}
    for folder in ("data", "dev"):
        for example in training_data.load([NLU / folder]).examples:
            for entity in example.entities:
                assert entity.type in ENTITY_TYPES, (folder, example)
                assert example.text[entity.start : entity.end] == entity.text
                if entity.type == "service":
                    assert entity.value in ids, (folder, example)


def test_rasa_pipeline_config_is_present() -> None:
    config = yaml.safe_load((NLU / "config.yml").read_text(encoding="utf-8"))
    assert config["recipe"] == "default.v1" and config["pipeline"]
