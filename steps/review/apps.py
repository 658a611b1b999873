from django.apps import AppConfig


class ReviewConfig(AppConfig):
    # An app of its own: queues and rubrics are local data with their own migrations, and the
    # mirror's app (steps) never imports them.
    name = "steps.review"
    label = "review"
    verbose_name = "Review queues"

    def ready(self) -> None:
        from . import counters, live  # noqa: F401  (register the receivers: counters, live queues)
