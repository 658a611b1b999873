from django.apps import AppConfig


class AccessConfig(AppConfig):
    # An app of its own so its migration (the role groups) is not ordered among the steps
    # app's schema migrations.
    name = "steps.access"
    label = "access"
    verbose_name = "Roles"

    def ready(self):
        from . import checks  # noqa: F401  (single sign-on settings, checked at start)
