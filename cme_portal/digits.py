"""One normalisation for every number a person types (ID, mobile, project and activity numbers, credits).

Phones and Chinese input methods produce full-width digits (１３８…), and copied text can carry
other scripts' digits (Arabic-Indic ١٣٨, Devanagari …). Every number field turns them into ASCII
before validating, so a number is accepted or refused once, at the form, and matched the same way
everywhere (the door, registration, login, the catalogue).
"""

import unicodedata

from django import forms


def ascii_digits(value):
    """``value`` with every Unicode decimal digit (full-width １, Arabic-Indic ١, Devanagari १ …) as its
    ASCII digit. Everything else is kept as typed (a project number keeps its full-width （国）);
    not a validator: the field's own check refuses what is not a number.
    """
    if not value:
        return value
    value = str(value)
    if value.isascii():
        return value
    return "".join(str(unicodedata.decimal(ch)) if unicodedata.category(ch) == "Nd" else ch for ch in value)


def ascii_code(value):
    """A document or mobile number: digits as ASCII, full-width letters and signs folded (Ｘ → X, ＋ → +)."""
    if not value:
        return value
    return ascii_digits(unicodedata.normalize("NFKC", str(value)))


class DigitsMixin:
    """A form field mixin: the typed value's digits become ASCII before the field validates it."""

    def to_python(self, value):
        if isinstance(value, str):
            value = ascii_digits(value)
        return super().to_python(value)


class DigitsFormMixin:
    """A form mixin: the fields named in ``digit_fields`` read their digits as ASCII before validating
    (for model forms, whose fields are made by Django)."""

    digit_fields = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.digit_fields:
            field = self.fields.get(name)
            if field is not None:
                field.to_python = _reading_digits(field.to_python)


def _reading_digits(to_python):
    def wrapped(value):
        return to_python(ascii_digits(value) if isinstance(value, str) else value)

    return wrapped


class DigitsCharField(DigitsMixin, forms.CharField):
    pass


class DigitsIntegerField(DigitsMixin, forms.IntegerField):
    pass


class DigitsDecimalField(DigitsMixin, forms.DecimalField):
    pass


class DigitsDateField(DigitsMixin, forms.DateField):
    pass
