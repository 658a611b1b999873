"""Work a web process does once at start rather than in its first requests.

Django compiles a template the first time it renders it and keeps it per process (the cached
loader): without this, the first visitor of each page in each fresh worker paid for parsing
the page and its includes. gunicorn imports the WSGI module before a worker serves anything
(in the master with --preload, so forked workers share the result).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.template import engines


def compile_templates() -> int:
    """Compile every template of the project's own template directory; returns how many."""
    engine = engines["django"]
    compiled = 0
    for directory in settings.TEMPLATES[0]["DIRS"]:
        for path in sorted(Path(directory).rglob("*.html")):
            engine.get_template(path.relative_to(directory).as_posix())
            compiled += 1
    return compiled
