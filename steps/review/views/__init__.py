"""The review pages: one module a page family (queues, reviewing, agreement, rubrics, exports)."""
