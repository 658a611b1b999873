import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
application = get_wsgi_application()

from dashboard.warmup import build_url_tables, compile_templates, load_auth_backends  # noqa: E402 - needs the settings above

compile_templates()
build_url_tables()
load_auth_backends()
