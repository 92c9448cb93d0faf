"""Messages to people in the staff UI: each event's texts (with placeholders checked on save
and a preview for one of its speakers, or for a sample registrant), and the outbox, where
held messages are read, edited, sent or discarded, and every message's delivery can be
followed. Messages to registrants are personal data: only roles that may see registrants
see them."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from sessions_app.admin.display import local_moment
from sessions_app.admin.filters import EventFilter
from sessions_app.admin.scoping import (
    OrganisationScopedAdmin,
    may_see_registrants,
    organisations_with,
    scoped_action,
)
from sessions_app.enums import REGISTRANT_KINDS, MessageState, NoticeKind
from sessions_app.models import Message, MessageTemplate, Speaker
from sessions_app.notices import delivery, texts
from sessions_app.selectors import blind_event_ids


def placeholder_list(kind: str | None) -> str:
    kinds = [kind] if kind else list(NoticeKind.values)
    rows = []
    for k in kinds:
        names = texts.PLACEHOLDERS[k]
        rows.append(
            format_html(
                "<p><strong>{}</strong>: {}</p>",
                NoticeKind(k).label,
                format_html_join(", ", "<code>{{{}}}</code> ({})", names.items()),
            )
        )
    return format_html_join("", "{}", ((row,) for row in rows))


class MessageTemplateForm(forms.ModelForm):
    class Meta:
        model = MessageTemplate
        fields = ["event", "kind", "subject", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 14, "cols": 80})}

    def clean(self):
        data = super().clean()
        kind = data.get("kind") or getattr(self.instance, "kind", None)
        if kind and data.get("subject") is not None and data.get("body") is not None:
            texts.check(kind, subject=data["subject"], body=data["body"])
        return data


@dataclass(frozen=True)
class _SamplePerson:
    """Who a registrant's message is previewed for: nobody real, since every role that
    reads the texts would otherwise read a registrant's name and address."""

    full_name: str = "Alex Example"
    email: str = "alex@example.org"


def _sample_person(template: MessageTemplate):
    """A sample registrant, or a real speaker of the event, whichever the message is for."""
    if template.kind in REGISTRANT_KINDS:
        return _SamplePerson()
    return Speaker.objects.filter(event_id=template.event_id).order_by("pk").first()


@admin.register(MessageTemplate)
class MessageTemplateAdmin(OrganisationScopedAdmin):
    form = MessageTemplateForm
    list_display = ["kind", "event", "subject", "updated_at"]
    list_filter = [EventFilter, "kind"]
    list_select_related = ["event"]
    readonly_fields = ["placeholders", "preview"]

    def get_readonly_fields(self, request, obj=None):
        fixed = ["event", "kind"] if obj is not None else []
        return [*fixed, "placeholders", *(["preview"] if obj is not None else [])]

    def get_fields(self, request, obj=None):
        fields = ["event", "kind", "subject", "body", "placeholders"]
        return [*fields, "preview"] if obj is not None else fields

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        kind = request.GET.get("kind")
        if kind in NoticeKind.values:
            initial.setdefault("subject", texts.DEFAULTS[kind][0])
            initial.setdefault("body", texts.DEFAULTS[kind][1])
        return initial

    @admin.display(description="placeholders")
    def placeholders(self, obj):
        return placeholder_list(obj.kind if obj and obj.pk else None)

    @admin.display(description="preview")
    def preview(self, obj):
        person = _sample_person(obj)
        if person is None:
            return "Add a speaker to the event to see a preview."
        event = obj.event
        context = {
            "name": person.full_name,
            "event": event.name,
            "session": "Opening keynote",
            "time": "Mon 4 Jan 2027, 09:00\u201310:00 CET",
            "room": "Main Hall",
            "old_time": "Mon 4 Jan 2027, 09:00\u201310:00 CET",
            "new_time": "Mon 4 Jan 2027, 11:00\u201312:00 CET",
            "old_room": "Main Hall",
            "new_room": "Room A",
            "link": texts.PAGE_LINK if isinstance(person, _SamplePerson) else "",
        }
        if isinstance(person, Speaker):
            link = person.session_links.select_related("session").first()
            if link is not None:
                context["session"] = link.session.name
        subject, body = texts.render(texts.Text(obj.subject, obj.body), context)
        return format_html(
            '<div class="sm-preview"><p>To: {} &lt;{}&gt;</p><p><strong>{}</strong></p>'
            "<pre>{}</pre></div>",
            person.full_name,
            person.email or "no address",
            subject,
            body,
        )


@admin.register(Message)
class MessageAdmin(OrganisationScopedAdmin):
    """The outbox: every message, held ones first to hand."""

    list_display = ["subject", "to_display", "kind", "state_display", "event", "when_display"]
    list_filter = ["state", "kind", EventFilter]
    list_select_related = ["event"]
    search_fields = ["subject", "to_email", "to_name"]
    actions = ["send_selected", "discard_selected", "retry_selected"]
    fields = [
        "event",
        "kind",
        "state_display",
        "to_display",
        "subject",
        "body",
        "session",
        "when_display",
        "attempts",
        "last_error",
        "log_display",
    ]

    def scope(self, request, qs):
        qs = super().scope(request, qs)
        # A blind reviewer reads no message to a speaker of the events they review blind.
        blind = blind_event_ids(request.user)
        if blind:
            qs = qs.exclude(event_id__in=blind)
        allowed = organisations_with(request, "sessions_app.view_registrant")
        if allowed is None:
            return qs
        return qs.filter(~Q(kind__in=REGISTRANT_KINDS) | Q(event__organisation_id__in=allowed))

    def has_view_permission(self, request, obj=None):
        if (
            obj is not None
            and obj.kind in REGISTRANT_KINDS
            and not may_see_registrants(request, obj.event.organisation_id)
        ):
            return False
        return super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # discard instead: the log stays

    def get_readonly_fields(self, request, obj=None):
        editable = obj is not None and obj.state == MessageState.HELD
        fixed = [f for f in self.fields if f not in ("subject", "body")]
        return fixed if editable else list(self.fields)

    def save_model(self, request, obj, form, change):
        if form.changed_data:
            obj.edited = True
            obj.log = [
                *obj.log,
                {
                    "at": timezone.now().isoformat(),
                    "outcome": "edited",
                    "detail": f"by {request.user.get_username()}",
                },
            ]
        super().save_model(request, obj, form, change)

    @admin.display(description="to", ordering="to_email")
    def to_display(self, obj):
        return f"{obj.to_name} <{obj.to_email}>" if obj.to_email else f"{obj.to_name} (no address)"

    @admin.display(description="state", ordering="state")
    def state_display(self, obj):
        return format_html(
            '<span class="sm-message-state sm-message-{}">{}</span>',
            obj.state,
            obj.get_state_display(),
        )

    @admin.display(description="written / sent", ordering="created_at")
    def when_display(self, obj):
        zone = obj.event.timezone
        written = local_moment(obj.created_at, zone)
        if obj.sent_at:
            return f"{written}; sent {local_moment(obj.sent_at, zone)}"
        if obj.state == MessageState.QUEUED:
            return f"{written}; goes out {local_moment(obj.send_after, zone)}"
        return written

    @admin.display(description="delivery log")
    def log_display(self, obj):
        if not obj.log:
            return "—"
        return format_html_join(
            "",
            "<div>{} · {} {}</div>",
            (
                (
                    entry.get("at", "")[:19].replace("T", " "),
                    entry.get("outcome"),
                    entry.get("detail", ""),
                )
                for entry in obj.log
            ),
        )

    @scoped_action(description="Send the selected held messages", permission="change")
    def send_selected(self, request, queryset):
        count = delivery.release(queryset, by=request.user.get_username())
        self.message_user(
            request,
            f"{count} message(s) queued: the worker sends them now."
            if count
            else "None of the selected messages was held.",
            messages.SUCCESS if count else messages.WARNING,
        )

    @scoped_action(description="Discard the selected messages", permission="change")
    def discard_selected(self, request, queryset):
        count = delivery.discard(queryset, by=request.user.get_username())
        self.message_user(request, f"{count} message(s) discarded.", messages.SUCCESS)

    @scoped_action(description="Try the selected failed messages again", permission="change")
    def retry_selected(self, request, queryset):
        failed = queryset.filter(state=MessageState.FAILED).exclude(to_email="")
        ids = list(failed.values_list("pk", flat=True))
        failed.update(state=MessageState.HELD, attempts=0)
        count = delivery.release(Message.objects.filter(pk__in=ids), by=request.user.get_username())
        self.message_user(request, f"{count} message(s) queued again.", messages.SUCCESS)
