"""Webhook subscriptions and their delivery log (API.md "Webhooks"), scope ``webhooks:write``.

Every write is a call to ``sessions_app.webhooks.subscriptions``. The secret is write-only:
answered once, in the 201 of the create (or the answer of the PATCH that sets a new one).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers
from rest_framework import status as http
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from sessions_app.api.schema import ID_PARAMETER, LIST_PARAMETERS, SHAPE_PARAMETERS, problems
from sessions_app.api.serializers import (
    FlagField,
    FlagInputField,
    FlatOutputSerializer,
    NullableUtcDateTimeField,
    UtcDateTimeField,
    envelope_serializer,
)
from sessions_app.api.views import ApiView
from sessions_app.enums import WEBHOOK_EVENT_PATTERNS
from sessions_app.models import DeliveryState, WebhookAttempt, WebhookDelivery, WebhookSubscription
from sessions_app.selectors import one_or_none
from sessions_app.validators import WEBHOOK_URL_MAX
from sessions_app.webhooks import subscriptions
from sessions_app.wire.problems import FieldError, PayloadInvalid
from sessions_app.wire.session_input import MAX_ID, _Invalid, to_flag, to_text

# --- Answers -------------------------------------------------------------------------------


class WebhookSerializer(FlatOutputSerializer):
    """A webhook subscription: where the organisation's changes are POSTed."""

    id = serializers.IntegerField()
    url = serializers.CharField(help_text="Where deliveries are POSTed.")
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WEBHOOK_EVENT_PATTERNS),
        help_text='Event types, a family ("session.*", "selection.*") or "*" for all.',
    )
    description = serializers.CharField()
    active = FlagField(help_text="0: nothing is sent (switched off by you or after failures).")
    disabled_reason = serializers.CharField(
        help_text="Why it was switched off after a day of failed deliveries; empty otherwise."
    )
    failing_since = NullableUtcDateTimeField(
        help_text="The first failed attempt since the last success; null when all is well."
    )
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()


class WebhookWithSecretSerializer(WebhookSerializer):
    """A new subscription, with its signing secret (this once)."""

    secret = serializers.CharField(
        help_text="Signs each delivery (X-Webhook-Signature). Shown this once: keep it."
    )


class WebhookAttemptSerializer(FlatOutputSerializer):
    """One POST of a delivery."""

    number = serializers.IntegerField()
    started_at = UtcDateTimeField()
    finished_at = NullableUtcDateTimeField(help_text="null while the attempt runs.")
    response_code = serializers.IntegerField(source="status_code", allow_null=True)
    duration_ms = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(help_text="Empty for a 2xx answer.")


class WebhookDeliverySerializer(FlatOutputSerializer):
    """One event for one subscription, and where its attempts stand."""

    id = serializers.IntegerField()
    webhook_id = serializers.IntegerField(source="subscription_id")
    message_id = serializers.IntegerField(
        source="change_id", help_text="The delivered event's id (X-Webhook-Id); one per change."
    )
    type = serializers.CharField(source="event_type")
    state = serializers.ChoiceField(choices=DeliveryState.choices)
    attempt_count = serializers.IntegerField()
    response_code = serializers.IntegerField(source="last_status_code", allow_null=True)
    duration_ms = serializers.IntegerField(source="last_duration_ms", allow_null=True)
    error = serializers.CharField(source="last_error")
    next_attempt_at = NullableUtcDateTimeField(help_text="When it is tried next; null when done.")
    created_at = UtcDateTimeField()
    delivered_at = NullableUtcDateTimeField()
    attempts = serializers.SerializerMethodField()

    @extend_schema_field(WebhookAttemptSerializer(many=True))
    def get_attempts(self, delivery) -> list[dict]:
        return [WebhookAttemptSerializer(attempt).data for attempt in delivery.attempts.all()]


class WebhookCreateBody(serializers.Serializer):
    url = serializers.URLField(
        max_length=WEBHOOK_URL_MAX,
        help_text="https (http only to loopback in development or an allowed internal network).",
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WEBHOOK_EVENT_PATTERNS), min_length=1, max_length=50
    )
    description = serializers.CharField(required=False, allow_blank=True, max_length=200)
    active = FlagInputField(required=False)
    secret = serializers.RegexField(
        rf"^[!-~]{{{subscriptions.SECRET_MIN},{subscriptions.SECRET_MAX}}}$",
        required=False,
        min_length=subscriptions.SECRET_MIN,
        max_length=subscriptions.SECRET_MAX,
        help_text="Your own signing secret; left out, one is made and answered once.",
    )


class WebhookUpdateBody(WebhookCreateBody):
    url = serializers.URLField(required=False, max_length=WEBHOOK_URL_MAX)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WEBHOOK_EVENT_PATTERNS),
        min_length=1,
        max_length=50,
        required=False,
    )


# --- Input ---------------------------------------------------------------------------------

_READ_ONLY = ("id", "disabled_reason", "failing_since", "created_at", "updated_at")


def _webhook_input(
    payload: dict[str, Any], *, form: bool, answered: dict[str, Any] | None
) -> dict[str, Any]:
    errors: list[FieldError] = []
    data: dict[str, Any] = {}
    for name, raw in payload.items():
        try:
            if name in ("url", "description", "secret"):
                data[name] = to_text(raw)
            elif name == "active":
                data[name] = to_flag(raw, form=form)
            elif name == "events":
                if form:
                    raise _Invalid("invalid_type", "Send events as a JSON list.")
                data[name] = raw
            elif name in _READ_ONLY:
                stored = (answered or {}).get(name)
                if answered is None or raw != (str(stored) if form else stored):
                    raise _Invalid("read_only", f"{name} is read-only and cannot be changed.")
            else:
                raise _Invalid("unknown_field", f"{name[:100]!r} is not a field of a webhook.")
        except _Invalid as exc:
            errors.append(FieldError(name[:100], exc.code, exc.message))
    if errors:
        raise PayloadInvalid(errors)
    return data


# --- Views ---------------------------------------------------------------------------------


class WebhookScopedMixin:
    # One scope for reading and writing: a subscription is configuration, its log too.
    scope_family = "webhooks"
    fixed_scope = "webhooks:write"
    required_scopes = ["webhooks"]

    def webhooks(self) -> QuerySet:
        return WebhookSubscription.objects.filter(organisation_id=self.organisation_id)

    def webhook(self, pk: str) -> WebhookSubscription:
        number = int(pk)
        found = one_or_none(self.webhooks().filter(pk=number)) if number <= MAX_ID else None
        if found is None:
            raise NotFound(f"There is no webhook with id {pk[:30]}.")
        return found

    def answer(self, webhook, secret: str | None = None, *, status: int = 200) -> Response:
        data = dict(WebhookSerializer(webhook).data)
        if secret is not None:
            data["secret"] = secret
        return Response(data, status=status)


WRITE_PROBLEMS = problems(400, 401, 403, 404, 411, 413, 415, 422, 429)


class WebhookCollectionView(WebhookScopedMixin, ApiView):
    """Your organisation's webhook subscriptions."""

    list_methods = frozenset({"GET", "HEAD"})

    @extend_schema(
        operation_id="webhooks_list",
        summary="List webhook subscriptions",
        tags=["webhooks"],
        parameters=LIST_PARAMETERS,
        responses={
            200: envelope_serializer(WebhookSerializer, "WebhookList"),
            **problems(400, 401, 403, 429),
        },
    )
    def get(self, request):
        return self.listing(self.webhooks().order_by("id"), WebhookSerializer, self.query())

    @extend_schema(
        operation_id="webhooks_create",
        summary="Subscribe a receiver",
        tags=["webhooks"],
        request={"application/json": WebhookCreateBody},
        responses={
            201: OpenApiResponse(
                WebhookWithSecretSerializer, description="Created; the secret is shown this once."
            ),
            **problems(400, 401, 403, 411, 413, 415, 422, 429),
        },
        description=(
            "Changes committed from now on are POSTed to url as JSON "
            '{"id", "type", "created_at", "data"} with X-Webhook-Id and X-Webhook-Signature: '
            "sha256=<hex HMAC-SHA256 of the body, keyed with the secret>. Any 2xx answer is "
            "a success; anything else (a redirect too) or no answer within a few seconds is "
            "retried with growing delays for 24 hours. A subscription whose deliveries all "
            "fail for 24 hours is switched off (active 0, disabled_reason says why)."
        ),
    )
    def post(self, request):
        self.query().check()
        payload, form = self.body()
        data = _webhook_input(payload, form=form, answered=None)
        webhook, secret = subscriptions.webhook_create(
            organisation_id=self.organisation_id, data=data
        )
        response = self.answer(webhook, secret, status=http.HTTP_201_CREATED)
        response["Location"] = request.build_absolute_uri(
            reverse("api:webhook-detail", args=[webhook.pk])
        )
        return response


# PATCH and PUT (also partial) are one operation under two methods.
WEBHOOK_UPDATE_SCHEMA = {
    "tags": ["webhooks"],
    "parameters": [ID_PARAMETER],
    "request": {"application/json": WebhookUpdateBody},
    "responses": {200: WebhookSerializer, **WRITE_PROBLEMS},
}


class WebhookItemView(WebhookScopedMixin, ApiView):
    """One webhook subscription."""

    @extend_schema(
        operation_id="webhooks_retrieve",
        summary="Get a webhook subscription",
        tags=["webhooks"],
        parameters=[ID_PARAMETER, *SHAPE_PARAMETERS],
        responses={200: WebhookSerializer, **problems(400, 401, 403, 404, 429)},
    )
    def get(self, request, pk: str):
        return self.item(self.webhook(pk), WebhookSerializer)

    def _update(self, request, pk: str):
        self.query().check()
        current = self.webhook(pk)
        payload, form = self.body()
        answered = WebhookSerializer(current).data
        data = _webhook_input(payload, form=form, answered=answered)
        webhook, secret = subscriptions.webhook_update(
            webhook_id=current.pk, organisation_id=self.organisation_id, data=data
        )
        return self.answer(webhook, secret)

    @extend_schema(
        operation_id="webhooks_partial_update",
        summary="Update a webhook subscription",
        **WEBHOOK_UPDATE_SCHEMA,
        description="active 1 switches a subscription on again after failures. A new secret "
        "sent here takes effect for every attempt from now on.",
    )
    def patch(self, request, pk: str):
        return self._update(request, pk)

    @extend_schema(
        operation_id="webhooks_update",
        summary="Update a webhook subscription (PUT, also partial)",
        **WEBHOOK_UPDATE_SCHEMA,
    )
    def put(self, request, pk: str):
        return self._update(request, pk)

    @extend_schema(
        operation_id="webhooks_destroy",
        summary="Delete a webhook subscription",
        tags=["webhooks"],
        parameters=[ID_PARAMETER],
        responses={
            204: OpenApiResponse(description="Deleted, with its delivery log."),
            **problems(400, 401, 403, 404, 429),
        },
    )
    def delete(self, request, pk: str):
        self.query().check()
        webhook = self.webhook(pk)
        subscriptions.webhook_delete(webhook_id=webhook.pk, organisation_id=self.organisation_id)
        return Response(status=http.HTTP_204_NO_CONTENT)


class WebhookDeliveriesView(WebhookScopedMixin, ApiView):
    """A subscription's delivery log, newest first, each delivery with its attempts."""

    list_methods = frozenset({"GET", "HEAD"})

    @extend_schema(
        operation_id="webhooks_deliveries",
        summary="A webhook's delivery log",
        tags=["webhooks"],
        parameters=[
            ID_PARAMETER,
            OpenApiParameter(
                "state", str, enum=DeliveryState.values, description="Only deliveries in it."
            ),
            *LIST_PARAMETERS,
        ],
        responses={
            200: envelope_serializer(WebhookDeliverySerializer, "WebhookDeliveryList"),
            **problems(400, 401, 403, 404, 429),
        },
    )
    def get(self, request, pk: str):
        query = self.query()
        webhook = self.webhook(pk)
        deliveries = WebhookDelivery.objects.filter(subscription=webhook).prefetch_related(
            Prefetch("attempts", queryset=WebhookAttempt.objects.order_by("number"))
        )
        state = query.choice("state", DeliveryState.values)
        if state:
            deliveries = deliveries.filter(state=state)
        return self.listing(deliveries.order_by("-id"), WebhookDeliverySerializer, query)


__all__ = [
    "WebhookCollectionView",
    "WebhookDeliveriesView",
    "WebhookItemView",
]
