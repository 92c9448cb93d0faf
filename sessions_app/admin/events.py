"""Organisations, events, tracks, locations and custom field definitions."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html

from sessions_app import services
from sessions_app.admin.filters import EventFilter
from sessions_app.admin.forms import EventAdminForm
from sessions_app.admin.inlines import TabularInline
from sessions_app.admin.planning import LocationOpeningInline
from sessions_app.admin.scoping import OrganisationScopedAdmin, ScopedInlineMixin, organisation_ids
from sessions_app.models import (
    CustomField,
    CustomFieldChoice,
    Event,
    Location,
    Membership,
    Organisation,
    SessionType,
    Track,
)


class MembershipInline(TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organisation)
class OrganisationAdmin(OrganisationScopedAdmin):
    """Managed by superusers; members see at most their own organisations."""

    organisation_path = "pk"
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]

    def organisation_id_of(self, obj) -> int:
        return obj.pk


@admin.register(Event)
class EventAdmin(OrganisationScopedAdmin):
    form = EventAdminForm
    organisation_path = "organisation"
    list_display = [
        "name",
        "organisation",
        "start_date",
        "end_date",
        "timezone",
        # The model's field, which database triggers keep (a COUNT of each event's sessions
        # had read all of them: 48 ms at 100,000, and 15 ms more for the list's total).
        "session_count",
        "schedule_link",
    ]
    list_select_related = ["organisation"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    ordering = ["start_date", "name"]

    def organisation_id_of(self, obj) -> int:
        return obj.organisation_id

    def get_readonly_fields(self, request, obj=None):
        return ["organisation", "embed_snippet"] if obj is not None else []

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if obj is not None and "embed_snippet" in fields:  # after the list of sites
            fields.remove("embed_snippet")
            fields.insert(fields.index("embed_origins") + 1, "embed_snippet")
        return fields

    def get_prepopulated_fields(self, request, obj=None):
        return {} if obj is not None else self.prepopulated_fields

    @admin.display(description="Embed snippet")
    def embed_snippet(self, obj):
        """What the organiser pastes into their website to show the agenda there."""
        site = settings.SITE_URL.rstrip("/")
        script = site + reverse("agenda:embed_script")
        data = site + reverse("agenda:embed_data", args=[obj.organisation.slug, obj.slug])
        snippet = (
            f'<script src="{script}" defer></script>\n'
            f'<sessions-agenda src="{data}"></sessions-agenda>'
        )
        note = (
            "Paste this into a page of a site listed above. Optional attributes: "
            'day="YYYY-MM-DD", track="<track id>"; colours and fonts through the CSS '
            "properties --sa-font, --sa-text, --sa-muted, --sa-background, --sa-accent, "
            "--sa-border."
            if obj.embed_origins
            else "List the sites first (above): no other site can show the agenda."
        )
        return format_html(
            '<textarea readonly rows="3" cols="90" aria-label="Embed snippet" '
            'id="embed-snippet">{}</textarea><div class="help">{}</div>',
            snippet,
            note,
        )

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        own = organisation_ids(request, self.edit_role)
        if len(own) == 1 and "organisation" not in initial:
            initial["organisation"] = next(iter(own))
        return initial

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.actor = services.Actor(user=request.user)
        return form

    def save_model(self, request, obj, form, change):
        # A change was already written by services.event_update in the form's validation.
        if not change:
            super().save_model(request, obj, form, change)

    @admin.display(description="schedule")
    def schedule_link(self, obj):
        url = reverse("admin:sessions_app_session_schedule")
        return format_html('<a href="{}?event={}">Schedule grid</a>', url, obj.pk)


class _EventPartAdmin(OrganisationScopedAdmin):
    list_filter = [EventFilter]
    list_select_related = ["event"]
    search_fields = ["name"]

    def get_readonly_fields(self, request, obj=None):
        # Sessions rely on their track, location and fields staying in their event.
        return ["event"] if obj is not None else []


@admin.register(Track)
class TrackAdmin(_EventPartAdmin):
    list_display = ["name", "event", "colour"]
    fields = ["event", "name", "color"]

    @admin.display(description="colour", ordering="color")
    def colour(self, obj):
        return format_html(
            '<span class="sm-swatch" style="background:{}"></span> {}', obj.color, obj.color
        )

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "color":
            field.widget.input_type = "color"
        return field


@admin.register(SessionType)
class SessionTypeAdmin(_EventPartAdmin):
    list_display = ["name", "event", "default_minutes"]
    fields = ["event", "name", "default_minutes"]


@admin.register(Location)
class LocationAdmin(_EventPartAdmin):
    list_display = ["name", "event", "capacity"]
    fields = ["event", "name", "capacity"]
    inlines = [LocationOpeningInline]

    def get_inline_instances(self, request, obj=None):
        # Opening hours are in the event's zone: entered once the room (and event) exists.
        return super().get_inline_instances(request, obj) if obj is not None else []


class CustomFieldChoiceInline(ScopedInlineMixin, TabularInline):
    model = CustomFieldChoice
    extra = 1
    fields = ["label", "sort_order"]


@admin.register(CustomField)
class CustomFieldAdmin(_EventPartAdmin):
    list_display = [
        "label",
        "key_display",
        "event",
        "field_type",
        "required",
        "choice_count",
        "sort_order",
    ]
    list_filter = [EventFilter, "field_type", "required"]
    search_fields = ["label"]
    fields = ["event", "label", "field_type", "required", "sort_order", "help_text"]
    inlines = [CustomFieldChoiceInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_choice_count=Count("choices"))

    def get_readonly_fields(self, request, obj=None):
        # Stored values follow the type; changing it would strand them.
        return ["event", "field_type"] if obj is not None else []

    @admin.display(description="key")
    def key_display(self, obj):
        return obj.key

    @admin.display(description="choices", ordering="_choice_count")
    def choice_count(self, obj):
        return obj._choice_count if obj.has_choices else "—"
