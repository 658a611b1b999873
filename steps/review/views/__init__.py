"""The review pages: queues (list, create, settings, progress), reviewing one item at a time,
and adjudication. Thin views over steps.review's functions; each checks who may do what."""
