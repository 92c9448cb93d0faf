"""The API's shared rate counter, and the organisers' permission to manage API clients."""

from django.db import migrations, models

from sessions_app.migrations._grants import grants_operation

API_CLIENT_PERMS = [f"{action}_apiclient" for action in ("add", "change", "delete", "view")]


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
        grants_operation({'Organisers': API_CLIENT_PERMS}),
    ]
