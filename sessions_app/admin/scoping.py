"""Which organisations a staff user may see and act in, and the admin mixins that enforce it.

Two layers, as in the API: the Django permission from the role's group says what kind of
thing the user may do; ``Membership`` says in which organisations. Both are asked together,
per organisation (``may``): a permission counts only where the role whose group gives it is
held. A superuser skips both. Rows the user may not see are filtered out of the queryset, so
their URLs answer exactly like a missing object. Every admin action is declared with
``scoped_action``, which runs it only on the selected rows of organisations where the user
may do it and says how many it left alone.
"""

from __future__ import annotations

import functools

from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext as _

from sessions_app.admin.roles import permissions_by_group
from sessions_app.enums import ROLE_GROUPS, MemberRole
from sessions_app.models import Event, Membership, Organisation

_CACHE_ATTR = "_sessions_org_roles"
_EVENTS_CACHE_ATTR = "_sessions_visible_event_counts"


def organisation_roles(request: HttpRequest) -> dict[int, set[str]]:
    """``{organisation_id: {role, ...}}`` for the request's user; one query per request."""
    cached = getattr(request, _CACHE_ATTR, None)
    if cached is None:
        cached = {}
        user = request.user
        if user.is_authenticated:
            rows = Membership.objects.filter(user_id=user.pk).values_list("organisation_id", "role")
            for organisation_id, role in rows:
                cached.setdefault(organisation_id, set()).add(role)
        setattr(request, _CACHE_ATTR, cached)
    return cached


def organisation_ids(request: HttpRequest, role: str | None = None) -> set[int]:
    """The organisations where the user holds ``role`` (any role when None)."""
    return {
        org_id
        for org_id, roles in organisation_roles(request).items()
        if role is None or role in roles
    }


def is_superuser(request: HttpRequest) -> bool:
    return bool(request.user.is_active and request.user.is_superuser)


def has_role(request: HttpRequest, role: str | None, organisation_id: int | None = None) -> bool:
    """Role in that organisation, or in any when ``organisation_id`` is None."""
    if is_superuser(request):
        return True
    ids = organisation_ids(request, role)
    return bool(ids) if organisation_id is None else organisation_id in ids


def organisations_with(request: HttpRequest, perm: str) -> set[int] | None:
    """The organisations where a role the user holds gives ``perm`` ("sessions_app.x_y");
    None for a superuser (every organisation)."""
    if is_superuser(request):
        return None
    user = request.user
    if not user.is_active or not user.has_perm(perm):
        return set()
    by_group = permissions_by_group(user)
    return {
        org_id
        for org_id, roles in organisation_roles(request).items()
        if any(perm in by_group.get(ROLE_GROUPS[MemberRole(role)], ()) for role in roles)
    }


def may(request: HttpRequest, perm: str, organisation_id: int | None = None) -> bool:
    """The one permission check of the staff UI: does a role the user holds in that
    organisation (in any, when None) give ``perm``? Every ModelAdmin, action and custom
    view asks this, never ``user.has_perm`` alone: a user who is organiser of one
    organisation and reviewer of another has the organiser's permissions only in the first.
    """
    allowed = organisations_with(request, perm)
    if allowed is None:
        return True
    return bool(allowed) if organisation_id is None else organisation_id in allowed


def require(request: HttpRequest, perm: str, organisation_id: int | None = None) -> None:
    """``may`` or PermissionDenied (403), for custom views."""
    if not may(request, perm, organisation_id):
        raise PermissionDenied


def may_review(request: HttpRequest, organisation_id: int | None = None) -> bool:
    return may(request, "sessions_app.review_session", organisation_id)


def may_see_registrants(request: HttpRequest, organisation_id: int | None = None) -> bool:
    """Registrants are personal data: only roles with ``view_registrant`` in that organisation
    read their names, addresses and page links, wherever they would be shown."""
    return may(request, "sessions_app.view_registrant", organisation_id)


def events_for(request: HttpRequest, role: str | None = None):
    events = Event.objects.all()
    if not is_superuser(request):
        events = events.filter(organisation_id__in=organisation_ids(request, role))
    return events


def visible_event_session_counts(request: HttpRequest) -> dict[int, int]:
    """``{event id: Event.session_count}`` of the events the user may see; one query per
    request, whichever of this and ``visible_event_ids`` asks first."""
    cached = getattr(request, _EVENTS_CACHE_ATTR, None)
    if cached is None:
        cached = dict(events_for(request).values_list("pk", "session_count"))
        setattr(request, _EVENTS_CACHE_ATTR, cached)
    return cached


def visible_event_ids(request: HttpRequest) -> list[int]:
    """The ids of the events of the user's organisations; one query per request."""
    return list(visible_event_session_counts(request))


class OrganisationScopedAdmin(admin.ModelAdmin):
    """A ModelAdmin whose rows belong to an organisation through ``organisation_path``.

    Viewing needs any membership of the row's organisation; adding, changing and deleting
    need the organiser role there. The model permissions come from the role groups.
    """

    organisation_path = "event__organisation"
    edit_role = MemberRole.ORGANISER

    # --- scoping ------------------------------------------------------------------------

    def organisation_id_of(self, obj) -> int:
        return obj.event.organisation_id

    def perm(self, action: str) -> str:
        """``"change"`` -> ``"sessions_app.change_session"`` for this admin's model."""
        return f"{self.opts.app_label}.{get_permission_codename(action, self.opts)}"

    def organisations_for(self, request: HttpRequest, action: str) -> set[int] | None:
        """Where the user may ``action`` this admin's rows; None: everywhere (superuser)."""
        return organisations_with(request, self.perm(action))

    def visible_organisations(self, request: HttpRequest) -> set[int] | None:
        viewing = self.organisations_for(request, "view")
        changing = self.organisations_for(request, "change")
        return None if viewing is None or changing is None else viewing | changing

    def scope(self, request: HttpRequest, qs):
        allowed = self.visible_organisations(request)
        if allowed is None:
            return qs
        return qs.filter(**{f"{self.organisation_path}__in": allowed})

    def scoped_queryset(self, request: HttpRequest):
        """The rows the user may see, without the list page's annotations."""
        return self.scope(request, self.model._default_manager.all())

    def get_queryset(self, request):
        return self.scope(request, super().get_queryset(request))

    # --- list columns -------------------------------------------------------------------

    def action_checkbox(self, obj):
        """The stock row checkbox, the same HTML written directly: rendering it through a
        widget template took a third of a list row's time."""
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            ACTION_CHECKBOX_NAME,
            obj.pk,
            format_html(_("Select this object for an action - {}"), str(obj)),
        )

    # --- malformed input ------------------------------------------------------------------
    # PostgreSQL text cannot hold NUL: a filter or search value with one would be a 500.

    def get_changelist_instance(self, request):
        if any("\0" in key + "".join(values) for key, values in request.GET.lists()):
            raise IncorrectLookupParameters("NUL character in the query string.")
        return super().get_changelist_instance(request)

    def get_search_results(self, request, queryset, search_term):
        if "\0" in search_term:  # the autocomplete endpoint does not validate its term
            return queryset.none(), False
        return super().get_search_results(request, queryset, search_term)

    # --- permissions --------------------------------------------------------------------
    # Django's own checks ask ``user.has_perm``, which knows no organisation; these ask
    # ``may`` for the organisation of the row (of any row, when there is none).

    def may(self, request, action: str, obj=None) -> bool:
        return may(
            request, self.perm(action), None if obj is None else self.organisation_id_of(obj)
        )

    def has_module_permission(self, request):
        return self.may(request, "view") or self.may(request, "change")

    def has_view_permission(self, request, obj=None):
        return self.may(request, "view", obj) or self.may(request, "change", obj)

    def has_add_permission(self, request):
        return self.may(request, "add") and has_role(request, self.edit_role)

    def has_change_permission(self, request, obj=None):
        return self.may(request, "change", obj)

    def has_delete_permission(self, request, obj=None):
        return self.may(request, "delete", obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if "delete_selected" in actions:  # the site-wide action knows no organisation
            _func, name, description = actions["delete_selected"]
            actions["delete_selected"] = (scoped_delete_selected, name, description)
        return actions

    # --- choices offered in forms ---------------------------------------------------------

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Event:
            kwargs["queryset"] = events_for(request, self.edit_role)
        elif db_field.related_model is Organisation:
            orgs = Organisation.objects.all()
            if not is_superuser(request):
                orgs = orgs.filter(pk__in=organisation_ids(request, self.edit_role))
            kwargs["queryset"] = orgs
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ScopedInlineMixin:
    """An inline's rows may be read and written only as the role held in the parent's
    organisation allows."""

    def _may(self, request, action: str, obj) -> bool:
        opts = self.opts
        perm = f"{opts.app_label}.{get_permission_codename(action, opts)}"
        organisation_id = None if obj is None else obj.event.organisation_id
        return may(request, perm, organisation_id)

    def has_view_permission(self, request, obj=None):
        return self._may(request, "view", obj) or self._may(request, "change", obj)

    def has_add_permission(self, request, obj=None):
        return self._may(request, "add", obj) and has_role(request, MemberRole.ORGANISER)

    def has_change_permission(self, request, obj=None):
        return self._may(request, "change", obj)

    def has_delete_permission(self, request, obj=None):
        return self._may(request, "delete", obj)


def scoped_action(*, description: str, permission: str):
    """An admin action that runs only on the selected rows of organisations where the user's
    role gives ``permission`` ("change", "review", ...; Django also hides the action from
    those who have it nowhere). Rows left out are counted in an error message. Every action
    of the staff UI is declared with this (a test holds every registered action to it)."""

    def decorate(func):
        @functools.wraps(func)
        def run(model_admin, request, queryset):
            allowed = model_admin.organisations_for(request, permission)
            if allowed is not None:
                path = f"{model_admin.organisation_path}__in"
                refused = queryset.exclude(**{path: allowed}).count()
                if refused:
                    model_admin.message_user(
                        request,
                        f"{refused} selected row(s) left alone: your role in their "
                        "organisation does not allow this.",
                        messages.ERROR,
                    )
                queryset = queryset.filter(**{path: allowed})
            if not queryset.exists():
                model_admin.message_user(
                    request, "Nothing to do: none of the selected rows can be.", messages.WARNING
                )
                return None
            return func(model_admin, request, queryset)

        run.scoped_permission = permission
        return admin.action(description=description, permissions=[permission])(run)

    return decorate


@scoped_action(description=delete_selected.short_description, permission="delete")
def scoped_delete_selected(model_admin, request, queryset):
    """Django's "Delete selected" (with its confirmation page), on the rows the user's role
    in their organisation may delete."""
    return delete_selected(model_admin, request, queryset)
