"""The real URLs plus views that fail on purpose, for the error-path tests only."""

from django.db import OperationalError
from django.urls import path

from config.urls import handler500
from config.urls import urlpatterns as real_urlpatterns


def boom(request):
    raise RuntimeError("boom for the test")


def database_gone(request):
    raise OperationalError("connection to server on socket failed: No such file or directory")


urlpatterns = [
    path("test-only/boom/", boom),
    path("api/v1/test-only/boom", boom),
    path("test-only/database-gone/", database_gone),
    path("api/v1/test-only/database-gone", database_gone),
    *real_urlpatterns,
]

__all__ = ["handler500", "urlpatterns"]
