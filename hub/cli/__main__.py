"""``python -m hub.cli``: the ``omnihub`` command without the installed entry point."""

from hub.cli import main

raise SystemExit(main())
