"""Work a web process does once at start rather than in its first requests.

Django compiles a template the first time it renders it and keeps it per process (the cached
loader): without this, the first visitor of each page in each fresh worker paid for parsing
the page and its includes. The same for the URL patterns: the first `reverse()` in a process
builds the lookup tables of the URLconf and of each namespace it names (about 11 ms of CPU of a
fresh worker's first list page, which names several). And for the authentication backends: the
first permission check (a step page asks whether the user may share) imports every
backend, the sign-on one with PyJWT and its cryptography: 265 ms of a fresh worker's first
page here. gunicorn imports the WSGI module before a
worker serves anything (in the master with --preload, so forked workers share the result).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_backends
from django.template import engines
from django.urls import NoReverseMatch, get_resolver, reverse


def compile_templates() -> int:
    """Compile every template of the project's own template directory; returns how many."""
    engine = engines["django"]
    compiled = 0
    for directory in settings.TEMPLATES[0]["DIRS"]:
        for path in sorted(Path(directory).rglob("*.html")):
            engine.get_template(path.relative_to(directory).as_posix())
            compiled += 1
    return compiled


def build_url_tables() -> int:
    """Build the URLconf's reverse tables, and each namespace's, as the first `reverse()` would;
    returns how many namespaces. A namespaced name ("review:queue") is reversed through a
    resolver of its own that `reverse()` makes and caches per namespace (get_ns_resolver): its
    tables are built by reversing one name in it. Without that the first list page of a fresh
    worker built them itself: 41-44 ms of CPU in process, against 31-32 with them built and
    21 for the next request."""
    resolver = get_resolver()
    resolver.reverse_dict  # noqa: B018 - reading it builds the tables
    todo, built = [("", resolver)], 0
    while todo:
        prefix, current = todo.pop()
        for namespace, (_, sub) in current.namespace_dict.items():
            path = f"{prefix}{namespace}:"
            names = [name for name in sub.reverse_dict if isinstance(name, str)]
            # a name that needs arguments fails to match, after its namespace's tables are built
            if names:
                with contextlib.suppress(NoReverseMatch):
                    reverse(path + names[0])
            built += 1
            todo.append((path, sub))
    return built


def load_auth_backends() -> int:
    """Import every authentication backend, as the first permission check would."""
    return len(get_backends())
