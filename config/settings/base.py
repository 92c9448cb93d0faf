"""Settings shared by every environment; each value can come from a DJANGO_ variable."""

from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
env.prefix = ""

SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
# Old keys still accepted after a rotation (sessions, registrant page links), newest first.
SECRET_KEY_FALLBACKS = env.list("DJANGO_SECRET_KEY_FALLBACKS", default=[])
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
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "oauth2_provider",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    # Staff sign-in: the password step, second factors (TOTP, passkeys, recovery codes) and
    # single sign-on through an organisation's OpenID Connect provider (sessions_app.accounts).
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "django_tasks",
    "django_tasks_db",
    "sessions_app",
]

# Set by config.asgi: served by an ASGI server (make serve), where the live agenda's streams
# and pages are answered in the event loop and Django's requests in a few threads.
ASGI = env.bool("DJANGO_ASGI", default=False)

MIDDLEWARE = [
    # Every answer, even a 500 or a health check, gets a request id and a log line.
    "sessions_app.ops.request_log.RequestLogMiddleware",
    # Before the host check and the HTTPS redirect, which a balancer's probe must not meet.
    "sessions_app.ops.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    # The vendor's paths (.json suffix, /api/v1/oauth2/token) routed as the canonical ones.
    "sessions_app.api.middleware.VendorPathMiddleware",
    # Problem+json for Django's own errors under /api/ and /oauth2/ (404, 405, 413, 500).
    "sessions_app.api.middleware.ApiProblemMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # A staff member who must have a second factor and has none sets one up first.
    "sessions_app.accounts.middleware.SecondFactorSetupMiddleware",
    # Last, as django-axes asks: it answers a locked-out login attempt.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username and address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, keeping each role group's permissions apart (admin.roles).
    "sessions_app.admin.roles.RoleBackend",
    # Speakers: the one-time link emailed by the speakers' sign-in (sessions_app.cfp).
    "sesame.backends.ModelBackend",
]
# A speaker's sign-in link works once, for 15 minutes, and only for speakers' accounts
# (sessions_app.cfp.signin refuses staff).
SESAME_MAX_AGE = env.int("DJANGO_SPEAKER_LINK_SECONDS", default=15 * 60)
SESAME_ONE_TIME = True
# The call for proposals and the speakers' sign-in: per address and per email address, in
# fixed windows (the rate-limit store of the API).
CFP_LIMITS = {
    "SUBMIT_PER_ADDRESS": env.int("DJANGO_CFP_SUBMIT_PER_ADDRESS", default=10),
    "SUBMIT_PER_EMAIL": env.int("DJANGO_CFP_SUBMIT_PER_EMAIL", default=5),
    "SIGN_IN_PER_ADDRESS": env.int("DJANGO_CFP_SIGN_IN_PER_ADDRESS", default=20),
    "SIGN_IN_PER_EMAIL": env.int("DJANGO_CFP_SIGN_IN_PER_EMAIL", default=5),
    "WINDOW_SECONDS": env.int("DJANGO_CFP_WINDOW", default=3600),
    # A form sent sooner than this after it was served is a robot's.
    "MIN_FORM_SECONDS": env.float("DJANGO_CFP_MIN_FORM_SECONDS", default=3.0),
}

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
            # The admin's own tags live with the admin (sessions_app/admin/templatetags).
            "libraries": {
                "webhook_notices": "sessions_app.admin.templatetags.webhook_notices",
            },
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"


# Under ASGI, how many of a process's requests Django runs at once (config.asgi): one thread
# and one database connection each; the rest wait their turn in the event loop.
ASGI_CONCURRENT_REQUESTS = env.int("DJANGO_DB_POOL_SIZE", default=4)


def database_config(url: str) -> dict:
    """Parse DATABASE_URL; SQLite gets IMMEDIATE transactions so writers queue, not fail,
    and a LIKE that ignores case beyond ASCII (config.sqlite3).

    A server database's connections stay open between requests (``CONN_MAX_AGE``), one per
    thread that runs requests (a sync worker, one of the ``DJANGO_DB_POOL_SIZE`` threads of a
    process under ASGI, config.asgi, or the worker), and are checked before reuse, unless a
    request used it without an error in the last ``DB_HEALTH_CHECK_DELAY`` seconds
    (config.postgresql), so a busy connection costs no extra round trip and a database
    restart at most one 503 per connection.
    ``connect_timeout`` keeps a request from hanging on a database that does not answer.

    PostgreSQL gets its parameters bound by the server and a statement run five times on a
    connection prepared (``DJANGO_DB_PREPARED_STATEMENTS``): the hot path's statements are
    then planned once per connection, not on every request. Turn it off behind a pooler in
    transaction mode that cannot keep prepared statements (PgBouncer without
    ``max_prepared_statements``).
    """
    db = environ.Env.db_url_config(url)
    if db["ENGINE"] == "django.db.backends.sqlite3":
        db["ENGINE"] = "config.sqlite3"
        db.setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})
    else:
        if db["ENGINE"] == "django.db.backends.postgresql":
            db["ENGINE"] = "config.postgresql"
        options = db.setdefault("OPTIONS", {})
        db["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=600)
        db["CONN_HEALTH_CHECKS"] = True
        options.setdefault("connect_timeout", env.int("DJANGO_DB_CONNECT_TIMEOUT", default=3))
        if env.bool("DJANGO_DB_PREPARED_STATEMENTS", default=True):
            options.update(server_side_binding=True, prepare_threshold=5)
    return db


DATABASES = {
    "default": database_config(env("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"))
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Seconds a connection that a request used without an error is reused unchecked (0: check
# before every request, as Django's CONN_HEALTH_CHECKS alone does).
DB_HEALTH_CHECK_DELAY = env.float("DJANGO_DB_HEALTH_CHECK_DELAY", default=5.0)

# --- Shared state: the cache and the rate limits -----------------------------------------
# Without REDIS_URL both live in the database, so one app server or many share them with
# nothing else to run; with it, in Redis.
REDIS_URL = env("REDIS_URL", default="")
REDIS_TIMEOUT_SECONDS = env.float("DJANGO_REDIS_TIMEOUT", default=1.0)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("DJANGO_CACHE_KEY_PREFIX", default="sessions"),
            "OPTIONS": {
                "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
                "socket_timeout": REDIS_TIMEOUT_SECONDS,
            },
        }
    }
    CACHES["agenda"] = {
        **CACHES["default"],
        "KEY_PREFIX": CACHES["default"]["KEY_PREFIX"] + "-agenda",
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "django_cache",  # made by `manage.py createcachetable`
        },
        "agenda": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "agenda_cache",  # migrations 0007 and 0024
            # Bodies of up to a few MB: a few hundred of them at most.
            "OPTIONS": {"MAX_ENTRIES": 200},
        },
    }
# The public agenda's pages and feeds, by the event's agenda version (so never stale): kept
# apart, so that they do not push the default cache's entries out.
CACHES["agenda"]["TIMEOUT"] = env.int("DJANGO_AGENDA_CACHE_SECONDS", default=3600)

# --- Running behind a load balancer ------------------------------------------------------
# The header our own proxy sets with the client's address (e.g. X-Forwarded-For), and how
# many proxies of ours append to it. Unset: REMOTE_ADDR is the client
# (see sessions_app.ops.client_address).
TRUSTED_PROXY_HEADER = env("DJANGO_TRUSTED_PROXY_HEADER", default="")
TRUSTED_PROXY_COUNT = env.int("DJANGO_TRUSTED_PROXY_COUNT", default=1)
# Seconds a client is told to wait (Retry-After) while the database is unreachable.
UNAVAILABLE_RETRY_AFTER_SECONDS = env.int("DJANGO_UNAVAILABLE_RETRY_AFTER", default=5)
READINESS_TIMEOUT_SECONDS = env.float("DJANGO_READINESS_TIMEOUT", default=2.0)
# Where the site is reached, for links made outside a request (seed_demo, CSV imports).
SITE_URL = env("DJANGO_SITE_URL", default="http://127.0.0.1:8000")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
# The staff UI's date and time formats: weekday and month by name, zones shown, ISO read.
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]

# Staff sign in through django-allauth's pages (/accounts/login/); the admin's own login page
# sends them there (config.urls).
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "admin:index"

# --- Staff accounts (django-allauth, sessions_app.accounts) ------------------------------
ACCOUNT_ADAPTER = "sessions_app.accounts.adapters.StaffAccountAdapter"
SOCIALACCOUNT_ADAPTER = "sessions_app.accounts.adapters.SingleSignOnAdapter"
MFA_ADAPTER = "sessions_app.accounts.adapters.SecondFactorAdapter"
# Staff accounts are made by an organiser or a superuser (or by single sign-on), never by
# signing up; they sign in with their username.
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_SESSION_REMEMBER = False
# The password step is throttled by django-axes (below); allauth's own count of failures is
# the second factor's throttle: 5 wrong codes for one account in 15 minutes and it refuses.
ACCOUNT_RATE_LIMITS = {"login_failed": "20/m/ip,5/15m/key"}
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = PRODUCT_NAME
# Passkeys need a secure origin: https, or http://localhost on a developer's machine.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = env.bool("DJANGO_WEBAUTHN_ALLOW_HTTP", default=False)
# Superusers need a second factor unless this is turned off (never in production).
SUPERUSER_SECOND_FACTOR = env.bool("DJANGO_SUPERUSER_SECOND_FACTOR", default=True)
# Single sign-on: the providers are the organisations' (sessions_app.models.SingleSignOn);
# someone signing in through one for the first time gets an account, linked to an existing
# one with the same (provider-verified) email address.
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_LOGIN_ON_GET = False

# --- OAuth2 (django-oauth-toolkit) -------------------------------------------------------
OAUTH2_PROVIDER_APPLICATION_MODEL = "sessions_app.ApiClient"
OAUTH2_PROVIDER = {
    "ACCESS_TOKEN_EXPIRE_SECONDS": 1800,
    "SCOPES": {
        "sessions:read": "Read sessions, events, tracks, locations and custom fields",
        "sessions:write": "Create, update, delete sessions and change their status",
        "registrants:read": "Read registrants and their session selections",
        "registrants:write": "Create, update, delete registrants and select sessions for them",
        "webhooks:write": "Manage webhook subscriptions and read their delivery log",
        "messages:read": "Read the messages sent to speakers and registrants, and their delivery",
        "schedule:write": "Ask for schedule suggestions and read them",
        "reviews:read": "Read the reviews of sessions and their summary",
        "personal-data": "Export everything held about a person, and erase it on request",
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
# POST /oauth2/token: per claimed client id and per source address, in one window.
TOKEN_RATE_LIMIT = {
    "PER_CLIENT": env.int("DJANGO_TOKEN_RATE_LIMIT_PER_CLIENT", default=10),
    "PER_ADDRESS": env.int("DJANGO_TOKEN_RATE_LIMIT_PER_ADDRESS", default=60),
    "WINDOW_SECONDS": env.int("DJANGO_TOKEN_RATE_LIMIT_WINDOW", default=60),
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
    "EXCEPTION_HANDLER": "sessions_app.wire.problems.exception_handler",
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
    "VERSION": "1.6.0",
    "OAS_VERSION": "3.1.0",
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
    "ENUM_NAME_OVERRIDES": {
        "SelectionStateEnum": "sessions_app.models.attendance.SelectionState",
        "DeliveryStateEnum": "sessions_app.models.webhooks.DeliveryState",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "sessions_app.api.schema.complete_schema",
    ],
}

SESSION_TOKEN_LIFETIME = timedelta(seconds=OAUTH2_PROVIDER["ACCESS_TOKEN_EXPIRE_SECONDS"])

# --- The public agenda's pages and feeds (sessions_app.public.agenda) -----------------------
# Browsers, a CDN or a reverse proxy may keep them this long, and serve them this much longer
# while they ask again (Cache-Control: public, max-age, stale-while-revalidate).
AGENDA_MAX_AGE_SECONDS = env.int("DJANGO_AGENDA_MAX_AGE", default=5)
AGENDA_STALE_SECONDS = env.int("DJANGO_AGENDA_STALE", default=30)
# Bodies each server process keeps in memory, by agenda version, in bytes.
AGENDA_LOCAL_CACHE_BYTES = env.int("DJANGO_AGENDA_LOCAL_CACHE_BYTES", default=32 * 1024 * 1024)

# --- The live agenda's stream (sessions_app.public.stream) ---------------------------------
# How often a stream looks for changes when nothing tells it (SQLite, or while the
# PostgreSQL listener reconnects); how often it looks all the same when notified.
AGENDA_STREAM_POLL_SECONDS = env.float("DJANGO_AGENDA_STREAM_POLL", default=0.5)
AGENDA_STREAM_FALLBACK_SECONDS = env.float("DJANGO_AGENDA_STREAM_FALLBACK", default=5.0)
# How long a stream stays open under ASGI, and under WSGI (0: one look, then the browser
# comes back after a second).
AGENDA_STREAM_MAX_SECONDS = env.float("DJANGO_AGENDA_STREAM_MAX", default=300.0)
AGENDA_STREAM_WSGI_SECONDS = env.float("DJANGO_AGENDA_STREAM_WSGI", default=0.0)
AGENDA_STREAM_HEARTBEAT_SECONDS = env.float("DJANGO_AGENDA_STREAM_HEARTBEAT", default=15.0)
# Under ASGI: how many open streams one server process holds (the next is answered 503 with
# Retry-After, before it touches the database), how many messages a stream may have waiting
# before it is cut off as too slow (heartbeats included: a client that vanished fills it),
# and over how many seconds the streams sent away by a restart spread their return.
AGENDA_STREAM_MAX_OPEN = env.int("DJANGO_AGENDA_STREAM_MAX_OPEN", default=6000)
AGENDA_STREAM_QUEUE = env.int("DJANGO_AGENDA_STREAM_QUEUE", default=32)
AGENDA_STREAM_RETRY_SPREAD_SECONDS = env.float("DJANGO_AGENDA_STREAM_RETRY_SPREAD", default=10.0)

# How often an open schedule grid looks for other people's changes (an ETag poll).
SCHEDULE_GRID_POLL_SECONDS = env.float("DJANGO_SCHEDULE_GRID_POLL", default=4.0)
# How long the background worker's solver looks for a better schedule suggestion.
SCHEDULE_SUGGESTION_SECONDS = env.float("DJANGO_SCHEDULE_SUGGESTION_SECONDS", default=10.0)

# --- Background work and webhooks ---------------------------------------------------------
# The task queue lives in the database (django-tasks with django-tasks-db), so one process,
# `manage.py run_worker`, runs beside the app servers with nothing else to install.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "webhooks", "notices"],
    }
}

# --- Email: messages to speakers and registrants (sessions_app.notices) --------------------
# The mail server, as a URL: smtp://user:password@host:587 (STARTTLS; smtp+ssl:// for TLS
# on connect), or consolemail:// to print messages (the default of config.settings.local).
EMAIL_CONFIG = env.email_url("DJANGO_EMAIL_URL", default="smtp://localhost:25")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DJANGO_EMAIL_FROM", default="Sessions Manager <events@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
NOTICES = {
    "FROM": DEFAULT_FROM_EMAIL,
    # Moves of one session within this many seconds make one message per person.
    "COALESCE_SECONDS": env.float("DJANGO_NOTICES_COALESCE", default=180.0),
    # One attempt's limit for connecting and talking to the mail server, in seconds.
    "TIMEOUT_SECONDS": env.float("DJANGO_NOTICES_TIMEOUT", default=10.0),
    # Attempts in all, the wait before the second (doubling after each), and how long an
    # attempt may go without reporting back before it is made again.
    "MAX_ATTEMPTS": env.int("DJANGO_NOTICES_MAX_ATTEMPTS", default=5),
    "RETRY_SECONDS": env.float("DJANGO_NOTICES_RETRY", default=60.0),
    "LEASE_SECONDS": env.float("DJANGO_NOTICES_LEASE", default=120.0),
}
WEBHOOKS = {
    # One attempt: connecting and the answer together, in seconds. Redirects are failures.
    "TIMEOUT_SECONDS": env.float("DJANGO_WEBHOOK_TIMEOUT", default=5.0),
    # Waits before the 2nd, 3rd, ... attempt; the last repeats until RETRY_FOR_SECONDS after
    # the first attempt, when the delivery is given up.
    "RETRY_DELAYS": env.list(
        "DJANGO_WEBHOOK_RETRY_DELAYS", cast=float, default=[10, 60, 300, 900, 1800, 3600]
    ),
    "RETRY_FOR_SECONDS": env.float("DJANGO_WEBHOOK_RETRY_FOR", default=24 * 3600),
    # A subscription whose deliveries have all failed for this long is switched off.
    "DISABLE_AFTER_SECONDS": env.float("DJANGO_WEBHOOK_DISABLE_AFTER", default=24 * 3600),
    # An attempt that has not reported back after this long was lost with its worker and is
    # made again. Longer than the timeout plus a slow name lookup.
    "LEASE_SECONDS": env.float("DJANGO_WEBHOOK_LEASE", default=60.0),
    # SSRF guard: receivers on private, loopback and link-local addresses are refused unless
    # this is on (development, tests) or the address is in ALLOWED_NETWORKS (an internal
    # receiver you trust, e.g. 10.1.2.0/24).
    "ALLOW_PRIVATE_ADDRESSES": env.bool("DJANGO_WEBHOOK_ALLOW_PRIVATE", default=False),
    "ALLOWED_NETWORKS": env.list("DJANGO_WEBHOOK_ALLOWED_NETWORKS", default=[]),
    # How often the worker reads the outbox for new changes to fan out.
    "POLL_SECONDS": env.float("DJANGO_WEBHOOK_POLL", default=0.5),
    # A missing outbox id younger than this may still be an open transaction: the worker
    # reads past it again until it commits or this much time has passed.
    "GAP_GRACE_SECONDS": env.float("DJANGO_WEBHOOK_GAP_GRACE", default=120.0),
}

# CSV imports run in the worker (sessions_app.transfer.imports). A running import beats with its
# progress (every 25 rows, and at least every quarter of ABANDONED_AFTER_SECONDS); one
# silent this long lost its worker (killed outright) and a worker's sweep, every
# SWEEP_SECONDS, queues it again to go on where it was (or fails it after MAX_RUNS).
IMPORTS = {
    "ABANDONED_AFTER_SECONDS": env.float("DJANGO_IMPORT_ABANDONED_AFTER", default=300.0),
    "SWEEP_SECONDS": env.float("DJANGO_IMPORT_SWEEP", default=60.0),
    # Runs a job may have: one broken off by the worker's stop or loss, or by the database
    # going away (then after RETRY_SECONDS), is queued again to go on until then.
    "MAX_RUNS": env.int("DJANGO_IMPORT_MAX_RUNS", default=3),
    "RETRY_SECONDS": env.float("DJANGO_IMPORT_RETRY", default=30.0),
    # Registrants are imported this many rows to a transaction (checked together, written in
    # one insert); a run broken off goes on with the first batch it had not written.
    "REGISTRANT_BATCH_ROWS": env.int("DJANGO_IMPORT_BATCH_ROWS", default=200),
}

# Session exports too long for a request are written by the worker (sessions_app.transfer.exports)
# and kept, file and all, this many hours after they finish; housekeeping deletes them.
EXPORTS = {"KEEP_HOURS": env.float("DJANGO_EXPORT_KEEP_HOURS", default=24.0)}

# What piles up (the delivery log, finished imports and task results, expired tokens and
# logins, ended rate-limit windows) is deleted when a worker starts and then every
# EVERY_SECONDS, by one worker of the pool each time (0: never, for `manage.py housekeeping`
# from cron), keeping KEEP_DAYS days.
HOUSEKEEPING = {
    "EVERY_SECONDS": env.float("DJANGO_HOUSEKEEPING_EVERY", default=24 * 3600.0),
    "KEEP_DAYS": env.int("DJANGO_HOUSEKEEPING_KEEP_DAYS", default=30),
}

# --- Admin login throttling (django-axes) -------------------------------------------------
# After AXES_FAILURE_LIMIT wrong passwords for one username from one address, that pair is
# refused (429) for AXES_COOLOFF_TIME; attempts are kept in the database.
AXES_FAILURE_LIMIT = env.int("DJANGO_AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("DJANGO_AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "sessions_app.ops.client_address.client_ip"
AXES_LOCKOUT_CALLABLE = "sessions_app.admin.lockout.lockout_response"
AXES_VERBOSE = False
# Every refused sign-in is kept too (not only the count until the next success), for the
# staff sign-ins page; housekeeping deletes both logs after ACCESS_LOG["KEEP_DAYS"].
AXES_ENABLE_ACCESS_FAILURE_LOG = True
ACCESS_LOG = {
    "KEEP_DAYS": env.int("DJANGO_ACCESS_LOG_KEEP_DAYS", default=90),
    # The finished entries of *Personal data requests* (exports, erasures, retention): the
    # record that a person's request was answered, kept longer.
    "REQUESTS_KEEP_DAYS": env.int("DJANGO_PRIVACY_LOG_KEEP_DAYS", default=3 * 365),
}

# --- Content-Security-Policy (django-csp) -------------------------------------------------
# Everything the admin, the agenda and the API docs load comes from this server. Inline
# styles stay allowed for the admin's widgets and Swagger UI; no inline script runs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Logs: one JSON line per record, each carrying its request's id ------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "sessions_app.ops.request_log.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "sessions_app.ops.request_log.JsonFormatter"},
        # One short line per request, coloured on a terminal: make run's default.
        "plain": {"()": "sessions_app.ops.request_log.PlainFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": env("DJANGO_LOG_FORMAT", default="json"),
        },
        "discard": {"class": "logging.NullHandler"},
    },
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's records reach the one handler above, not also its own console handler
        # (under DEBUG it printed every traceback a second time) or mail_admins.
        "django": {"handlers": [], "propagate": True},
        # Our request line says it all; Django's own would log each 4xx/5xx a second time
        # without the caller. Errors still come through, with their traceback.
        "django.request": {"level": "ERROR"},
        # runserver's access line, again for 4xx/5xx (with no handler of its own it fell to
        # logging's last resort on stderr): ours covers every request.
        "django.server": {"handlers": ["discard"], "propagate": False},
        # Six lines at every housekeeping run ("0 Expired ID tokens deleted"); ours is one.
        "oauth2_provider.models": {"level": "WARNING"},
    },
}
