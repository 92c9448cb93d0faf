import os

from a2wsgi import WSGIMiddleware
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
os.environ.setdefault("DJANGO_ASGI", "true")
django_wsgi = get_wsgi_application()

from django.conf import settings  # noqa: E402  (after Django is set up)

from sessions_app.ops import static  # noqa: E402
from sessions_app.public import quick, sse  # noqa: E402

# Django's requests run as WSGI in a fixed set of threads of this process
# (DJANGO_DB_POOL_SIZE, 4 by default), each keeping its own database connection as a sync
# worker does; the requests beyond them wait their turn in the event loop, in order of
# arrival, holding no thread. Django's own ASGI handler runs each request's code in a new
# thread with a hop between it and the event loop at every layer (the signals, the
# middleware, the view), which cost a write about twice the CPU of a sync worker (docs:
# benchmarks). The open agendas' streams and the agenda's pages for a crowd never reach
# Django: they are answered in the event loop below.
django_application = WSGIMiddleware(django_wsgi, workers=settings.ASGI_CONCURRENT_REQUESTS)


async def agenda_fronts(scope, receive, send):
    """Django's application, with the live agenda's streams (sessions_app.public.sse) and
    the agenda's pages for a crowd (sessions_app.public.quick) answered in front of it."""
    match = sse.handles(scope)
    if match is not None:
        await sse.app(scope, receive, send, match)
    elif quick.handles(scope):
        await quick.app(scope, receive, send, django_application)
    else:
        await django_application(scope, receive, send)


# The collected static files first: a dictionary lookup, then ServeStatic (sessions_app.ops.static).
application = static.asgi(agenda_fronts)
