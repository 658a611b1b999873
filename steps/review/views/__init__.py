"""The review pages, one module a page family: queues (list, create, settings, progress),
reviewing one item at a time, adjudication, agreement, rubrics. Thin views over steps.review's
functions; each checks who may do what."""
