"""Putting the NLU together from configuration: catalogue, data, model, engine.

``hub.nlu`` knows nothing of files or settings (it may import only the model);
this module is where the pieces meet. :class:`Understanding` is what the inbound
pipeline asks: the engine is loaded (or trained) when the hub starts, off the
event loop, and follows the catalogue in use, so a reload's new synonyms are
understood from the next message on without retraining.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from pathlib import Path

from aiohttp import ClientSession

from hub.catalogue import Catalogue, CurrentCatalogue, load_catalogue
from hub.config import Settings
from hub.nlu import builtin
from hub.nlu.entities import EntityExtractor
from hub.nlu.results import NluEngine, Parse
from hub.resources import default_catalogue_path, nlu_data_dir


def catalogue_for(settings: Settings) -> Catalogue:
    path = settings.catalogue.path
    return load_catalogue(Path(path) if path else default_catalogue_path())


def service_names(catalogue: Catalogue) -> dict[str, list[str]]:
    """What the entity extractor matches a service by: its names and synonyms."""
    return {
        service.id: [service.name_id, service.name_en, *service.synonyms]
        for service in catalogue.services.values()
    }


def use_service_names(engine: NluEngine, catalogue: Catalogue) -> bool:
    """Swap the built-in engine's entity extractor for one with ``catalogue``'s names.

    Works for the built-in engine and for Rasa's built-in fallback (which resolves
    the entities); the intent model stays, as it sees services only as a type.
    Returns False when there is no built-in engine to update.
    """
    while not isinstance(engine, builtin.BuiltinEngine):
        fallback = getattr(engine, "fallback", None)
        if fallback is None:
            return False
        engine = fallback
    engine.extractor = EntityExtractor(service_names(catalogue))
    return True


def data_paths(settings: Settings) -> list[Path]:
    return [Path(settings.nlu.data_dir) if settings.nlu.data_dir else nlu_data_dir()]


def load_builtin_engine(
    settings: Settings | None = None,
    *,
    force_train: bool = False,
    catalogue: Catalogue | None = None,
) -> tuple[builtin.BuiltinEngine, builtin.SavedModel, bool]:
    """The built-in engine, training (and saving) its model when needed.

    ``catalogue`` is the one the caller already holds (read from settings if not given).
    Returns the engine, its model and whether it was trained just now.
    """
    settings = settings or Settings()
    catalogue = catalogue or catalogue_for(settings)
    extractor = EntityExtractor(service_names(catalogue))
    paths = data_paths(settings)
    model_path = Path(settings.nlu.model_path)
    if force_train:
        model = builtin.train(paths, extractor)
        builtin.save(model, model_path)
        trained = True
    else:
        model, trained = builtin.load_or_train(paths, model_path, extractor)
    return builtin.BuiltinEngine(model.classifier, extractor), model, trained


def open_engine(
    settings: Settings,
    catalogue: Catalogue,
    http: ClientSession,
    on_fallback: Callable[[str], None],
) -> NluEngine:
    """The configured engine; a Rasa engine falls back to the built-in one."""
    engine, _model, _trained = load_builtin_engine(settings, catalogue=catalogue)
    if settings.nlu.engine == "builtin":
        return engine
    from hub.nlu.rasa import RasaEngine

    return RasaEngine(
        settings.nlu.rasa_url,
        http,
        settings.nlu.rasa_timeout_seconds,
        fallback=engine,
        on_fallback=on_fallback,
    )


class Understanding:
    """The NLU of one hub process: no engine until :meth:`start`, then the configured one."""

    def __init__(
        self,
        settings: Settings,
        catalogues: CurrentCatalogue,
        on_fallback: Callable[[str], None] = lambda reason: None,
    ) -> None:
        self.settings = settings
        self.catalogues = catalogues
        self.on_fallback = on_fallback
        self.engine: NluEngine | None = None
        """None before start (and in a test that wants none): every text is out of scope."""
        self._names_of: Catalogue | None = None

    async def start(self, http: ClientSession) -> None:
        """Load (or, when the data changed, train) the model: it takes a moment, so in a thread."""
        catalogue = self.catalogues.catalogue
        self.engine = await asyncio.to_thread(
            open_engine, self.settings, catalogue, http, self.on_fallback
        )
        self._names_of = catalogue

    async def parse(self, text: str, today: date) -> Parse | None:
        """What ``text`` means; None without an engine."""
        engine = self.engine
        if engine is None:
            return None
        catalogue = self.catalogues.catalogue
        if catalogue is not self._names_of:
            await asyncio.to_thread(use_service_names, engine, catalogue)
            self._names_of = catalogue
        return await engine.parse(text, today=today)
