"""Reading NLU data in Rasa 3 format: the same files train us and a Rasa server.

Only what the hub needs is read: intent examples with their entity
annotations (``[text](type)`` and ``[text]{"entity": type, "value": v}``) and
``synonym`` blocks; ``regex`` and ``lookup`` blocks are for Rasa's featurisers.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

_ANNOTATION = re.compile(r"\[(?P<text>[^\]]+)\](?:\((?P<type>[^)]+)\)|(?P<json>\{[^}]*\}))")


class TrainingDataError(ValueError):
    """A training file that is not valid Rasa 3 NLU data; says which file and why."""


@dataclass(frozen=True, slots=True)
class GoldEntity:
    type: str
    value: str
    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Example:
    intent: str
    text: str
    entities: tuple[GoldEntity, ...] = ()


@dataclass(slots=True)
class TrainingData:
    examples: list[Example] = field(default_factory=list)
    synonyms: dict[str, str] = field(default_factory=dict)
    """Lower-cased synonym text -> canonical value (e.g. "pasport" -> "paspor")."""

    @property
    def intents(self) -> list[str]:
        return sorted({e.intent for e in self.examples})


def parse_example(line: str, intent: str, synonyms: dict[str, str] | None = None) -> Example:
    """One annotated example line -> plain text plus entity spans in that text."""
    synonyms = synonyms or {}
    text_parts: list[str] = []
    entities: list[GoldEntity] = []
    position = 0
    cursor = 0
    for match in _ANNOTATION.finditer(line):
        before = line[cursor : match.start()]
        text_parts.append(before)
        position += len(before)
        span = match.group("text")
        if match.group("type"):
            entity_type, value = match.group("type"), None
        else:
            try:
                spec = json.loads(match.group("json"))
            except json.JSONDecodeError as exc:
                raise TrainingDataError(f"bad entity annotation in {line!r}") from exc
            entity_type, value = str(spec.get("entity", "")), spec.get("value")
        if not entity_type:
            raise TrainingDataError(f"entity annotation without a type in {line!r}")
        if value is None:
            value = synonyms.get(span.lower(), span)
        entities.append(GoldEntity(entity_type, str(value), span, position, position + len(span)))
        text_parts.append(span)
        position += len(span)
        cursor = match.end()
    text_parts.append(line[cursor:])
    return Example(intent=intent, text="".join(text_parts), entities=tuple(entities))


def _blocks(path: Path) -> list[dict[str, object]]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TrainingDataError(f"{path}: {exc}".replace("\n", " ")) from exc
    if not isinstance(document, dict) or not isinstance(document.get("nlu", []), list):
        raise TrainingDataError(f"{path}: expected a mapping with an 'nlu' list")
    return [b for b in document.get("nlu", []) if isinstance(b, dict)]


def _lines(block: dict[str, object], path: Path) -> list[str]:
    raw = block.get("examples", "")
    if not isinstance(raw, str):
        raise TrainingDataError(f"{path}: 'examples' must be a block of '- ' lines")
    lines = [line.strip() for line in raw.splitlines() if line.strip()]
    bad = [line for line in lines if not line.startswith("- ")]
    if bad:
        raise TrainingDataError(f"{path}: example lines must start with '- ': {bad[0]!r}")
    return [line[2:].strip() for line in lines]


def yml_files(paths: Iterable[Path]) -> list[Path]:
    """The given files, each folder replaced by its ``.yml`` files in name order."""
    files: list[Path] = []
    for path in paths:
        files += sorted(path.glob("*.yml")) if path.is_dir() else [path]
    return files


def _read(files: list[Path]) -> tuple[dict[str, str], list[tuple[Path, list[Example]]]]:
    """Synonyms from every file first, then each file's examples with all synonyms applied."""
    blocks = [(file, _blocks(file)) for file in files]
    synonyms: dict[str, str] = {}
    for file, file_blocks in blocks:
        for block in file_blocks:
            if "synonym" in block:
                for line in _lines(block, file):
                    synonyms[line.lower()] = str(block["synonym"])
    by_file: list[tuple[Path, list[Example]]] = []
    for file, file_blocks in blocks:
        examples: list[Example] = []
        for block in file_blocks:
            if "intent" in block:
                intent = str(block["intent"])
                examples += [parse_example(line, intent, synonyms) for line in _lines(block, file)]
        by_file.append((file, examples))
    return synonyms, by_file


def load(paths: Iterable[Path]) -> TrainingData:
    """Every intent example and synonym in the given files (or folders of .yml files)."""
    synonyms, by_file = _read(yml_files(paths))
    return TrainingData([e for _file, examples in by_file for e in examples], synonyms)


def load_by_file(paths: Iterable[Path]) -> list[tuple[Path, list[Example]]]:
    """Each file's examples, as :func:`load` reads them, keeping which file each came from.

    Used to score a held-out set per file (one file per register of writing).
    """
    return _read(yml_files(paths))[1]


def fingerprint(paths: Iterable[Path]) -> str:
    """A hash of the data files' contents, stored with a model to know when it is stale."""
    digest = hashlib.sha256()
    for file in yml_files(paths):
        digest.update(file.name.encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()
