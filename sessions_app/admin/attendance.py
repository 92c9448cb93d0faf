"""Registrants of an event, their seats, CSV import, and each session's attendee list.

Every write is a call to ``services.attendance`` (registrant_create, selection_add, ...):
the same rules, errors and history as the API and the registrant's own page.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from sessions_app import selectors, services
from sessions_app.admin.display import local_moment
from sessions_app.admin.filters import EventFilter
from sessions_app.admin.forms import ServiceErrorsMixin
from sessions_app.admin.imports import import_page
from sessions_app.admin.scoping import (
    OrganisationScopedAdmin,
    may,
    may_see_registrants,
    scoped_action,
)
from sessions_app.enums import ImportKind
from sessions_app.models import Event, Registrant, Selection, SelectionState, Session
from sessions_app.notices import compose as notices
from sessions_app.transfer.csvfiles import FileRefused, read_rows
from sessions_app.transfer.imports import REGISTRANT_COLUMNS, validation_sentences
from sessions_app.validators import ascii_int

IMPORT_MAX_BYTES = 5 * 1024 * 1024
IMPORT_MAX_ROWS = 10_000


class RegistrantAdminForm(ServiceErrorsMixin, forms.ModelForm):
    """Saved by the service during validation, so its refusals land on the fields."""

    actor: services.Actor

    class Meta:
        model = Registrant
        fields = ["event", "first_name", "last_name", "email"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields.pop("event", None)

    def _post_clean(self) -> None:
        if self._errors:
            return
        data = {
            name: self.cleaned_data[name]
            for name in ("first_name", "last_name", "email")
            if name in self.cleaned_data
        }
        try:
            if self.instance.pk is None:
                self.instance = services.registrant_create(
                    event_id=self.cleaned_data["event"].pk, data=data, actor=self.actor
                )
            elif self.changed_data:
                self.instance = services.registrant_update(
                    registrant_id=self.instance.pk,
                    data={k: v for k, v in data.items() if k in self.changed_data},
                    actor=self.actor,
                )
        except ValidationError as exc:
            self.add_service_errors(exc)


def _check_header(names: list[str]) -> None:
    missing = {"first_name", "email"} - set(names)
    if missing:
        raise FileRefused(
            f"The header row needs the columns {', '.join(REGISTRANT_COLUMNS)} "
            f"(missing: {', '.join(sorted(missing))})."
        )


class ImportForm(forms.Form):
    event = forms.ModelChoiceField(queryset=Event.objects.none())
    file = forms.FileField(
        help_text=(
            "CSV with a header row: first_name, last_name, email (UTF-8). Each row is "
            "registered as if added by hand: included sessions and defaults are selected. "
            "The background worker imports the file; its page shows the progress, then the "
            "report."
        )
    )

    def __init__(self, *args, events=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["event"].queryset = events

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > IMPORT_MAX_BYTES:
            raise ValidationError(f"The file is larger than {IMPORT_MAX_BYTES // 1024 // 1024} MB.")
        try:
            return read_rows(
                upload.read(),
                check_header=_check_header,
                lower=True,
                max_bytes=IMPORT_MAX_BYTES,
                max_rows=IMPORT_MAX_ROWS,
            )
        except FileRefused as exc:
            raise ValidationError(str(exc)) from None


@admin.register(Registrant)
class RegistrantAdmin(OrganisationScopedAdmin):
    form = RegistrantAdminForm
    list_display = ["full_name_display", "email", "event", "seats_display", "registered_display"]
    list_select_related = ["event"]
    list_filter = [EventFilter]
    # The stock search over one searched text, which PostgreSQL's trigram index answers
    # (get_search_results names it), as the API's.
    search_fields = ["searched_text"]
    list_per_page = 100
    show_full_result_count = False
    # The API's order, which the registrant_name index reads in order: by the events' dates
    # and names, 100,000 registrants were sorted for each page (78 ms against 0.1).
    ordering = ["event_id", "last_name", "first_name", "id"]
    readonly_fields = ["page_link", "selections_display", "created_at", "updated_at"]
    actions = ["reset_page_links", "send_welcome"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("selections")

    def get_search_results(self, request, queryset, search_term):
        queryset = queryset.alias(searched_text=selectors.RegistrantSearchedText())
        return super().get_search_results(request, queryset, search_term)

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = type(
            "RegistrantAdminForm", (self.form,), {"actor": services.Actor(user=request.user)}
        )
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["event", "first_name", "last_name", "email"]
        return ["first_name", "last_name", "email", *self.readonly_fields]

    def save_form(self, request, form, change):
        return form.instance  # written by the service during validation

    def save_model(self, request, obj, form, change):
        pass

    def save_related(self, request, form, formsets, change):
        pass  # no many-to-many fields or inlines; the service saved everything

    def delete_model(self, request, obj):
        services.registrant_delete(registrant_id=obj.pk, actor=services.Actor(user=request.user))

    def delete_queryset(self, request, queryset):
        for registrant in queryset:
            self.delete_model(request, registrant)

    @scoped_action(
        description="Send the selected registrants the welcome message (their link)",
        permission="change",
    )
    def send_welcome(self, request, queryset):
        with transaction.atomic():
            made = [notices.welcome(registrant) for registrant in queryset.select_related("event")]
        sent = sum(1 for message in made if message is not None)
        skipped = len(made) - sent
        self.message_user(
            request,
            f"{sent} welcome message(s) written: the worker sends them (or they wait in the "
            "outbox where the event holds messages)."
            + (f" {skipped} registrant(s) stopped the messages." if skipped else ""),
            messages.SUCCESS,
        )

    @scoped_action(
        description="Reset the page link of the selected registrants", permission="change"
    )
    def reset_page_links(self, request, queryset):
        count = 0
        for registrant in queryset:
            services.registrant_reset_link(registrant_id=registrant.pk)
            count += 1
        self.message_user(
            request,
            f"{count} new link(s); the old ones no longer open the page.",
            messages.SUCCESS,
        )

    @admin.display(description="name", ordering="last_name")
    def full_name_display(self, obj):
        return obj.full_name

    @admin.display(description="sessions")
    def seats_display(self, obj):
        states = [s.state for s in obj.selections.all()]
        seats = states.count(SelectionState.SELECTED)
        waiting = states.count(SelectionState.WAITLISTED)
        return f"{seats} seat(s)" + (f", {waiting} waiting" if waiting else "")

    @admin.display(description="registered", ordering="created_at")
    def registered_display(self, obj):
        return local_moment(obj.created_at, obj.event.timezone)

    @admin.display(description="own page")
    def page_link(self, obj):
        url = obj.selection_url()
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, url)

    @admin.display(description="seats and waitlist places")
    def selections_display(self, obj):
        rows = selectors.with_waitlist_position(
            Selection.objects.filter(registrant=obj).select_related("session")
        ).order_by("session__starts_at", "session_id")
        if not rows:
            return "None yet."
        return format_html_join(
            "",
            '<div><a href="{}">{}</a>: {}</div>',
            (
                (
                    reverse("admin:sessions_app_session_attendees", args=[s.session_id]),
                    s.session.name,
                    "seat"
                    if s.state == SelectionState.SELECTED
                    else f"waitlist, number {s.waitlist_position}",
                )
                for s in rows
            ),
        )

    # --- CSV import ---------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("import/", view(self.import_view), name="sessions_app_registrant_import"),
            path(
                "import/<int:job_id>/",
                view(self.import_view),
                name="sessions_app_registrant_import_job",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            "import_url": reverse("admin:sessions_app_registrant_import"),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context)

    def import_view(self, request, job_id=None):
        return import_page(
            self,
            request,
            kind=ImportKind.REGISTRANTS,
            form_class=ImportForm,
            title="Import registrants from CSV",
            job_id=job_id,
        )


# --- a session's attendees --------------------------------------------------------------------


class AddAttendeeForm(forms.Form):
    email = forms.EmailField(help_text="A registrant of the session's event.")
    waitlist = forms.BooleanField(required=False, label="Waitlist when full")
    override_capacity = forms.BooleanField(required=False, label="Seat even when full")


def session_attendees_view(model_admin, request, object_id):
    """Seats and waitlist of one session; staff add and remove through the service."""
    session = model_admin.get_object(request, object_id)
    if session is None:
        raise Http404("No such session.")
    organisation_id = session.event.organisation_id
    # Who holds a seat is registrants' personal data: not for roles that may not see them.
    if not model_admin.has_view_permission(request, session) or not may_see_registrants(
        request, organisation_id
    ):
        raise PermissionDenied
    may_edit = may(request, "sessions_app.change_selection", organisation_id)
    actor = services.Actor(user=request.user)
    url = reverse("admin:sessions_app_session_attendees", args=[session.pk])
    form = AddAttendeeForm()
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied
        if "remove" in request.POST:
            _remove(request, session, actor)
            return HttpResponseRedirect(url)
        form = AddAttendeeForm(request.POST)
        if form.is_valid() and _add(request, session, actor, form):
            return HttpResponseRedirect(url)
    selections = list(
        selectors.with_waitlist_position(Selection.objects.filter(session=session))
        .select_related("registrant")
        .order_by("state", "saved_at", "id")
    )
    session = Session.objects.select_related("event").get(pk=session.pk)  # fresh counters
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "original": session,
        "title": f"Attendees: {session.name}",
        "seated": [s for s in selections if s.state == SelectionState.SELECTED],
        "waiting": [s for s in selections if s.state == SelectionState.WAITLISTED],
        # Before publication: who said it interests them, in the order they said so (the
        # order their seats go in when it is published).
        "interested": [s for s in selections if s.state == SelectionState.INTERESTED],
        "form": form,
        "may_edit": may_edit,
    }
    return TemplateResponse(request, "admin/sessions_app/session/attendees.html", context)


def _add(request, session: Session, actor: services.Actor, form: AddAttendeeForm) -> bool:
    registrant = Registrant.objects.filter(
        event_id=session.event_id, email__iexact=form.cleaned_data["email"]
    ).first()
    if registrant is None:
        form.add_error("email", "This event has no registrant with this email.")
        return False
    try:
        result = services.selection_add(
            registrant_id=registrant.pk,
            session_id=session.pk,
            actor=actor,
            waitlist=form.cleaned_data["waitlist"],
            override_capacity=form.cleaned_data["override_capacity"],
        )
    except ValidationError as exc:
        form.add_error(None, validation_sentences(exc).removeprefix("session_id: "))
        return False
    state = result.selection.state
    messages.success(
        request,
        f"{registrant.full_name} "
        + ("already had this session." if not result.created else f"is {state}."),
    )
    return True


def _remove(request, session: Session, actor: services.Actor) -> None:
    registrant_id = ascii_int(request.POST.get("remove")) or 0
    try:
        services.selection_remove(
            registrant_id=registrant_id,
            session_id=session.pk,
            actor=actor,
            override_lock=request.POST.get("override_lock") == "1",
        )
    except ValidationError as exc:
        messages.error(request, validation_sentences(exc).removeprefix("session_id: "))
    except (Selection.DoesNotExist, Registrant.DoesNotExist):
        messages.error(request, "That registrant has no seat or place in this session.")
    else:
        messages.success(request, "Removed; a freed seat went to the first on the waitlist.")
