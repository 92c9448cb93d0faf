"""The benchmark's yardsticks, served beside the real URLs by `make bench` (config.settings.bench).

The two rename views do what the floor of a write on this stack is, a token SELECT and one
UPDATE, and nothing else: no rules, no lock, no history, no rate limit. The headline PATCH
is measured against them in the same run, on the same server and database.

``/bench/plain-admin/`` is a stock ``ModelAdmin`` of the sessions on an admin site of its
own: the same plain columns and filters as the staff UI's session list, with no scoping,
badges, seats, clash flags or grid. The session list, the review queue and the schedule
grid are measured against its lists of the same rows.
"""

import json

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import handler500
from config.urls import urlpatterns as real_urlpatterns
from sessions_app.api.authentication import bearer_token, load_access_token
from sessions_app.models import Session


def _rename(request: HttpRequest, pk: int) -> dict | None:
    raw = bearer_token(request)
    token = load_access_token(raw) if raw else None
    if token is None or token.is_expired():
        return None
    name = json.loads(request.body)["name"]
    Session.objects.filter(pk=pk).update(name=name)
    return {"id": pk, "name": name}


@csrf_exempt
def bare_rename(request: HttpRequest, pk: str) -> HttpResponse:
    """A plain Django view: token SELECT + one UPDATE."""
    body = _rename(request, int(pk))
    if body is None:
        return JsonResponse({"detail": "no token"}, status=401)
    return JsonResponse(body)


class DrfRename(APIView):
    """The same two statements behind a DRF APIView (no authentication classes of ours)."""

    authentication_classes: list = []
    permission_classes: list = []

    def patch(self, request, pk: str):
        body = _rename(request._request, int(pk))
        return Response(body, status=200 if body else 401)


class PlainSessionAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "event",
        "date",
        "start_time",
        "end_time",
        "location",
        "track",
        "session_status",
        "capacity",
        "seats_taken",
    ]
    list_filter = ["event", "session_status", "track", "location", "date"]
    list_select_related = ["event", "location", "track"]
    search_fields = ["name"]
    list_per_page = 100
    show_full_result_count = False


plain_admin = admin.AdminSite(name="plain_admin")
plain_admin.register(Session, PlainSessionAdmin)

urlpatterns = [
    path("bench/bare/<int:pk>", bare_rename),
    path("bench/plain-admin/", plain_admin.urls),
    re_path(r"^bench/drf/(?P<pk>[0-9]+)$", DrfRename.as_view()),
    *real_urlpatterns,
]

__all__ = ["handler500", "urlpatterns"]
