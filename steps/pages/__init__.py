"""What the pages show, computed once for the thin views (steps/views/) and the API:

* ``rows``: list rows and run rows, every value a template prints (``list_rows``, ``run_rows``).
* ``snippets``: where a searched row matched, the term marked (one query for a page).
* ``list_count``: how many steps the list's filter matches, exact while cheap, else estimated.
* ``timeline``: a step's messages as its page shows them, and the list's previews.
* ``compare``: two steps (or runs) loaded and diffed for the compare page (the diffing is steps.diff).
* ``share``: signed, expiring links to one step.
"""
