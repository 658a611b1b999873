"""The list's filter choices with counts (facets) and the tags in use, precomputed.

A page reads them from the small FacetCount table (one indexed query), so a cold page costs
what a warm one does at any table size. Writers keep the counts:

- `tracking(step_ids)` around a batch that changes steps, their messages or votes: it reads
  the batch's facet values before and after and adds the difference (per batch, not per step);
- `rebuild()` recounts everything from the tables (`manage.py rebuild_facets`, and a periodic
  Celery task).

Consistency: eventually consistent, not exact. A sync page's counts change in the same
transaction as its steps; a refresh batch's when the batch ends (seconds later). A worker
killed mid-batch, two writers racing on one step, or a row changed by hand (admin, SQL) can
leave a count off by a few; the periodic rebuild repairs it. Exact counts would need every
writer to serialise on the counter rows for the whole of its transaction, which is the sync's
throughput; a facet count is a hint next to a filter, never a total anyone reconciles.
"""

from .read import facets, known_tags, values_of
from .rebuild import rebuild
from .store import apply_deltas, tracking

__all__ = ["apply_deltas", "facets", "known_tags", "rebuild", "tracking", "values_of"]
