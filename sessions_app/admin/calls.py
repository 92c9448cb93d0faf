"""Calls for proposals: organisers open one per event and ask speakers to confirm."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from sessions_app import validators
from sessions_app.admin.event_zone import EventZoneMixin, moment_field
from sessions_app.admin.filters import EventFilter
from sessions_app.admin.scoping import OrganisationScopedAdmin, events_for
from sessions_app.enums import HOLDING_STATUSES, NoticeKind
from sessions_app.models import CallForProposals, CustomField, SessionType, Speaker, Track
from sessions_app.models.cfp import OPEN_AFTER_CHOICES
from sessions_app.notices import compose as notices


class CallForm(forms.ModelForm):
    opens_at = moment_field("Opens")
    closes_at = moment_field("Closes")
    open_after = forms.MultipleChoiceField(
        choices=OPEN_AFTER_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Open after the decision",
        help_text="What speakers may still edit once their proposal is approved or rejected.",
    )

    class Meta:
        model = CallForProposals
        fields = [
            "event",
            "opens_at",
            "closes_at",
            "introduction",
            "session_types",
            "tracks",
            "fields",
            "required_fields",
            "abstract_min",
            "abstract_max",
            "open_after",
        ]
        widgets = dict.fromkeys(
            ("session_types", "tracks", "fields", "required_fields"),
            forms.CheckboxSelectMultiple,
        )

    def clean(self):
        data = super().clean()
        event = data.get("event") or getattr(self.instance, "event", None)
        if event is None:
            return data
        for name in ("session_types", "tracks", "fields", "required_fields"):
            wrong = [item for item in data.get(name) or [] if item.event_id != event.pk]
            if wrong:
                self.add_error(name, "Choose only the event's own.")
        asked = set(data.get("fields") or [])
        if not set(data.get("required_fields") or []) <= asked:
            self.add_error("required_fields", "A required question must be one of those asked.")
        return data


@admin.register(CallForProposals)
class CallForProposalsAdmin(EventZoneMixin, OrganisationScopedAdmin):
    form = CallForm
    list_display = ["event", "opens_at", "closes_at", "state_display", "public_link"]
    list_filter = [EventFilter]
    list_select_related = ["event__organisation"]

    def get_readonly_fields(self, request, obj=None):
        return ["event"] if obj is not None else []

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        models = {
            "session_types": SessionType,
            "tracks": Track,
            "fields": CustomField,
            "required_fields": CustomField,
        }
        model = models.get(db_field.name)
        if model is not None:
            object_id = request.resolver_match.kwargs.get("object_id")
            rows = model.objects.select_related("event")
            call = CallForProposals.objects.filter(pk=validators.ascii_int(object_id or "")).first()
            if call is not None:
                rows = rows.filter(event_id=call.event_id)
            else:
                rows = rows.filter(event__in=events_for(request))
            kwargs["queryset"] = rows
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description="now")
    def state_display(self, obj):
        now = timezone.now()
        if obj.is_open(now):
            return "open"
        return "not open yet" if now < obj.opens_at else "closed"

    @admin.display(description="public page")
    def public_link(self, obj):
        url = reverse("cfp:call", args=[obj.event.organisation.slug, obj.event.slug])
        return format_html('<a href="{}">{}</a>', url, url)


def ask_to_confirm(sessions) -> int:
    """A message to each speaker of the approved sessions who has not answered; how many."""
    made = 0
    rows = list(sessions.filter(session_status__in=HOLDING_STATUSES).select_related("location"))
    wanted = {pk for session in rows for pk in session.speaker_ids or []}
    speakers = Speaker.objects.in_bulk(wanted)
    with transaction.atomic():
        for session in rows:
            answers = session.speaker_confirmations or {}
            for pk in session.speaker_ids or []:
                speaker = speakers.get(pk)
                if speaker is None or str(pk) in answers:
                    continue
                if notices.to_speaker(NoticeKind.SPEAKER_CONFIRM, speaker, session=session):
                    made += 1
    return made
