"""The floor's one view: the bearer token looked up by its checksum (one SELECT, as the
product's authentication does), then one UPDATE of the session's name."""

import hashlib
import json

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def rename(request, pk: int) -> HttpResponse:
    raw = request.headers.get("Authorization", "").removeprefix("Bearer ")
    checksum = hashlib.sha256(raw.encode()).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM oauth2_provider_accesstoken WHERE token_checksum = %s "
            "AND expires > now()",
            [checksum],
        )
        if cursor.fetchone() is None:
            return JsonResponse({"detail": "no token"}, status=401)
        name = json.loads(request.body)["name"]
        cursor.execute("UPDATE sessions_app_session SET name = %s WHERE id = %s", [name, pk])
    return JsonResponse({"id": pk, "name": name})


urlpatterns = [path("floor/sessions/<int:pk>", rename)]
