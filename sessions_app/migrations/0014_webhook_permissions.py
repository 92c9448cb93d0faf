"""Organisers manage their organisation's webhook subscriptions and read the delivery log;
reviewers do not (a subscription sends the organisation's data elsewhere)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ORGANISER_PERMS = [
    *(f"{action}_webhooksubscription" for action in ("add", "change", "delete", "view")),
    "view_webhookdelivery",
    "change_webhookdelivery",  # the "send again" action
]


def _perms(apps):
    return apps.get_model("auth", "Permission").objects.filter(
        content_type__app_label="sessions_app", codename__in=ORGANISER_PERMS
    )


def grant(apps, schema_editor):
    app_config = apps.get_app_config("sessions_app")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    group = apps.get_model("auth", "Group").objects.filter(name="Organisers").first()
    if group is not None:
        group.permissions.add(*_perms(apps))


def revoke(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.filter(name="Organisers").first()
    if group is not None:
        group.permissions.remove(*_perms(apps))


class Migration(migrations.Migration):
    dependencies = [("sessions_app", "0013_webhooks")]

    operations = [migrations.RunPython(grant, revoke)]
