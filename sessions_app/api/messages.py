"""Messages to speakers and registrants, and their delivery state (scope ``messages:read``).

Read only: messages are made by the writes they tell about (and, for a welcome, by
``POST /registrants?notify=1``), and sent by the background worker.
"""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound

from sessions_app.api.schema import ID_PARAMETER, LIST_PARAMETERS, SHAPE_PARAMETERS, problems
from sessions_app.api.serializers import (
    FlatOutputSerializer,
    NullableUtcDateTimeField,
    UtcDateTimeField,
    envelope_serializer,
)
from sessions_app.api.views import ApiView
from sessions_app.enums import MessageState, NoticeKind
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


class MessageScopedMixin:
    scope_family = "messages"
    fixed_scope = "messages:read"
    required_scopes = ["messages"]

    def messages(self) -> QuerySet:
        return Message.objects.filter(event__organisation_id=self.organisation_id)

    def message(self, pk: str) -> Message:
        number = int(pk)
        found = one_or_none(self.messages().filter(pk=number)) if number <= MAX_ID else None
        if found is None:
            raise NotFound(f"There is no message with id {pk[:30]}.")
        return found


class MessageCollectionView(MessageScopedMixin, ApiView):
    """Your organisation's messages, newest first."""

    list_methods = frozenset({"GET", "HEAD"})

    @extend_schema(
        operation_id="messages_list",
        summary="List messages",
        tags=["messages"],
        parameters=[
            OpenApiParameter("event_id", int, description="Only this event's messages."),
            OpenApiParameter("registrant_id", int, description="Only to this registrant."),
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
