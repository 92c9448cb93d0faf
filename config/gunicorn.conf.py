"""gunicorn settings for `make serve` and production: `gunicorn -c config/gunicorn.conf.py`.

Everything comes from the environment (docs: operators). The app is not preloaded: each
worker opens its own database connections.
"""

import multiprocessing
import os

from gunicorn import glogging

from sessions_app.ops.request_log import redact

# ASGI by default: uvicorn workers (config.asgi_worker), where an open agenda stream holds no
# thread and no database connection, and each worker runs Django's requests in a few threads
# with a connection each (config.asgi, DJANGO_DB_POOL_SIZE). GUNICORN_WORKER_CLASS=sync serves
# the WSGI application with sync workers instead: each answers one request at a time with its own
# persistent connection, and an agenda stream is a short look that the browser repeats
# every second (docs: operators/event-day, "WSGI mode").
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "config.asgi_worker.Worker")
ASGI = worker_class != "sync" and "sync" not in worker_class.lower()
wsgi_app = "config.asgi:application" if ASGI else "config.wsgi:application"
bind = [f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"]

# ASGI: one event loop per core. Sync workers answer one request at a time each, so their
# count is the concurrency.
workers = int(
    os.environ.get(
        "WEB_CONCURRENCY",
        multiprocessing.cpu_count() if ASGI else multiprocessing.cpu_count() * 2 + 1,
    )
)
# A request that runs longer than this is killed (the worker restarts); on SIGTERM a worker
# gets graceful_timeout seconds to finish the requests it has before it is stopped.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycle sync workers now and then so a slow leak cannot grow for ever; jitter spreads the
# restarts. Not ASGI workers by default: each recycle would send their open agendas away.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0" if ASGI else "5000"))
max_requests_jitter = max_requests // 10

# The load balancer's address(es): only they may tell us the scheme (X-Forwarded-Proto).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Logs go to stdout/stderr for the process manager to collect. The app writes one JSON line
# per request itself (request id, status, duration, user or client: the
# sessions_app.request logger); gunicorn's own access log repeats it in its format, in JSON
# too, with the same request id. Set GUNICORN_ACCESS_LOG=- to turn it on, or a file path.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
access_log_format = (
    '{"time": "%(t)s", "remote": "%(h)s", "request": "%(r)s", "status": %(s)s, '
    '"bytes": "%(B)s", "duration_us": %(D)s, "request_id": "%({x-request-id}o)s"}'
)


class RedactingLogger(glogging.Logger):
    """gunicorn's access log with the secret parts of each path and query redacted, as the
    app's own log line has them (a registrant's page key opens their page)."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["r"] = redact(atoms["r"])
        atoms["U"] = redact(atoms["U"])
        atoms["q"] = redact("?" + atoms["q"])[1:] if atoms.get("q") else atoms.get("q", "")
        return atoms


logger_class = RedactingLogger
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
