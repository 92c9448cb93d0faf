import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()

from sessions_app.ops import static  # noqa: E402  (after Django is set up)

# The collected static files answered in front of Django (sessions_app.ops.static).
application = static.wsgi(application)
