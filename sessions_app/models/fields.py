"""Validators shared by the models' fields."""

from django.core.validators import ProhibitNullCharactersValidator

no_nul = ProhibitNullCharactersValidator()
