"""Organisers write the texts of messages and run the outbox; reviewers read it."""

from django.db import migrations

from sessions_app.migrations._grants import grants_operation

GRANTS = {
    "Organisers": [
        *(f"{action}_messagetemplate" for action in ("add", "change", "delete", "view")),
        "change_message",
        "view_message",
    ],
    "Reviewers": ["view_message", "view_messagetemplate"],
}


class Migration(migrations.Migration):
    dependencies = [("sessions_app", "0028_notices")]

    operations = [grants_operation(GRANTS)]
