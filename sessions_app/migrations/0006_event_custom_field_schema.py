from django.db import migrations, models


def build_schemas(apps, schema_editor):
    # Event.build_custom_field_schema(), restated: historical models have no methods.
    event_model = apps.get_model("sessions_app", "Event")
    field_model = apps.get_model("sessions_app", "CustomField")
    for event in event_model.objects.all():
        definitions = {}
        rows = (
            field_model.objects.filter(event_id=event.pk)
            .order_by("sort_order", "id", "choices__sort_order", "choices__id")
            .values_list("id", "field_type", "required", "label", "choices__id")
        )
        for field_id, field_type, required, label, choice_id in rows:
            definition = definitions.setdefault(
                f"c_{field_id}",
                {"type": field_type, "required": required, "label": label, "choice_ids": []},
            )
            if choice_id is not None:
                definition["choice_ids"].append(choice_id)
        event.custom_field_schema = definitions
        event.save(update_fields=["custom_field_schema"])


class Migration(migrations.Migration):
    dependencies = [("sessions_app", "0005_api_rate_counter")]

    operations = [
        migrations.AddField(
            model_name="event",
            name="custom_field_schema",
            field=models.JSONField(blank=True, default=dict, editable=False),
        ),
        migrations.RunPython(build_schemas, migrations.RunPython.noop),
    ]
