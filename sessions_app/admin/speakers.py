"""Speakers per event, and the speaker picker of the session form (autocomplete scoped to
the session's event). Writes go through ``services.speakers``; who speaks in a session is
saved with the session (``speaker_ids``)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import JsonResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from sessions_app import services
from sessions_app.admin.filters import EventFilter
from sessions_app.admin.forms import ServiceErrorsMixin
from sessions_app.admin.planning import SpeakerAvailabilityInline
from sessions_app.admin.scoping import OrganisationScopedAdmin, events_for
from sessions_app.models import Session, Speaker, SpeakerPhoto
from sessions_app.selectors import blind_event_ids
from sessions_app.validators import ascii_int

AUTOCOMPLETE_PAGE = 20


class SpeakerAdminForm(ServiceErrorsMixin, forms.ModelForm):
    """Saved by the service during validation, so its refusals land on the fields."""

    class Meta:
        model = Speaker
        fields = ["event", "first_name", "last_name", "email", "company", "job_title", "bio"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields.pop("event", None)

    def _post_clean(self) -> None:
        if self._errors:
            return
        names = services.SPEAKER_WRITABLE_FIELDS
        try:
            if self.instance.pk is None:
                data = {name: self.cleaned_data.get(name, "") for name in names}
                self.instance = services.speaker_create(
                    event_id=self.cleaned_data["event"].pk, data=data
                )
            elif self.changed_data:
                data = {
                    name: self.cleaned_data[name] for name in self.changed_data if name in names
                }
                self.instance = services.speaker_update(speaker_id=self.instance.pk, data=data)
        except ValidationError as exc:
            self.add_service_errors(exc)


@admin.register(Speaker)
class SpeakerAdmin(OrganisationScopedAdmin):
    form = SpeakerAdminForm
    list_display = ["full_name_display", "company", "email", "event", "session_count"]
    list_select_related = ["event"]
    list_filter = [EventFilter]
    search_fields = ["first_name", "last_name", "email", "company"]
    ordering = ["event", "last_name", "first_name", "id"]
    readonly_fields = ["sessions_display", "profile_display", "created_at", "updated_at"]
    inlines = [SpeakerAvailabilityInline]

    @admin.display(description="from their speaker page")
    def profile_display(self, obj):
        """What the speaker keeps themselves: their links and whether they gave a photo."""
        links = [line for line in (obj.links or "").splitlines() if line.strip()]
        kept = SpeakerPhoto.objects.filter(speaker=obj).values_list("content_type", flat=True)
        photo = f"a photo ({kept[0]})" if kept else "no photo"
        if not links:
            return f"No links; {photo}."
        return format_html(
            "{}; {}.",
            format_html_join(
                ", ", '<a href="{}" rel="noopener nofollow">{}</a>', ((u, u) for u in links)
            ),
            photo,
        )

    def get_inline_instances(self, request, obj=None):
        # Availability is in the event's zone: entered once the speaker (and event) exists.
        return super().get_inline_instances(request, obj) if obj is not None else []

    def get_queryset(self, request):
        qs = super().get_queryset(request).annotate(_sessions=Count("session_links"))
        # A blind reviewer sees no speaker of the events they review blind.
        blind = blind_event_ids(request.user)
        return qs.exclude(event_id__in=blind) if blind else qs

    def get_fields(self, request, obj=None):
        fields = ["first_name", "last_name", "email", "company", "job_title", "bio"]
        return ["event", *fields] if obj is None else [*fields, *self.readonly_fields]

    def save_form(self, request, form, change):
        return form.instance

    def save_model(self, request, obj, form, change):
        pass

    def save_related(self, request, form, formsets, change):
        # The speaker's own fields went through the service; their availability (the only
        # inline) goes through it too, as the API's does: the rows the form keeps.
        for formset in formsets:
            formset.save(commit=False)  # what changed, for the history message; nothing saved
            if not formset.has_changed():
                continue
            windows = [
                (f.instance.starts_at, f.instance.ends_at)
                for f in formset.forms
                if f.cleaned_data and not f.cleaned_data.get("DELETE")
            ]
            services.speaker_update(speaker_id=form.instance.pk, data={}, availability=windows)

    def has_delete_permission(self, request, obj=None):
        # One who speaks somewhere is taken off their sessions first (their history says so).
        if obj is not None and getattr(obj, "_sessions", None):
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        services.speaker_delete(speaker_id=obj.pk)

    def delete_queryset(self, request, queryset):
        refused = []
        for speaker in queryset:
            try:
                services.speaker_delete(speaker_id=speaker.pk)
            except ValidationError:
                refused.append(speaker.full_name)
        if refused:
            messages.warning(
                request,
                f"Not deleted, as they speak in sessions: {', '.join(refused)}. "
                "Take them off their sessions first.",
            )

    @admin.display(description="name", ordering="last_name")
    def full_name_display(self, obj):
        return obj.full_name

    @admin.display(description="sessions", ordering="_sessions")
    def session_count(self, obj):
        return obj._sessions

    @admin.display(description="speaks in")
    def sessions_display(self, obj):
        sessions = Session.objects.filter(speaker_links__speaker=obj).order_by("starts_at", "id")
        if not sessions:
            return "No session yet: add the speaker on a session's page."
        return format_html_join(
            "",
            '<div><a href="{}">{}</a> <span class="sm-muted">{} · {}</span></div>',
            (
                (
                    reverse("admin:sessions_app_session_change", args=[session.pk]),
                    session.name,
                    session.get_session_status_display(),
                    session.in_effective_zone(session.starts_at).strftime("%a %-d %b %H:%M %Z")
                    if session.starts_at
                    else "unscheduled",
                )
                for session in sessions
            ),
        )

    # --- the session form's picker ------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "autocomplete/<int:event_id>/",
                self.admin_site.admin_view(self.autocomplete_for_event),
                name="sessions_app_speaker_event_autocomplete",
            ),
            *super().get_urls(),
        ]

    def autocomplete_for_event(self, request, event_id: int):
        """``{"results": [{"id", "text"}], "pagination": {"more"}}`` as select2 reads it:
        the event's speakers matching ``term``, for a user who may see the event."""
        if (
            not self.has_view_permission(request)
            or not events_for(request).filter(pk=event_id).exists()
        ):
            raise PermissionDenied
        term = request.GET.get("term", "").replace("\0", "")[:100].strip()
        page = ascii_int(request.GET.get("page")) or 1
        speakers = Speaker.objects.filter(event_id=event_id).order_by("last_name", "first_name")
        for word in term.split():
            speakers = speakers.filter(
                Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(company__icontains=word)
                | Q(email__icontains=word)
            )
        start = (page - 1) * AUTOCOMPLETE_PAGE
        rows = list(speakers[start : start + AUTOCOMPLETE_PAGE + 1])
        return JsonResponse(
            {
                "results": [
                    {"id": str(s.pk), "text": speaker_label(s)} for s in rows[:AUTOCOMPLETE_PAGE]
                ],
                "pagination": {"more": len(rows) > AUTOCOMPLETE_PAGE},
            }
        )


def speaker_label(speaker: Speaker) -> str:
    return f"{speaker.full_name} ({speaker.company})" if speaker.company else speaker.full_name


class SpeakerPicker(forms.SelectMultiple):
    """A select2 box fed by the event's speakers (Django's own select2), in the order the
    organiser picks them: that is the billing order saved."""

    def __init__(self, *, url: str, attrs=None):
        super().__init__(
            attrs={
                "class": "speaker-autocomplete",
                "data-url": url,
                "data-placeholder": "Type a speaker's name",
                "style": "width: 30em",
                **(attrs or {}),
            }
        )

    @property
    def media(self):
        return forms.Media(
            js=[
                "admin/js/vendor/jquery/jquery.min.js",
                "admin/js/vendor/select2/select2.full.min.js",
                "admin/js/jquery.init.js",
                "sessions_admin/speaker_picker.js",
            ],
            css={
                "screen": [
                    "admin/css/vendor/select2/select2.min.css",
                    "admin/css/autocomplete.css",
                ]
            },
        )


class SpeakerIdsField(forms.TypedMultipleChoiceField):
    """Speaker ids in the order sent. Whether they are the event's speakers is the
    session service's rule (its error lands on this field)."""

    def __init__(self, *, event, initial_ids: list[int], **kwargs):
        known = Speaker.objects.filter(event=event, pk__in=initial_ids) if initial_ids else []
        labels = {speaker.pk: speaker_label(speaker) for speaker in known}
        url = reverse("admin:sessions_app_speaker_event_autocomplete", args=[event.pk])
        super().__init__(
            coerce=int,
            required=False,
            label="Speakers",
            help_text="In billing order. A speaker already speaking at this time elsewhere "
            "is refused.",
            choices=[(pk, labels.get(pk, f"#{pk}")) for pk in initial_ids],
            widget=SpeakerPicker(url=url),
            **kwargs,
        )

    def valid_value(self, value) -> bool:
        return ascii_int(str(value)) is not None

    def has_changed(self, initial, data) -> bool:
        # The order is the billing order: a new order is a change (unlike a set of choices).
        return [str(v) for v in initial or []] != [str(v) for v in data or []]


def speakers_list_html(session: Session) -> str:
    """The session's speakers as links to their pages (read-only views)."""
    speakers = Speaker.objects.filter(session_links__session=session).order_by(
        "session_links__position"
    )
    return format_html_join(
        ", ",
        '<a href="{}">{}</a>',
        (
            (reverse("admin:sessions_app_speaker_change", args=[s.pk]), s.full_name)
            for s in speakers
        ),
    ) or format_html("{}", "none")
