"""The two staff roles as Django groups with their model permissions.

Which organisations a member may act in comes from ``Membership``; these groups say what
the role may do there.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ORGANISER_PERMS = [
    f"{action}_{model}"
    for model in ("session", "event", "track", "location", "customfield", "customfieldchoice")
    for action in ("add", "change", "delete", "view")
] + ["view_sessionchange"]
REVIEWER_PERMS = [
    "review_session",
    "view_session",
    "view_event",
    "view_track",
    "view_location",
    "view_customfield",
    "view_customfieldchoice",
    "view_sessionchange",
]
GROUPS = {"Organisers": ORGANISER_PERMS, "Reviewers": REVIEWER_PERMS}


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations; make sure they exist now.
    app_config = apps.get_app_config("sessions_app")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None

    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        group, _ = group_model.objects.get_or_create(name=name)
        perms = permission_model.objects.filter(
            content_type__app_label="sessions_app", codename__in=codenames
        )
        missing = set(codenames) - set(perms.values_list("codename", flat=True))
        if missing:
            raise RuntimeError(f"Missing permissions for {name}: {sorted(missing)}")
        group.permissions.set(perms)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("sessions_app", "0003_session_review_permission"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
