"""An event's custom fields as form fields, for every door that shows a form (the admin's
session form, the call for proposals): typed fields in, the stored (wire) shape out."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.html import escape

from sessions_app.enums import CustomFieldType
from sessions_app.models import CustomField

CUSTOM_PREFIX = "cf_"


def custom_form_name(field: CustomField) -> str:
    return f"{CUSTOM_PREFIX}{field.pk}"


def custom_formfield(field: CustomField) -> forms.Field:
    """A real form field for one custom field definition."""
    # The admin's templates mark help texts safe (they are meant to be the developers' HTML):
    # this one is an organiser's words, shown to everyone who opens a session.
    common = {
        "label": field.label,
        "help_text": escape(field.help_text),
        "required": field.required,
    }
    kind = field.field_type
    if kind == CustomFieldType.TEXTAREA:
        return forms.CharField(
            max_length=20_000, widget=forms.Textarea(attrs={"rows": 3}), **common
        )
    if kind == CustomFieldType.NUMBER:
        return forms.FloatField(widget=forms.NumberInput(attrs={"step": "any"}), **common)
    if kind == CustomFieldType.DATE:
        return forms.DateField(
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **common
        )
    if kind == CustomFieldType.URL:
        return forms.URLField(max_length=255, assume_scheme="https", **common)
    if kind == CustomFieldType.CHECKBOX:
        # Unticked is a value (0), so a checkbox is never "missing".
        return forms.BooleanField(**{**common, "required": False})
    choices = [(choice.pk, choice.label) for choice in field.choices.all()]
    if kind == CustomFieldType.DROPDOWN:
        return forms.TypedChoiceField(
            choices=[("", "---------"), *choices], coerce=int, empty_value=None, **common
        )
    if kind == CustomFieldType.MULTISELECT:
        return forms.TypedMultipleChoiceField(
            choices=choices, coerce=int, widget=forms.CheckboxSelectMultiple, **common
        )
    return forms.CharField(max_length=255, **common)


def custom_initial(field: CustomField, stored: Any) -> Any:
    """The stored (wire) value as the form field's initial value."""
    if stored is None:
        return None
    kind = field.field_type
    if kind == CustomFieldType.CHECKBOX:
        return bool(stored)
    if kind == CustomFieldType.DATE:
        # As a date, so that an untouched field does not count as changed.
        try:
            return dt.date.fromisoformat(stored)
        except (TypeError, ValueError):
            return stored
    if kind == CustomFieldType.DROPDOWN:
        return stored[0]["id"] if stored else None
    if kind == CustomFieldType.MULTISELECT:
        return [item["id"] for item in stored]
    return stored


def custom_wire_value(field: CustomField, cleaned: Any) -> Any:
    """The form's cleaned value in the stored shape; None clears the key."""
    kind = field.field_type
    if kind == CustomFieldType.CHECKBOX:
        return 1 if cleaned else 0
    if cleaned in (None, "", []):
        return None
    if kind == CustomFieldType.NUMBER:
        return int(cleaned) if float(cleaned).is_integer() else cleaned
    if kind == CustomFieldType.DATE:
        return cleaned.isoformat()
    if kind == CustomFieldType.DROPDOWN:
        return [{"id": cleaned}]
    if kind == CustomFieldType.MULTISELECT:
        return [{"id": choice_id} for choice_id in cleaned]
    return cleaned
