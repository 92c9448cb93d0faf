"""Organisers enter rooms' opening hours; reviewers see them."""

from django.db import migrations

from sessions_app.migrations._grants import grants_operation

GRANTS = {
    "Organisers": [
        f"{action}_{model}"
        for model in ("locationopening",)
        for action in ("add", "change", "delete", "view")
    ],
    "Reviewers": ["view_locationopening"],
}


class Migration(migrations.Migration):
    dependencies = [("sessions_app", "0033_location_openings")]

    operations = [grants_operation(GRANTS)]
