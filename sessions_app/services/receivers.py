"""Keep ``Event.custom_field_schema`` in step with the custom field rows it is built from."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from sessions_app import services
from sessions_app.models import CustomField, CustomFieldChoice


@receiver([post_save, post_delete], sender=CustomField)
def custom_field_changed(sender, instance: CustomField, **kwargs) -> None:
    services.event_refresh_custom_field_schema(event_id=instance.event_id)


@receiver([post_save, post_delete], sender=CustomFieldChoice)
def custom_field_choice_changed(sender, instance: CustomFieldChoice, **kwargs) -> None:
    event_id = (
        CustomField.objects.filter(pk=instance.field_id).values_list("event_id", flat=True).first()
    )
    if event_id is not None:  # None: the field itself is being deleted and will refresh
        services.event_refresh_custom_field_schema(event_id=event_id)
