from django.apps import AppConfig


class AuditConfig(AppConfig):
    # An app of its own: its migrations (the table and its append-only triggers) are not ordered
    # among the steps app's.
    name = "steps.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self):
        from . import signals  # noqa: F401  (sign-in and sign-out receivers)
