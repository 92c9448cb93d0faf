import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
# Requests run in threads of their own under ASGI: on PostgreSQL they take a connection from
# a pool of a few per process and give it back as they end (DJANGO_DB_POOL_SIZE), rather
# than each thread keeping one open (docs: operators/settings).
os.environ.setdefault("DJANGO_DB_POOL", "true")
application = get_asgi_application()
