"""One person's data in the organisation, on their request (scope ``personal-data``):
everything held about them, and its erasure by the background worker.

Each export and each erasure leaves an audit entry (``PrivacyRequest``) that names who asked
and how many records it found or erased, never the person.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework import status as http
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from sessions_app.api.listing import Query
from sessions_app.api.schema import ID_PARAMETER, problems
from sessions_app.api.serializers import (
    FlatOutputSerializer,
    NullableUtcDateTimeField,
    UtcDateTimeField,
)
from sessions_app.api.views import ApiView
from sessions_app.enums import JobState
from sessions_app.models import PrivacyRequest
from sessions_app.privacy import erasure, holdings
from sessions_app.selectors import one_or_none
from sessions_app.wire.problems import FieldError, PayloadInvalid
from sessions_app.wire.session_input import MAX_ID

SCOPE = "personal-data"


class _Missing(ValueError):
    code = "required"


def _email(raw) -> str:
    """A valid address, or ValueError with what is wrong."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise _Missing("email is required: the person's address.")
    if not isinstance(raw, str):
        raise ValueError("email must be an email address.")
    if len(raw) > 254 or "\x00" in raw:
        raise ValueError("email must be an email address.")
    try:
        validate_email(raw.strip())
    except ValidationError as exc:
        raise ValueError("email must be an email address.") from exc
    return raw.strip().lower()


class PersonalDataSerializer(serializers.Serializer):
    """Everything held about one person: their rows, then every record that names them."""

    email = serializers.EmailField()
    registrants = serializers.ListField(
        child=serializers.DictField(),
        help_text="Their registrant rows, one per event, each with its selections.",
    )
    speakers = serializers.ListField(
        child=serializers.DictField(),
        help_text="Their speaker rows, one per event, with their sessions and availability.",
    )
    messages = serializers.ListField(
        child=serializers.DictField(), help_text="Messages to them or naming them."
    )
    history = serializers.ListField(
        child=serializers.DictField(),
        help_text="History entries they made, that changed one of their seats, or that name them.",
    )
    webhook_deliveries = serializers.ListField(
        child=serializers.DictField(), help_text="Webhook deliveries whose body names them."
    )
    webhook_attempts = serializers.ListField(child=serializers.DictField())
    imports = serializers.ListField(
        child=serializers.DictField(), help_text="Imports whose rows or report name them."
    )
    import_rows = serializers.ListField(child=serializers.DictField())
    reviews = serializers.ListField(
        child=serializers.DictField(), help_text="Reviews whose comments name them."
    )
    admin_log = serializers.ListField(
        child=serializers.DictField(), help_text="The admin's log of changes to their rows."
    )


class ErasureSerializer(FlatOutputSerializer):
    """An erasure: where it stands, and what it erased (numbers only)."""

    id = serializers.IntegerField()
    state = serializers.ChoiceField(
        choices=JobState.choices, help_text="queued, running, done or failed."
    )
    requested_by = serializers.CharField(help_text="The client or staff member who asked.")
    counts = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Records erased, by kind (registrants, speakers, messages, history, ...); "
        "empty where nobody in the organisation has the address.",
    )
    error = serializers.CharField(help_text="Why it failed; or empty.")
    created_at = UtcDateTimeField()
    finished_at = NullableUtcDateTimeField()


class ErasureBody(serializers.Serializer):
    email = serializers.EmailField(max_length=254, help_text="The person's address, in any case.")


class PersonalDataScopedMixin:
    scope_family = "personal-data"
    fixed_scope = SCOPE
    required_scopes = ["personal-data"]


class PersonalDataView(PersonalDataScopedMixin, ApiView):
    """Everything your organisation holds about one person."""

    @extend_schema(
        operation_id="personal_data_retrieve",
        summary="Export a person's data",
        tags=["personal data"],
        parameters=[
            OpenApiParameter(
                "email",
                {"type": "string", "format": "email", "maxLength": 254},
                required=True,
                description="The person's address, in any case.",
            )
        ],
        responses={200: PersonalDataSerializer, **problems(400, 401, 403, 429)},
        description=(
            "Every registrant and speaker row of your organisation's events with this address, "
            "and every record that names the person (by address or full name) or points at "
            "those rows: messages, history entries, webhook deliveries, imports, reviews, the "
            "admin's log. Empty lists where nothing is held. Each export is recorded (who "
            "asked, how many records), without the address."
        ),
    )
    def get(self, request):
        query = Query(request.query_params)
        raw = query.text("email")
        email = None
        try:
            email = _email(raw)
        except ValueError as exc:
            if not any(e.field == "email" for e in query.errors):
                query.errors.append(FieldError("email", getattr(exc, "code", "invalid"), str(exc)))
        query.check()
        person = holdings.find(organisation_id=self.organisation_id, email=email)
        data = holdings.export(person)
        PrivacyRequest.objects.create(
            organisation_id=self.organisation_id,
            kind=PrivacyRequest.Kind.EXPORT,
            state=JobState.DONE,
            requested_by=self.actor.label[:255],
            counts=holdings.counts(data),
            finished_at=timezone.now(),
        )
        return Response(data)


class ErasureCreateView(PersonalDataScopedMixin, ApiView):
    """Erase one person's data in your organisation."""

    @extend_schema(
        operation_id="personal_data_erasures_create",
        summary="Erase a person's data",
        tags=["personal data"],
        request={"application/json": ErasureBody},
        responses={
            202: OpenApiResponse(
                ErasureSerializer, description="Queued for the worker; see Location."
            ),
            **problems(400, 401, 403, 411, 413, 415, 422, 429),
        },
        description=(
            "The worker erases the person: their registrant rows are pseudonymised (seats and "
            "counts stay), their speaker rows emptied, and their address and full names "
            "replaced by [erased] in every record that holds them (messages, history, webhook "
            "deliveries, imports, reviews); subscribers of registrant.erased are told each "
            "registrant's id. Read the erasure at Location until its state is done."
        ),
    )
    def post(self, request):
        self.query().check()
        payload, _form = self.body()
        errors = [
            FieldError(name[:100], "unknown_field", f"{name[:100]!r} is not a field of an erasure.")
            for name in payload
            if name != "email"
        ]
        try:
            email = _email(payload.get("email"))
        except ValueError as exc:
            errors.append(FieldError("email", getattr(exc, "code", "invalid"), str(exc)))
        if errors:
            raise PayloadInvalid(errors)
        found = erasure.start(
            organisation_id=self.organisation_id, email=email, requested_by=self.actor.label
        )
        response = Response(ErasureSerializer(found).data, status=http.HTTP_202_ACCEPTED)
        response["Location"] = request.build_absolute_uri(
            reverse("api:personal-data-erasure-detail", args=[found.pk])
        )
        return response


class ErasureItemView(PersonalDataScopedMixin, ApiView):
    """One erasure."""

    @extend_schema(
        operation_id="personal_data_erasures_retrieve",
        summary="Read an erasure",
        tags=["personal data"],
        parameters=[ID_PARAMETER],
        responses={200: ErasureSerializer, **problems(400, 401, 403, 404, 429)},
    )
    def get(self, request, pk: str):
        self.query().check()
        number = int(pk)
        found = (
            one_or_none(
                PrivacyRequest.objects.filter(
                    pk=number,
                    organisation_id=self.organisation_id,
                    kind=PrivacyRequest.Kind.ERASURE,
                )
            )
            if number <= MAX_ID
            else None
        )
        if found is None:
            raise NotFound(f"There is no erasure with id {pk[:30]}.")
        return Response(ErasureSerializer(found).data)
