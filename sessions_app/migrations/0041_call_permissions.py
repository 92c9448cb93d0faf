"""Organisers set up their events' calls for proposals; reviewers see them. Speakers'
photos are kept for their speaker page: organisers see whether there is one."""

from django.db import migrations

from sessions_app.migrations._grants import grants_operation

GRANTS = {
    "Organisers": [
        f"{action}_{model}"
        for model in ("callforproposals",)
        for action in ("add", "change", "delete", "view")
    ],
    "Reviewers": ["view_callforproposals"],
}


class Migration(migrations.Migration):
    dependencies = [("sessions_app", "0040_call_for_proposals")]

    operations = [grants_operation(GRANTS)]
