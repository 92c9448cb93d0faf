"""Organisers block slots and enter speakers' availability; reviewers see them."""

from django.db import migrations

from sessions_app.migrations._grants import grants_operation

GRANTS = {
    "Organisers": [
        f"{action}_{model}"
        for model in ("blockedslot", "speakeravailability")
        for action in ("add", "change", "delete", "view")
    ],
    "Reviewers": ["view_blockedslot", "view_speakeravailability"],
}


class Migration(migrations.Migration):
    dependencies = [("sessions_app", "0030_planning")]

    operations = [grants_operation(GRANTS)]
