"""Tabular inlines whose inputs have accessible names.

Django's tabular inline puts the field labels in the table head only; a screen reader that
lands on a cell's input hears no name (axe-core: "form elements must have labels"). Each
input here gets an ``aria-label`` from its field and row: "Label, row 2", "Delete, row 2".
"""

from __future__ import annotations

from django.contrib import admin
from django.forms.formsets import DELETION_FIELD_NAME
from django.forms.models import BaseInlineFormSet


class LabelledInlineFormSet(BaseInlineFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        row = "new row" if index is None else f"row {index + 1}"
        for name, field in form.fields.items():
            label = "Delete" if name == DELETION_FIELD_NAME else str(field.label or name)
            field.widget.attrs.setdefault("aria-label", f"{label}, {row}")


class TabularInline(admin.TabularInline):
    formset = LabelledInlineFormSet
