"""Organisers manage registrants and their seats; reviewers do not see them (personal data)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ORGANISER_PERMS = [
    f"{action}_{model}"
    for model in ("registrant", "selection")
    for action in ("add", "change", "delete", "view")
]


def grant(apps, schema_editor):
    app_config = apps.get_app_config("sessions_app")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    group = apps.get_model("auth", "Group").objects.filter(name="Organisers").first()
    if group is None:
        return
    perms = apps.get_model("auth", "Permission").objects.filter(
        content_type__app_label="sessions_app", codename__in=ORGANISER_PERMS
    )
    group.permissions.add(*perms)


def revoke(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.filter(name="Organisers").first()
    if group is not None:
        perms = apps.get_model("auth", "Permission").objects.filter(
            content_type__app_label="sessions_app", codename__in=ORGANISER_PERMS
        )
        group.permissions.remove(*perms)


class Migration(migrations.Migration):
    dependencies = [("sessions_app", "0010_registrants_and_selections")]

    operations = [migrations.RunPython(grant, revoke)]
