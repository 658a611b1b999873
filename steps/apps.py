from django.apps import AppConfig


class StepsConfig(AppConfig):
    name = "steps"
    verbose_name = "Letta steps"

    def ready(self):
        # Registers the Celery tasks in every process, as the worker's autodiscovery does, so a
        # package can enqueue one by its name ("steps.tasks.push_feedback"), eagerly in tests too,
        # without importing steps.tasks (which imports the packages).
        from . import tasks  # noqa: F401
