"""Organisers enter rooms' opening hours; reviewers see them."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "Organisers": [
        f"{action}_{model}"
        for model in ("locationopening",)
        for action in ("add", "change", "delete", "view")
    ],
    "Reviewers": ["view_locationopening"],
}


def _apply(apps, add: bool):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GRANTS.items():
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
    _apply(apps, add=True)


def revoke(apps, schema_editor):
    _apply(apps, add=False)


class Migration(migrations.Migration):
    dependencies = [("sessions_app", "0033_location_openings")]

    operations = [migrations.RunPython(grant, revoke)]
