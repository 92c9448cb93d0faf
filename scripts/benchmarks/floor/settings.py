"""A bare Django project: no apps, no middleware, one view (``benchmarks.floor.urls``), the
bench's PostgreSQL database with persistent connections. The floor of a write on this stack."""

import os
from urllib.parse import parse_qs, urlsplit

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "benchmarks.floor.urls"
USE_TZ = True

_url = urlsplit(os.environ["DATABASE_URL"])
_query = {key: values[0] for key, values in parse_qs(_url.query).items()}
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _url.path.lstrip("/"),
        "USER": _url.username or "postgres",
        "HOST": _query.get("host", _url.hostname or ""),
        "PORT": _query.get("port", str(_url.port or "")),
        "CONN_MAX_AGE": None,
    }
}
