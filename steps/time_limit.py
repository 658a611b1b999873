"""A time limit on PostgreSQL statements, for reads whose answer is worth having only quickly:
a count beside a list's title, a saved view's "new" count, the search's probe of an index."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import OperationalError, connection, transaction

QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement_timeout


class TimedOut(Exception):
    pass


@contextmanager
def statement_time_limit(ms: int) -> Iterator[None]:
    """PostgreSQL gives up any statement inside after `ms` milliseconds: TimedOut is raised
    (its transaction, a savepoint when nested, is rolled back)."""
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL statement_timeout = {int(ms)}")
            yield
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) != QUERY_CANCELED:
            raise
        raise TimedOut from exc
