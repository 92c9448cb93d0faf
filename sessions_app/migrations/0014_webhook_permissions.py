"""Organisers manage their organisation's webhook subscriptions and read the delivery log;
reviewers do not (a subscription sends the organisation's data elsewhere)."""

from django.db import migrations

from sessions_app.migrations._grants import grants_operation

ORGANISER_PERMS = [
    *(f"{action}_webhooksubscription" for action in ("add", "change", "delete", "view")),
    "view_webhookdelivery",
    "change_webhookdelivery",  # the "send again" action
]


class Migration(migrations.Migration):
    dependencies = [("sessions_app", "0013_webhooks")]

    operations = [grants_operation({"Organisers": ORGANISER_PERMS})]
