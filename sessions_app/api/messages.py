"""Messages to speakers and registrants, and their delivery state (scope ``messages:read``;
messages to registrants, which hold their names and addresses, also ``registrants:read``).

Read only: messages are made by the writes they tell about (and, for a welcome, by
``POST /registrants?notify=1``), and sent by the background worker.
"""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound

from sessions_app.api.permissions import InsufficientScope
from sessions_app.api.schema import ID_PARAMETER, LIST_PARAMETERS, SHAPE_PARAMETERS, problems
from sessions_app.api.serializers import (
    FlatOutputSerializer,
    NullableUtcDateTimeField,
    UtcDateTimeField,
    envelope_serializer,
)
from sessions_app.api.views import ApiView
from sessions_app.enums import REGISTRANT_KINDS, MessageState, NoticeKind
from sessions_app.models import Message
from sessions_app.selectors import one_or_none
from sessions_app.wire.session_input import MAX_ID


class LogEntrySerializer(serializers.Serializer):
    at = serializers.CharField(help_text="When, ISO 8601.")
    outcome = serializers.CharField(
        help_text="sent, retry, failed, released, merged, discarded, edited, lease lapsed"
    )
    detail = serializers.CharField(allow_blank=True)


class MessageSerializer(FlatOutputSerializer):
    """A message to a speaker or a registrant, and where its delivery stands."""

    id = serializers.IntegerField()
    event_id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=NoticeKind.choices)
    state = serializers.ChoiceField(
        choices=MessageState.choices,
        help_text="held (for an organiser to send), queued, sending, sent, failed, discarded.",
    )
    session_id = serializers.IntegerField(allow_null=True)
    speaker_id = serializers.IntegerField(allow_null=True)
    registrant_id = serializers.IntegerField(allow_null=True)
    to_email = serializers.CharField(help_text="Empty when the person has no address.")
    to_name = serializers.CharField()
    subject = serializers.CharField()
    body = serializers.CharField(help_text="The plain text; an HTML part is made from it.")
    message_id = serializers.CharField(
        help_text="The Message-ID header, the same on every attempt (for deduplication)."
    )
    created_at = UtcDateTimeField()
    send_after = UtcDateTimeField(help_text="Not sent before this (moves wait to merge).")
    sent_at = NullableUtcDateTimeField()
    attempts = serializers.IntegerField()
    last_error = serializers.CharField(help_text="The last failed attempt's error; or empty.")
    log = LogEntrySerializer(many=True, help_text="The delivery log, oldest first.")


REGISTRANTS_READ = "registrants:read"


class MessageScopedMixin:
    scope_family = "messages"
    fixed_scope = "messages:read"
    required_scopes = ["messages"]

    def may_read_registrants(self) -> bool:
        return self.request.auth.allow_scopes([REGISTRANTS_READ])

    def messages(self) -> QuerySet:
        """The organisation's messages; those to registrants (personal data) only for a
        token that may read registrants too."""
        messages = Message.objects.filter(event__organisation_id=self.organisation_id)
        blind = self.blind_event_ids()
        if blind:
            messages = messages.exclude(event_id__in=blind)
        if not self.may_read_registrants():
            messages = messages.exclude(kind__in=REGISTRANT_KINDS)
        return messages

    def message(self, pk: str) -> Message:
        number = int(pk)
        found = (
            one_or_none(
                Message.objects.filter(event__organisation_id=self.organisation_id, pk=number)
            )
            if number <= MAX_ID
            else None
        )
        if found is None:
            raise NotFound(f"There is no message with id {pk[:30]}.")
        if found.kind in REGISTRANT_KINDS and not self.may_read_registrants():
            raise InsufficientScope(REGISTRANTS_READ)
        return found


class MessageCollectionView(MessageScopedMixin, ApiView):
    """Your organisation's messages, newest first. Messages to registrants are listed only
    for a token that also has the ``registrants:read`` scope."""

    list_methods = frozenset({"GET", "HEAD"})

    @extend_schema(
        operation_id="messages_list",
        summary="List messages",
        tags=["messages"],
        parameters=[
            OpenApiParameter("event_id", int, description="Only this event's messages."),
            OpenApiParameter(
                "registrant_id",
                int,
                description="Only to this registrant (needs the registrants:read scope too).",
            ),
            OpenApiParameter("speaker_id", int, description="Only to this speaker."),
            OpenApiParameter(
                "state", str, enum=MessageState.values, description="Only in this state."
            ),
            *LIST_PARAMETERS,
        ],
        responses={
            200: envelope_serializer(MessageSerializer, "MessageList"),
            **problems(400, 401, 403, 429),
        },
    )
    def get(self, request):
        query = self.query()
        if query.id("registrant_id") is not None and not self.may_read_registrants():
            raise InsufficientScope(REGISTRANTS_READ)
        messages = self.messages()
        for name in ("event_id", "registrant_id", "speaker_id"):
            value = query.id(name)
            if value is not None:
                messages = messages.filter(**{name: value})
        state = query.choice("state", list(MessageState.values))
        if state is not None:
            messages = messages.filter(state=state)
        return self.listing(messages.order_by("-id"), MessageSerializer, query)


class MessageItemView(MessageScopedMixin, ApiView):
    """One message."""

    @extend_schema(
        operation_id="messages_retrieve",
        summary="Get a message",
        tags=["messages"],
        parameters=[ID_PARAMETER, *SHAPE_PARAMETERS],
        responses={200: MessageSerializer, **problems(400, 401, 403, 404, 429)},
    )
    def get(self, request, pk: str):
        return self.item(self.message(pk), MessageSerializer)
