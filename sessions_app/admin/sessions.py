"""The session pages: list, review queue, form, status moves, history and schedule grid.

Reads are scoped to the user's organisations (``scoping``); every write goes through
``sessions_app.services`` so the admin and the API share rules, errors and history.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.views.main import IGNORED_PARAMS, ORDER_VAR, ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import DateTimeField, Exists, ExpressionWrapper, F, OrderBy, OuterRef
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_GET, require_POST

from sessions_app import services, validators
from sessions_app.admin import attendance, planner, suggestions, tables
from sessions_app.admin import events as _events  # noqa: F401  (registers the event-side admins)
from sessions_app.admin.calls import ask_to_confirm
from sessions_app.admin.display import (
    history_rows,
    local_moment,
    move_label,
    speaker_answers,
    status_badge,
    time_range,
)
from sessions_app.admin.filters import DayFilter, EventFilter, LocationFilter, TrackFilter
from sessions_app.admin.forms import SessionAdminForm, StatusMoveForm, timezone_choices
from sessions_app.admin.schedule import build_grid, day_sessions, event_days
from sessions_app.admin.scoping import (
    OrganisationScopedAdmin,
    events_for,
    is_superuser,
    may_review,
    may_see_registrants,
    scoped_action,
    visible_event_ids,
    visible_event_session_counts,
)
from sessions_app.admin.speakers import SpeakerIdsField, speakers_list_html
from sessions_app.enums import HOLDING_STATUSES, SessionStatus, allowed_transitions
from sessions_app.exceptions import StaleVersionError
from sessions_app.models import CustomField, Session, SessionChange
from sessions_app.selectors import (
    MAX_SESSION_LENGTH,
    SearchedText,
    is_blind,
    rows_of_page,
    sorted_after_filter,
)
from sessions_app.validators import ascii_int
from sessions_app.wire.custom_fields import custom_form_name, custom_formfield, custom_initial

admin.site.site_header = settings.PRODUCT_NAME
admin.site.site_title = settings.PRODUCT_NAME
admin.site.index_title = "Staff"
# The sidebar repeats the index and costs a third of a laptop screen; the session list
# needs the width more.
admin.site.enable_nav_sidebar = False

REVIEW_FLAG = "_sessions_review_queue"
KNOWN_TOTAL = "_sessions_list_total"
CLASH_TITLE = "Overlaps a session that holds this location (approved, converted or live)"


class SessionChangeList(ChangeList):
    """Shows the sort arrows of the ordering actually used (the review queue has its own), and
    takes the total of a list that only the event narrows from the events' session counts."""

    def _get_default_ordering(self):
        return (
            self.model_admin.get_ordering(self.sessions_request) or super()._get_default_ordering()
        )

    def __init__(self, request, *args, **kwargs):
        self.sessions_request = request
        super().__init__(request, *args, **kwargs)

    def get_results(self, request):
        setattr(request, KNOWN_TOTAL, self.known_total(request))
        super().get_results(request)
        # The default order reads from an index (session_start_order, or with the event
        # chosen session_event_start); a column the user sorts by may have none (event, room,
        # track, capacity, status, seats), and one group's list sorts the group.
        unindexed = ORDER_VAR in self.params or self.one_group()
        self.result_list = rows_of_page(self.queryset, self.result_list, unindexed_order=unindexed)

    def one_group(self) -> bool:
        """A track or a room is chosen: its sessions lie together in the order of time, so
        reading the time index and filtering would read every other group's sessions first
        (selectors.AfterFilter); the list sorts the group's sessions instead."""
        return any(self.params.get(f.parameter_name) for f in (TrackFilter, LocationFilter))

    def get_ordering(self, request, queryset):
        ordering = super().get_ordering(request, queryset)
        if not self.one_group():
            return ordering
        return sorted_after_filter([_order_by(key) for key in ordering])

    def known_total(self, request) -> int | None:
        """How many sessions the list holds, from ``Event.session_count`` (kept by database
        triggers), when nothing narrows it but the event: no search, no other filter, not
        the review queue. Counting 100,000 sessions took 5 ms in PostgreSQL. Else None."""
        if self.query or getattr(request, REVIEW_FLAG, False):
            return None
        if any(key not in (*IGNORED_PARAMS, EventFilter.parameter_name) for key in self.params):
            return None
        counts = visible_event_session_counts(request)
        chosen = self.params.get(EventFilter.parameter_name)
        if not chosen:
            return sum(counts.values())
        event_id = ascii_int(chosen)
        return None if event_id is None else counts.get(event_id, 0)


def _order_by(key) -> OrderBy:
    """An ordering as ChangeList gives it (``"-name"``, an expression, an ``OrderBy``) as
    an ``OrderBy``."""
    if isinstance(key, OrderBy):
        return key
    if isinstance(key, str):
        return F(key[1:]).desc() if key.startswith("-") else F(key).asc()
    return key.asc()


def clashes_with_held_slot():
    """True for a session whose slot overlaps one that holds the same location."""
    return Exists(
        Session.objects.filter(
            location_id=OuterRef("location_id"),
            session_status__in=HOLDING_STATUSES,
            starts_at__lt=OuterRef("ends_at"),
            starts_at__gt=ExpressionWrapper(
                OuterRef("starts_at") - MAX_SESSION_LENGTH, output_field=DateTimeField()
            ),
            ends_at__gt=OuterRef("starts_at"),
        ).exclude(pk=OuterRef("pk"))
    )


@admin.register(Session)
class SessionAdmin(OrganisationScopedAdmin):
    form = SessionAdminForm
    view_on_site = False
    # Fits 1024 px beside the filter panel: when (day and time) in one column, capacity
    # inside the seats column, the event only where more than one is in view.
    list_display = [
        "name",
        "event",
        "when_display",
        "location",
        "track",
        "status_display",
        "seats_display",
    ]
    list_display_links = ["name"]
    list_select_related = ["event", "location", "track"]
    list_filter = [EventFilter, "session_status", TrackFilter, LocationFilter, DayFilter]
    # The stock search (each word, or a quoted phrase, anywhere), in the one searched text
    # that PostgreSQL's trigram index answers (get_search_results names it), as the API's.
    search_fields = ["searched_text"]
    list_per_page = 100
    # One count (of what the filters select) per page, not a second one of everything.
    show_full_result_count = False
    ordering = [F("starts_at").asc(nulls_last=True), "name", "id"]
    actions = [
        "approve_selected",
        "reject_selected",
        "publish_selected",
        "unpublish_selected",
        "suggest_for_selected",
        "pin_selected",
        "unpin_selected",
        "ask_speakers_to_confirm",
    ]
    readonly_fields = [
        "event",
        "status_display",
        "instants_display",
        "secure_id",
        "version_display",
        "created_at",
        "updated_at",
        "custom_values_display",
        "speakers_display",
    ]

    # --- queryset -----------------------------------------------------------------------------

    def scope(self, request, qs):
        # By the list of the visible events' ids rather than a join to the events: counting
        # 100,000 sessions then reads only the event id index.
        if is_superuser(request):
            return qs
        return qs.filter(event_id__in=visible_event_ids(request))

    def get_queryset(self, request):
        qs = super().get_queryset(request).annotate(clashes_held=clashes_with_held_slot())
        if getattr(request, REVIEW_FLAG, False):
            qs = qs.filter(session_status=SessionStatus.SUBMITTED)
        return qs

    def get_search_results(self, request, queryset, search_term):
        queryset = queryset.alias(searched_text=SearchedText())
        return super().get_search_results(request, queryset, search_term)

    def get_ordering(self, request):
        if getattr(request, REVIEW_FLAG, False):
            return ["created_at", "id"]
        return super().get_ordering(request)

    def get_changelist(self, request, **kwargs):
        return SessionChangeList

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        paginator = super().get_paginator(
            request, queryset, per_page, orphans, allow_empty_first_page
        )
        total = getattr(request, KNOWN_TOTAL, None)
        if total is not None:
            paginator.count = total  # a cached_property: set, it is not counted
        return paginator

    def get_list_display(self, request):
        if getattr(request, REVIEW_FLAG, False):
            columns = [
                "name",
                "event",
                "when_display",
                "location",
                "track",
                "clash_display",
                "submitted_display",
            ]
        else:
            columns = list(super().get_list_display(request))
        if not self._several_events_in_view(request):
            columns.remove("event")
        if "seats_display" in columns and not may_see_registrants(request):
            # The same counts, without the link to an attendee list they may not open.
            columns[columns.index("seats_display")] = "seats_count_display"
        return columns

    @staticmethod
    def _several_events_in_view(request) -> bool:
        """The event column says something only when the rows may come from several events."""
        return not request.GET.get(EventFilter.parameter_name) and (
            len(visible_event_session_counts(request)) > 1
        )

    def get_list_filter(self, request):
        if getattr(request, REVIEW_FLAG, False):
            return [EventFilter, TrackFilter, LocationFilter, DayFilter]
        return super().get_list_filter(request)

    # --- permissions --------------------------------------------------------------------------

    def has_review_permission(self, request, obj=None):
        return may_review(request, None if obj is None else obj.event.organisation_id)

    def get_actions(self, request):
        actions = super().get_actions(request)
        # The stock bulk delete skips the services (and their refusal of live sessions).
        actions.pop("delete_selected", None)
        return actions

    # --- list columns -------------------------------------------------------------------------

    @admin.display(description="when", ordering="starts_at")
    def when_display(self, obj):
        if obj.date is None:
            return time_range(obj)
        return format_html(
            '<span class="sm-when-day">{}</span> {}', f"{obj.date:%a %-d %b %Y}", time_range(obj)
        )

    @admin.display(description="status", ordering="session_status")
    def status_display(self, obj):
        badge = status_badge(obj.session_status)
        if obj.session_status == SessionStatus.SUBMITTED and getattr(obj, "clashes_held", False):
            return format_html(
                '{} <span class="sm-flag" title="{}">clash</span>', badge, CLASH_TITLE
            )
        answers = speaker_answers(obj)
        if answers:
            return format_html('{} <span class="sm-muted">{}</span>', badge, answers)
        return badge

    @staticmethod
    def _seats(obj) -> tuple[str, str]:
        """``12 of 60 taken`` and ``48 left, 3 waiting``; ``12 taken`` and ``no limit``."""
        if obj.capacity is None:
            taken, rest = f"{obj.seats_taken} taken", "no limit"
        else:
            taken = f"{obj.seats_taken} of {obj.capacity} taken"
            rest = "sold out" if obj.seats_left <= 0 else f"{obj.seats_left} left"
        if obj.waitlist_count:
            rest += f", {obj.waitlist_count} waiting"
        if obj.interest_count:
            rest += f", {obj.interest_count} interested"
        return taken, rest

    @admin.display(description="seats", ordering="capacity")
    def seats_display(self, obj):
        """The seats, linked to the session's attendee list."""
        url = reverse("admin:sessions_app_session_attendees", args=[obj.pk])
        taken, rest = self._seats(obj)
        return format_html(
            '<a href="{}">{}</a> <span class="sm-seats-rest">{}</span>', url, taken, rest
        )

    @admin.display(description="seats", ordering="capacity")
    def seats_count_display(self, obj):
        """The seats, for a role that may not read who holds them."""
        return format_html('{} <span class="sm-seats-rest">{}</span>', *self._seats(obj))

    @admin.display(description="clash")
    def clash_display(self, obj):
        if getattr(obj, "clashes_held", False):
            return format_html('<span class="sm-flag" title="{}">clash</span>', CLASH_TITLE)
        return format_html('<span class="sm-none sm-muted">{}</span>', "none")

    @admin.display(description="submitted", ordering="created_at")
    def submitted_display(self, obj):
        return local_moment(obj.created_at, obj.event.timezone)

    # --- read-only fields on the form -----------------------------------------------------------

    @admin.display(description="absolute time")
    def instants_display(self, obj):
        if obj.starts_at is None:
            return "—"
        return f"{obj.starts_at.isoformat()} → {obj.ends_at.isoformat()}"

    @admin.display(description="version")
    def version_display(self, obj):
        return obj.version

    @admin.display(description="speakers")
    def speakers_display(self, obj):
        return speakers_list_html(obj)

    @admin.display(description="custom fields")
    def custom_values_display(self, obj):
        stored = obj.custom_fields or {}
        items = []
        for definition in obj.event.custom_fields.prefetch_related("choices"):
            value = custom_initial(definition, stored.get(definition.key))
            if definition.has_choices and value is not None:
                labels = {c.pk: c.label for c in definition.choices.all()}
                ids = value if isinstance(value, list) else [value]
                value = ", ".join(labels.get(i, f"#{i}") for i in ids)
            if isinstance(value, bool):
                value = "yes" if value else "no"
            items.append((definition.label, "—" if value in (None, "", []) else value))
        if not items:
            return "—"
        return format_html(
            '<dl class="sm-custom-values">{}</dl>',
            format_html_join("", "<dt>{}</dt><dd>{}</dd>", items),
        )

    # --- the form -----------------------------------------------------------------------------

    def _request_definitions(self, request, event) -> list[CustomField]:
        key = "_sessions_custom_definitions"
        cached = getattr(request, key, None)
        if cached is None or cached[0] != event.pk:
            cached = (event.pk, list(event.custom_fields.prefetch_related("choices")))
            setattr(request, key, cached)
        return cached[1]

    def _add_event(self, request):
        """The event a new session goes into, from ``?event=``; None if not given or not ours."""
        event_id = ascii_int(request.GET.get("event"))
        if event_id is None:
            return None
        return events_for(request, self.edit_role).filter(pk=event_id).first()

    def _form_event(self, request, obj):
        if obj is not None:
            return obj.event
        cached = getattr(request, "_sessions_add_event", None)
        if cached is None:
            cached = self._add_event(request)
            request._sessions_add_event = cached
        return cached

    def get_fieldsets(self, request, obj=None):
        event = self._form_event(request, obj)
        editable = obj is None or self.has_change_permission(request, obj)
        definitions = self._request_definitions(request, event) if event else []
        metadata = [
            "name",
            ("admin_short_name", "badge_name"),
            "description",
            ("track", "location"),
            "session_type",
            "speakers" if editable else "speakers_display",
        ]
        if obj is not None and not editable and is_blind(request.user, obj.event_id):
            metadata.remove("speakers_display")  # a blind reviewer does not see who
        if editable and obj is not None:
            metadata = ["loaded_version", *metadata]
        fieldsets = [
            (
                "Metadata",
                {
                    "fields": metadata,
                    "description": f"New session in {event.name}." if obj is None and event else "",
                },
            ),
            (
                "Scheduling",
                {
                    "fields": [
                        "duration_minutes",
                        "date",
                        ("start_time", "end_time"),
                        "use_event_timezone",
                        "timezone",
                        "pinned",
                    ],
                    "description": f"Times are local to the event's time zone ({event.timezone})"
                    " unless the session has its own."
                    if event
                    else "",
                },
            ),
            ("Capacity", {"fields": ["capacity", "sold_out_message", "webinar_url"]}),
            (
                "Behaviour",
                {
                    "fields": [
                        "selection_control",
                        "locked_when_saved",
                        "selected_by_default",
                        "prevent_session_conflicts",
                    ]
                },
            ),
        ]
        if editable:
            custom = [custom_form_name(d) for d in definitions]
        else:
            custom = ["custom_values_display"] if definitions else []
        if custom:
            fieldsets.append(("Custom fields", {"fields": custom}))
        if obj is not None:
            fieldsets.append(
                (
                    "Record",
                    {
                        "fields": [
                            "status_display",
                            "instants_display",
                            "secure_id",
                            "version_display",
                            ("created_at", "updated_at"),
                        ],
                        "classes": ["collapse"],
                    },
                )
            )
        return fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        event = self._form_event(request, obj)
        definitions = self._request_definitions(request, event) if event else []
        attrs = {custom_form_name(d): custom_formfield(d) for d in definitions}
        if event is not None:
            attrs["speakers"] = SpeakerIdsField(
                event=event, initial_ids=list(obj.speaker_ids or []) if obj else []
            )
        attrs.update(
            event=event,
            actor=services.Actor(user=request.user),
            custom_definitions=definitions,
        )
        kwargs["form"] = type("SessionAdminForm", (self.form,), attrs)
        request._sessions_form_event = event
        return super().get_form(request, obj, change, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in ("track", "location", "session_type"):
            event = getattr(request, "_sessions_form_event", None)
            kwargs["queryset"] = db_field.related_model.objects.filter(event=event)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "timezone":
            return forms.ChoiceField(
                choices=timezone_choices(),
                required=False,
                label="Time zone",
                help_text="Used only when the event's time zone is not.",
            )
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "description" and field is not None:
            field.widget.attrs["rows"] = 4
        return field

    def save_form(self, request, form, change):
        return form.instance  # written by the service during validation (SessionAdminForm)

    def save_model(self, request, obj, form, change):
        pass  # see save_form: nothing left to write, and history is already recorded

    def save_related(self, request, form, formsets, change):
        pass  # the service wrote the speakers too; a session has no inline rows

    def delete_model(self, request, obj):
        services.session_delete(session_id=obj.pk, actor=services.Actor(user=request.user))

    # --- pages --------------------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("review/", view(self.review_view), name="sessions_app_session_review"),
            path("schedule/", view(self.schedule_view), name="sessions_app_session_schedule"),
            path(
                "schedule/move/",
                view(require_POST(lambda request: planner.move_view(self, request))),
                name="sessions_app_session_schedule_move",
            ),
            path(
                "schedule/suggest/",
                view(require_POST(lambda request: suggestions.suggest_view(self, request))),
                name="sessions_app_session_schedule_suggest",
            ),
            path(
                "schedule/suggest/<int:proposal_id>/",
                view(
                    require_POST(
                        lambda request, proposal_id: suggestions.proposal_view(
                            self, request, proposal_id
                        )
                    )
                ),
                name="sessions_app_session_schedule_proposal",
            ),
            path(
                "schedule/state/",
                view(require_GET(lambda request: planner.state_view(self, request))),
                name="sessions_app_session_schedule_state",
            ),
            path(
                "export.csv",
                view(lambda request: tables.export_view(self, request, "csv")),
                name="sessions_app_session_export_csv",
            ),
            path(
                "export.xlsx",
                view(lambda request: tables.export_view(self, request, "xlsx")),
                name="sessions_app_session_export_xlsx",
            ),
            path(
                "export/<int:job_id>/",
                view(lambda request, job_id: tables.export_job_view(self, request, job_id)),
                name="sessions_app_session_export_job",
            ),
            path(
                "export/<int:job_id>/file",
                view(lambda request, job_id: tables.export_file_view(self, request, job_id)),
                name="sessions_app_session_export_file",
            ),
            path(
                "import/",
                view(lambda request: tables.import_view(self, request)),
                name="sessions_app_session_import",
            ),
            path(
                "import/<int:job_id>/",
                view(lambda request, job_id: tables.import_view(self, request, job_id)),
                name="sessions_app_session_import_job",
            ),
            path(
                "<path:object_id>/status/",
                view(self.status_view),
                name="sessions_app_session_status",
            ),
            path(
                "<path:object_id>/attendees/",
                view(self.attendees_view),
                name="sessions_app_session_attendees",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            "review_queue": getattr(request, REVIEW_FLAG, False),
            "review_url": reverse("admin:sessions_app_session_review"),
            "schedule_url": reverse("admin:sessions_app_session_schedule"),
            "export_csv_url": reverse("admin:sessions_app_session_export_csv"),
            "export_xlsx_url": reverse("admin:sessions_app_session_export_xlsx"),
            "import_url": reverse("admin:sessions_app_session_import"),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context)

    def attendees_view(self, request, object_id):
        return attendance.session_attendees_view(self, request, object_id)

    def review_view(self, request):
        """The submitted sessions, oldest first: the list page with a fixed filter."""
        setattr(request, REVIEW_FLAG, True)
        return self.changelist_view(
            request,
            {"title": "Review queue: submitted sessions, oldest first"},
        )

    def add_view(self, request, form_url="", extra_context=None):
        if self._form_event(request, None) is None:
            return self._choose_event_view(request)
        return super().add_view(request, form_url, extra_context)

    def _choose_event_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        if "event" in request.GET:
            raise Http404("No such event.")
        choices = list(events_for(request, self.edit_role))
        if len(choices) == 1:
            return redirect(f"{request.path}?event={choices[0].pk}")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Add session: choose its event",
            "events": choices,
        }
        return TemplateResponse(request, "admin/sessions_app/session/choose_event.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra_context = {**(extra_context or {}), **self._session_page_context(request, obj)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _session_page_context(self, request, obj) -> dict:
        if obj is None:
            return {}
        moves = []
        if self.has_review_permission(request, obj):
            moves = [
                {"status": target, "label": move_label(obj.session_status, target)}
                for target in allowed_transitions(obj.session_status)
            ]
        entries = list(obj.changes.all())
        return {
            "status_badge": status_badge(obj.session_status),
            "status_moves": moves,
            "status_url": reverse("admin:sessions_app_session_status", args=[obj.pk]),
            "attendees_url": reverse("admin:sessions_app_session_attendees", args=[obj.pk])
            if may_see_registrants(request, obj.event.organisation_id)
            else None,
            "session_version": obj.version,
            "history": history_rows(obj, entries, blind=is_blind(request.user, obj.event_id)),
            "clashes_held": obj.session_status == SessionStatus.SUBMITTED
            and getattr(obj, "clashes_held", False),
        }

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "title": f"History: {obj.name}",
            "history": history_rows(
                obj,
                list(SessionChange.objects.filter(session_id=obj.pk)),
                blind=is_blind(request.user, obj.event_id),
            ),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/sessions_app/session/history.html", context)

    def delete_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, object_id)
        try:
            if obj is not None:  # refuse before the confirmation page, not after it
                validators.validate_not_live_for_delete(status=obj.session_status)
            # The service checks again under its lock; its refusal undoes the admin's log entry.
            return super().delete_view(request, object_id, extra_context)
        except ValidationError as exc:
            self.message_user(
                request, f"“{obj.name}” was not deleted: {' '.join(exc.messages)}", messages.ERROR
            )
            return redirect("admin:sessions_app_session_change", obj.pk)

    # --- status moves -------------------------------------------------------------------------

    def status_view(self, request, object_id):
        return require_POST(self._status_view)(request, object_id)

    def _status_view(self, request, object_id):
        obj = self.get_object(request, object_id)
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_review_permission(request, obj):
            raise PermissionDenied
        change_url = reverse("admin:sessions_app_session_change", args=[obj.pk])
        form = StatusMoveForm(request.POST)
        if not form.is_valid():
            problems = " ".join(
                f"{name.capitalize()}: {' '.join(errors)}" for name, errors in form.errors.items()
            )
            self.message_user(request, f"“{obj.name}” was not moved. {problems}", messages.ERROR)
            return HttpResponseRedirect(change_url)
        target = form.cleaned_data["status"]
        before = obj.session_status
        try:
            session = services.session_set_status(
                session_id=obj.pk,
                status=target,
                actor=services.Actor(user=request.user),
                note=form.cleaned_data["note"],
                expected_version=form.cleaned_data["version"],
            )
        except StaleVersionError as exc:
            self.message_user(
                request,
                f"Not moved: someone changed “{obj.name}” since you opened it (version "
                f"{exc.expected} → {exc.current}). Check its status below and try again.",
                messages.ERROR,
            )
        except ValidationError as exc:
            self.message_user(
                request,
                f"“{obj.name}” was not moved to {SessionStatus(target).label.lower()}: "
                + " ".join(exc.messages),
                messages.ERROR,
            )
        else:
            if session.session_status == before and before == target:
                self.message_user(
                    request, f"“{obj.name}” is already {SessionStatus(target).label.lower()}."
                )
            else:
                self.message_user(
                    request,
                    f"“{obj.name}” moved from {SessionStatus(before).label.lower()} to "
                    f"{SessionStatus(target).label.lower()}.",
                    messages.SUCCESS,
                )
        return HttpResponseRedirect(change_url)

    def _bulk_move(self, request, queryset, *, target: str, verb: str, refuse=None):
        """Move each selected session; report per session what moved and what was refused."""
        actor = services.Actor(user=request.user)
        moved, unchanged = [], []
        for session in queryset.select_related("event").order_by("pk"):
            label = f"“{session.name}” (#{session.pk})"
            if not self.has_review_permission(request, session):
                reason = "you are not a reviewer of its organisation."
            elif session.session_status in (refuse or {}):
                reason = refuse[session.session_status]
            elif session.session_status == target:
                unchanged.append(label)
                continue
            else:
                try:
                    services.session_set_status(
                        session_id=session.pk, status=target, actor=actor, note=""
                    )
                except ValidationError as exc:
                    reason = " ".join(exc.messages)
                else:
                    moved.append(label)
                    continue
            self.message_user(request, f"Not {verb}: {label}: {reason}", messages.ERROR)
        if moved:
            self.message_user(
                request,
                f"{verb.capitalize()} {len(moved)} session{'s' if len(moved) != 1 else ''}: "
                + ", ".join(moved)
                + ".",
                messages.SUCCESS,
            )
        if unchanged:
            self.message_user(
                request,
                f"Already {SessionStatus(target).label.lower()}, nothing changed: "
                + ", ".join(unchanged)
                + ".",
                messages.INFO,
            )

    @scoped_action(description="Approve selected sessions", permission="review")
    def approve_selected(self, request, queryset):
        self._bulk_move(
            request,
            queryset,
            target=SessionStatus.APPROVED,
            verb="approved",
            # Allowed by the table, but these moves take a session backwards: say so.
            refuse={
                SessionStatus.LIVE: "it is live; use “Unpublish” to take it off the agenda.",
                SessionStatus.CONVERTED: "it is converted; open it and use “Back to approved” "
                "if that is what you mean.",
            },
        )

    @scoped_action(description="Reject selected sessions", permission="review")
    def reject_selected(self, request, queryset):
        self._bulk_move(request, queryset, target=SessionStatus.REJECTED, verb="rejected")

    @scoped_action(description="Publish selected sessions (go live)", permission="review")
    def publish_selected(self, request, queryset):
        self._bulk_move(request, queryset, target=SessionStatus.LIVE, verb="published")

    @scoped_action(description="Unpublish selected sessions", permission="review")
    def unpublish_selected(self, request, queryset):
        self._bulk_move(
            request,
            queryset,
            target=SessionStatus.APPROVED,
            verb="unpublished",
            refuse={
                status: f"it is {status.label.lower()}, not live; only live sessions can be "
                "unpublished."
                for status in SessionStatus
                if status != SessionStatus.LIVE
            },
        )

    @scoped_action(description="Suggest a schedule for the selected sessions", permission="change")
    def suggest_for_selected(self, request, queryset):
        return suggestions.suggest_for_selected(self, request, queryset)

    @scoped_action(
        description="Pin selected sessions (suggestions leave them)", permission="change"
    )
    def pin_selected(self, request, queryset):
        suggestions.pin_selected(self, request, queryset, pinned=True)

    @scoped_action(description="Unpin selected sessions", permission="change")
    def unpin_selected(self, request, queryset):
        suggestions.pin_selected(self, request, queryset, pinned=False)

    @scoped_action(
        description="Ask speakers who have not confirmed to confirm", permission="change"
    )
    def ask_speakers_to_confirm(self, request, queryset):
        asked = ask_to_confirm(queryset)
        if asked:
            self.message_user(
                request, f"{asked} message(s) to speakers who have not answered: see the outbox."
            )
        else:
            self.message_user(
                request,
                "Nobody to ask: the selected sessions are not approved, or every speaker "
                "has answered.",
                messages.WARNING,
            )

    # --- schedule grid ------------------------------------------------------------------------

    def schedule_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        events = list(events_for(request))
        raw_event = request.GET.get("event", "")
        if raw_event:
            event = next((e for e in events if str(e.pk) == raw_event), None)
            if event is None:
                raise Http404("No such event.")
        else:
            event = events[0] if events else None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Schedule: {event.name}" if event else "Schedule",
            "events": events,
            "event": event,
            "changelist_url": reverse("admin:sessions_app_session_changelist"),
        }
        if event is not None:
            days = event_days(event)
            raw_day = request.GET.get("day", "")
            try:
                day = dt.date.fromisoformat(raw_day) if raw_day else days[0]
            except ValueError:
                day = days[0]
            if day not in days:
                day = days[0]
            grid = build_grid(
                event=event,
                day=day,
                sessions=list(day_sessions(event, day)),
                locations=list(event.locations.all()),
                also=suggestions.suggested_spans(request, event, day),
            )
            may_plan = suggestions.may_plan(request, event)
            context.update(
                days=days,
                day=day,
                grid=grid,
                blind=is_blind(request.user, event.pk),
                may_plan=may_plan,
                unscheduled=list(planner.unscheduled(event)),
                move_url=reverse("admin:sessions_app_session_schedule_move"),
                state_url=reverse("admin:sessions_app_session_schedule_state"),
                poll_ms=int(settings.SCHEDULE_GRID_POLL_SECONDS * 1000),
                suggest_url=reverse("admin:sessions_app_session_schedule_suggest"),
                **suggestions.proposal_context(request, event, day, grid),
                **suggestions.constraints_context(event, day, grid),
            )
        return TemplateResponse(request, "admin/sessions_app/session/schedule.html", context)
