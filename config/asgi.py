import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
# Requests run in threads of their own under ASGI: on PostgreSQL they take a connection from
# a pool of a few per process and give it back as they end, and no more of them run at once
# than the pool has connections (DJANGO_DB_POOL_SIZE; docs: operators/settings).
os.environ.setdefault("DJANGO_ASGI", "true")
django_application = get_asgi_application()

from sessions_app.public import quick, sse  # noqa: E402  (after Django is set up)


async def application(scope, receive, send):
    """Django's application, with the live agenda's streams (sessions_app.public.sse) and
    the agenda's pages for a crowd (sessions_app.public.quick) answered in front of it."""
    match = sse.handles(scope)
    if match is not None:
        await sse.app(scope, receive, send, match)
    elif quick.handles(scope):
        await quick.app(scope, receive, send, django_application)
    else:
        await django_application(scope, receive, send)
