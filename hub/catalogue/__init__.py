"""The mall's services as the hub knows them (services.yaml), and the one in use.

:mod:`hub.catalogue.reading` reads and checks the file; :mod:`hub.catalogue.current`
holds the catalogue every reader answers from, replaced at once on a reload.
"""

from hub.catalogue.current import CurrentCatalogue, current
from hub.catalogue.reading import (
    LOCALES,
    Agency,
    AgencyWording,
    Catalogue,
    CatalogueError,
    MallWording,
    Service,
    ServiceWording,
    Translation,
    citizen_text,
    load_catalogue,
)
from hub.resources import default_catalogue_path

__all__ = [
    "LOCALES",
    "Agency",
    "AgencyWording",
    "Catalogue",
    "CatalogueError",
    "CurrentCatalogue",
    "MallWording",
    "Service",
    "ServiceWording",
    "Translation",
    "citizen_text",
    "current",
    "default_catalogue_path",
    "load_catalogue",
]
