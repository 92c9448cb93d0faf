"""Organisers define an event's session types; reviewers see them."""

from django.db import migrations

from sessions_app.migrations._grants import grants_operation

GRANTS = {
    "Organisers": [
        f"{action}_{model}"
        for model in ("sessiontype",)
        for action in ("add", "change", "delete", "view")
    ],
    "Reviewers": ["view_sessiontype"],
}


class Migration(migrations.Migration):
    dependencies = [("sessions_app", "0038_session_types_and_lengths")]

    operations = [grants_operation(GRANTS)]
