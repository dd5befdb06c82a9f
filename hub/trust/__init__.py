"""The public transparency page: ``GET /trust`` and ``GET /trust.json``, aggregates only.

``TrustPage`` (page.py) holds the handlers, the cache and the templates; ``hub.app``
builds one and adds its ``routes()``. Its figures come from ``hub.store.transparency``
(grouped queries), are added up by ``figures.py`` and published through the small-count
rule of ``small_counts.py``; ``drawing.py`` makes the charts, ``document.py`` the JSON.
"""

from hub.trust.page import TrustPage

__all__ = ["TrustPage"]
