"""Organisers manage their events' speakers; reviewers see them."""

from django.db import migrations

from sessions_app.migrations._grants import grants_operation

GRANTS = {
    "Organisers": [f"{action}_speaker" for action in ("add", "change", "delete", "view")],
    "Reviewers": ["view_speaker"],
}


class Migration(migrations.Migration):
    dependencies = [("sessions_app", "0016_speakers")]

    operations = [grants_operation(GRANTS)]
