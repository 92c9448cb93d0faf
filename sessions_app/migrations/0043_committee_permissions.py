"""Organisers set up an event's reviews (settings, criteria, committee) and see every
review; reviewers give theirs (the views check whose) and see the settings."""

from django.db import migrations

from sessions_app.migrations._grants import grants_operation

GRANTS = {
    "Organisers": [
        f"{action}_{model}"
        for model in ("reviewsettings", "reviewcriterion", "reviewer")
        for action in ("add", "change", "delete", "view")
    ]
    + ["view_review", "view_reviewassignment", "change_reviewassignment", "view_comparison"],
    "Reviewers": [
        "view_reviewsettings",
        "view_reviewcriterion",
        "view_reviewer",
        "view_review",
        "add_review",
        "change_review",
        "view_reviewassignment",
        "view_comparison",
        "add_comparison",
    ],
}


class Migration(migrations.Migration):
    dependencies = [("sessions_app", "0042_programme_committee")]

    operations = [grants_operation(GRANTS)]
