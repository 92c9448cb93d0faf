"""Validators shared by the models' fields."""

import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.utils.deconstruct import deconstructible

no_nul = ProhibitNullCharactersValidator()


@deconstructible
class OneLineValidator:
    """A name or a subject is one line: no control character (a line break in a name put
    into an email header stops every message to that person), no line or paragraph
    separator. Tabs too: they are control characters that nobody types into a name."""

    message = "Use one line of text: line breaks and other control characters are not allowed."
    code = "control_characters"

    def __call__(self, value) -> None:
        if isinstance(value, str) and any(
            unicodedata.category(char) in ("Cc", "Zl", "Zp") for char in value
        ):
            raise ValidationError(self.message, code=self.code)

    def __eq__(self, other) -> bool:
        return isinstance(other, OneLineValidator)


one_line = OneLineValidator()
