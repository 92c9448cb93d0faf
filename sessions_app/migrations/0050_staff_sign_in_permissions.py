"""Organisers say how their organisation's staff sign in (a second factor required, single
sign-on, passwords off); reviewers see none of it."""

from django.db import migrations

from sessions_app.migrations._grants import grants_operation

GRANTS = {
    "Organisers": [
        "view_staffsignin",
        "add_staffsignin",
        "change_staffsignin",
        "delete_staffsignin",
    ]
}


class Migration(migrations.Migration):
    dependencies = [("sessions_app", "0049_staff_sign_in")]

    operations = [grants_operation(GRANTS)]
