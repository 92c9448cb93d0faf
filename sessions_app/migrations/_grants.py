"""Grant role groups model permissions from a migration: ``grants_operation(GRANTS)``.

(Django's migration loader skips modules whose names start with "_", so this is a helper,
not a migration.) The migrations that use it keep their ``GRANTS`` for tests to read.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def grants_operation(grants: dict[str, list[str]]) -> migrations.RunPython:
    """A RunPython that adds ``{group name: [codename, ...]}`` (and removes it when unapplied);
    a group that does not exist is left alone."""

    def apply(apps, add: bool) -> None:
        Group = apps.get_model("auth", "Group")
        Permission = apps.get_model("auth", "Permission")
        for name, codenames in grants.items():
            group = Group.objects.filter(name=name).first()
            if group is None:
                continue
            perms = Permission.objects.filter(
                content_type__app_label="sessions_app", codename__in=codenames
            )
            (group.permissions.add if add else group.permissions.remove)(*perms)

    def grant(apps, schema_editor):
        app_config = apps.get_app_config("sessions_app")
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
        apply(apps, add=True)

    def revoke(apps, schema_editor):
        apply(apps, add=False)

    return migrations.RunPython(grant, revoke)
