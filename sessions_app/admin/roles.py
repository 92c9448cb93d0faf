"""What a staff user may do in one organisation: the permissions of the role they hold there.

A user's Django permissions come from the role groups (``ROLE_GROUPS``); a membership says
in which organisation each role is held. A user who is organiser of one organisation and
reviewer of another is in both groups, so ``user.has_perm`` alone would lend the organiser's
permissions to the other organisation. ``RoleBackend`` reads the group permissions with
their group's name in the same one query Django's backend makes, so the permissions of each
role are known without another query, and ``scoping.may`` asks for the permission of the
role held in the row's organisation.
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission

_BY_GROUP = "_sessions_perms_by_group"


class RoleBackend(ModelBackend):
    """Django's ``ModelBackend``, with the group permissions kept per group as well."""

    def get_group_permissions(self, user_obj, obj=None):
        if (
            user_obj.is_superuser
            or not user_obj.is_active
            or user_obj.is_anonymous
            or obj is not None
        ):
            return super().get_group_permissions(user_obj, obj)
        if not hasattr(user_obj, _BY_GROUP):  # (Django's async path fills only the union)
            by_group: dict[str, set[str]] = {}
            rows = (
                Permission.objects.filter(group__user=user_obj)
                .values_list("group__name", "content_type__app_label", "codename")
                .order_by()
            )
            for group, app_label, codename in rows:
                by_group.setdefault(group, set()).add(f"{app_label}.{codename}")
            setattr(user_obj, _BY_GROUP, by_group)
            user_obj._group_perm_cache = set().union(*by_group.values())
        return user_obj._group_perm_cache


def permissions_by_group(user) -> dict[str, set[str]]:
    """``{group name: {"app.codename", ...}}`` of the user's groups (no query after the
    first permission check of the request)."""
    if not hasattr(user, _BY_GROUP):
        user.get_group_permissions()  # fills the cache through RoleBackend
    return getattr(user, _BY_GROUP, {})
