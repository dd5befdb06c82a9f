"""The catalogue in use: one holder that every reader asks at each use.

A reload of services.yaml (``omnihub catalogue reload``, SIGHUP) replaces the
catalogue here once, and the dialogs, the booking rules, CARE, the NLU's service
names, the console and the API all answer from the new one from their next
message on. Readers that derive something costly from it (the booking calendar,
the NLU's name matcher) rebuild it when :attr:`CurrentCatalogue.catalogue` is no
longer the object they built it from.
"""

from __future__ import annotations

from hub.catalogue.reading import Catalogue


class CurrentCatalogue:
    def __init__(self, catalogue: Catalogue) -> None:
        self._catalogue = catalogue

    @property
    def catalogue(self) -> Catalogue:
        return self._catalogue

    def replace(self, catalogue: Catalogue) -> None:
        """Answer from ``catalogue`` from now on (checked by the caller beforehand)."""
        self._catalogue = catalogue


def current(catalogue: Catalogue | CurrentCatalogue) -> CurrentCatalogue:
    """A fixed catalogue (a unit test, a command) as a holder nobody replaces."""
    return catalogue if isinstance(catalogue, CurrentCatalogue) else CurrentCatalogue(catalogue)
