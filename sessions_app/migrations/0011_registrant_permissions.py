"""Organisers manage registrants and their seats; reviewers do not see them (personal data)."""

from django.db import migrations

from sessions_app.migrations._grants import grants_operation

ORGANISER_PERMS = [
    f"{action}_{model}"
    for model in ("registrant", "selection")
    for action in ("add", "change", "delete", "view")
]


class Migration(migrations.Migration):
    dependencies = [("sessions_app", "0010_registrants_and_selections")]

    operations = [grants_operation({"Organisers": ORGANISER_PERMS})]
