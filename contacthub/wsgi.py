"""WSGI entry point (gunicorn contacthub.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contacthub.settings")
application = get_wsgi_application()
