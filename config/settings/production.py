"""Production: everything from the environment, no default secret, HTTPS only."""

from config.settings.base import *  # noqa: F403
from config.settings.base import WEBHOOKS, env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
# Static files (the agenda's and admin's CSS and scripts, the API docs' Swagger UI) served
# by the app's own server after collectstatic, in front of Django (sessions_app.ops.static):
# hashed names, compressed copies, a year's caching. No CDN or separate static server needed.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "servestatic.storage.CompressedManifestStaticFilesStorage"},
}
# Webhook receivers on private or loopback addresses are refused here whatever the
# environment says; DJANGO_WEBHOOK_ALLOWED_NETWORKS names the internal ones you trust.
WEBHOOKS = {**WEBHOOKS, "ALLOW_PRIVATE_ADDRESSES": False}

# Superusers sign in with a second factor, whatever the environment says.
SUPERUSER_SECOND_FACTOR = True
