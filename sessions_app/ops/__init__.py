"""Running in production: health checks (``health``), the outage answer (``outage``), the
request log (``request_log``), the client's address behind a proxy (``client_address``),
housekeeping (``housekeeping``) and the system checks (``checks``).

The worker that runs the background tasks is ``manage.py run_worker``; each task is declared
beside the work it runs (``transfer.imports``, ``transfer.exports``, ``webhooks.delivery``).
"""
