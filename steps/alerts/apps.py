from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "steps.alerts"
    label = "alerts"
    verbose_name = "Saved views, rules and alerts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Registers the rules' receiver with the sync's new-steps hook (steps/sync/hooks.py).
        from . import rules  # noqa: F401
