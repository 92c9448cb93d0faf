"""Test runs: fast hashing, SQLite unless DATABASE_URL points elsewhere."""

import os
import tempfile

from config.settings.base import *  # noqa: F403
from config.settings.base import DATABASES, HOUSEKEEPING, LOGGING, WEBHOOKS, env

DEBUG = False
SECRET_KEY = "test-only-secret-key-" + "y" * 40
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
OAUTH2_PROVIDER = {**OAUTH2_PROVIDER, "CLIENT_SECRET_HASHER": "md5"}  # noqa: F405
# Quiet, unless DJANGO_LOG_LEVEL asks for lines on stderr (as a worker a test starts does).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {
        "handlers": ["console"] if "DJANGO_LOG_LEVEL" in os.environ else [],
        "level": env("DJANGO_LOG_LEVEL", default="WARNING"),
    },
    "loggers": {"oauth2_provider.models": LOGGING["loggers"]["oauth2_provider.models"]},
}
# The throttles get their own tests; elsewhere many tokens come from one test address.
TOKEN_RATE_LIMIT = {"PER_CLIENT": 10**6, "PER_ADDRESS": 10**6, "WINDOW_SECONDS": 60}
# The receivers the tests start listen on loopback; the SSRF guard has its own tests.
WEBHOOKS = {**WEBHOOKS, "ALLOW_PRIVATE_ADDRESSES": True}
# A worker a test starts keeps house only when that test asks (DJANGO_HOUSEKEEPING_EVERY).
HOUSEKEEPING = {
    **HOUSEKEEPING,
    "EVERY_SECONDS": env.float("DJANGO_HOUSEKEEPING_EVERY", default=0.0),
}

# SQLite runs on a file, not on Django's in-memory test database: the browser tests' live
# server answers each request in a thread of its own, and with an in-memory database every
# thread shares the one connection (a live agenda's polling and an admin page running at
# once hung the run). A file gives each thread its own connection, as `make run` does.
if DATABASES["default"]["ENGINE"] == "config.sqlite3":
    DATABASES["default"]["TEST"] = {
        "NAME": os.path.join(tempfile.gettempdir(), f"sessions-manager-test-{os.getpid()}.sqlite3")
    }
    # A test database need not survive a crash: no flush to disk at every commit.
    DATABASES["default"]["OPTIONS"]["init_command"] = "PRAGMA synchronous = OFF;"
# Tests sign superusers in without a second factor unless they ask for it; the live server
# is plain http on localhost, where Chromium's virtual authenticator makes passkeys.
SUPERUSER_SECOND_FACTOR = False
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True
