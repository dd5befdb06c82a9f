"""Where the hub's templates live, installed or in a source checkout."""

from __future__ import annotations

from pathlib import Path


def templates_dir() -> Path:
    """``hub/_templates`` inside a wheel, else the repository's ``templates/``."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "_templates", package.parent / "templates"):
        if (candidate / "replies").is_dir():
            return candidate
    raise FileNotFoundError("templates/ not found next to the hub package")


def nlu_data_dir() -> Path:
    """The Rasa-format training data: ``hub/_nlu/data`` in a wheel, else ``nlu/data``."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "_nlu" / "data", package.parent / "nlu" / "data"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("nlu/data not found next to the hub package")


def default_catalogue_path() -> Path:
    """``hub/_data/services.yaml`` inside a wheel, else the repository's ``services.yaml``."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "_data" / "services.yaml", package.parent / "services.yaml"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("services.yaml not found next to the hub package")
