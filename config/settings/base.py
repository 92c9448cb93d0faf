"""Settings shared by every environment; each value can come from a DJANGO_ variable."""

from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
env.prefix = ""

SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

PRODUCT_NAME = "Sessions Manager"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "oauth2_provider",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "sessions_app",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Problem+json for Django's own errors under /api/ and /oauth2/ (404, 405, 413, 500).
    "sessions_app.api.middleware.ApiProblemMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"


def database_config(url: str) -> dict:
    """Parse DATABASE_URL; SQLite gets IMMEDIATE transactions so writers queue, not fail."""
    db = environ.Env.db_url_config(url)
    if db["ENGINE"] == "django.db.backends.sqlite3":
        db.setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})
    else:
        db.setdefault("CONN_MAX_AGE", env.int("DJANGO_CONN_MAX_AGE", default=0))
    return db


DATABASES = {
    "default": database_config(env("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"))
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]

LOGIN_URL = "admin:login"

# --- OAuth2 (django-oauth-toolkit) -------------------------------------------------------
OAUTH2_PROVIDER_APPLICATION_MODEL = "sessions_app.ApiClient"
OAUTH2_PROVIDER = {
    "ACCESS_TOKEN_EXPIRE_SECONDS": 1800,
    "SCOPES": {
        "sessions:read": "Read sessions, events, tracks, locations and custom fields",
        "sessions:write": "Create, update, delete sessions and change their status",
    },
    "DEFAULT_SCOPES": ["sessions:read"],
    # Tokens are stored as a SHA-256 checksum only (RFC 9700); client secrets are hashed.
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "PKCE_REQUIRED": True,
    # Only the client-credentials grant is used; opt in to every RFC 9700 hardening now.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
    # A client gets (and may ask for) only the scopes on its own record.
    "SCOPES_BACKEND_CLASS": "sessions_app.api.oauth.ApiClientScopes",
}

# --- Sessions API ------------------------------------------------------------------------
API_RATE_LIMIT = {
    "REQUESTS": env.int("DJANGO_API_RATE_LIMIT_REQUESTS", default=2000),
    "WINDOW_SECONDS": env.int("DJANGO_API_RATE_LIMIT_WINDOW", default=600),
    "LIST_COST": env.int("DJANGO_API_RATE_LIMIT_LIST_COST", default=10),
}
API_MAX_BODY_BYTES = 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["sessions_app.api.authentication.ClientTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["sessions_app.api.permissions.HasScopeForMethod"],
    "DEFAULT_PARSER_CLASSES": [
        "sessions_app.api.parsers.JSONParser",
        "sessions_app.api.parsers.FormParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "sessions_app.api.parsers.AlwaysJSON",
    "EXCEPTION_HANDLER": "sessions_app.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    "URL_FORMAT_OVERRIDE": None,
    "STRICT_JSON": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": f"{PRODUCT_NAME} API",
    "DESCRIPTION": (
        "Sessions of your organisation's events. Get a token with the OAuth2 "
        "client-credentials grant at POST /oauth2/token, then send it as "
        "`Authorization: Bearer <token>`. Every error is application/problem+json."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No validator badge: it would be fetched from validator.swagger.io.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "OAUTH2_FLOWS": ["clientCredentials"],
    "OAUTH2_TOKEN_URL": "/oauth2/token",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_ADD_EXPLICIT_BLANK_NULL_CHOICE": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "sessions_app.api.schema.complete_schema",
    ],
}

SESSION_TOKEN_LIFETIME = timedelta(seconds=OAUTH2_PROVIDER["ACCESS_TOKEN_EXPIRE_SECONDS"])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
}
