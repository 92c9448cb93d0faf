"""Organisers answer a person's requests about their data: they see the organisation's
exports and erasures (the audit trail) and ask for new ones; reviewers do neither."""

from django.db import migrations

from sessions_app.migrations._grants import grants_operation

GRANTS = {"Organisers": ["view_privacyrequest", "add_privacyrequest"]}


class Migration(migrations.Migration):
    dependencies = [("sessions_app", "0046_privacy_requests")]

    operations = [grants_operation(GRANTS)]
