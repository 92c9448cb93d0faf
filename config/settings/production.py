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
# Static files (admin CSS, the API docs' Swagger UI) served by the app itself after
# collectstatic: no CDN and no separate static server needed. (In development runserver
# serves them; in tests there is no collected directory to serve from.)
# After the request log (and the gate, under ASGI): static files are logged too.
_LOG = MIDDLEWARE.index("sessions_app.ops.request_log.RequestLogMiddleware") + 1  # noqa: F405
MIDDLEWARE = [
    *MIDDLEWARE[:_LOG],  # noqa: F405
    "whitenoise.middleware.WhiteNoiseMiddleware",
    *MIDDLEWARE[_LOG:],  # noqa: F405
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Webhook receivers on private or loopback addresses are refused here whatever the
# environment says; DJANGO_WEBHOOK_ALLOWED_NETWORKS names the internal ones you trust.
WEBHOOKS = {**WEBHOOKS, "ALLOW_PRIVATE_ADDRESSES": False}
