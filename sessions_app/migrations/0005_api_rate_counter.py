"""The API's shared rate counter, and the organisers' permission to manage API clients."""

from django.contrib.auth.management import create_permissions
from django.db import migrations, models

API_CLIENT_PERMS = [f"{action}_apiclient" for action in ("add", "change", "delete", "view")]


def grant_organisers(apps, schema_editor):
    # Permissions are normally created after all migrations; make sure they exist now.
    app_config = apps.get_app_config("sessions_app")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    group = apps.get_model("auth", "Group").objects.filter(name="Organisers").first()
    if group is not None:
        perms = apps.get_model("auth", "Permission").objects.filter(
            content_type__app_label="sessions_app", codename__in=API_CLIENT_PERMS
        )
        group.permissions.add(*perms)


def revoke_organisers(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.filter(name="Organisers").first()
    if group is not None:
        group.permissions.remove(
            *apps.get_model("auth", "Permission").objects.filter(
                content_type__app_label="sessions_app", codename__in=API_CLIENT_PERMS
            )
        )


class Migration(migrations.Migration):

    dependencies = [
        ('sessions_app', '0004_role_groups'),
    ]

    operations = [
        migrations.CreateModel(
            name='ApiRateCounter',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.CharField(max_length=100, unique=True)),
                ('window_start', models.BigIntegerField(help_text='Unix time the current window began.')),
                ('count', models.PositiveIntegerField(default=0)),
            ],
            options={
                'verbose_name': 'API rate counter',
            },
        ),
        migrations.RunPython(grant_organisers, revoke_organisers),
    ]
