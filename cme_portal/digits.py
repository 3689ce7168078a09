"""One normalisation for every number a person types (ID, mobile, project and activity numbers, credits).

Phones and Chinese input methods produce full-width digits (１３８…), and copied text can carry
other scripts' digits (Arabic-Indic ١٣٨, Devanagari …). Every number field turns them into ASCII
before validating, so a number is accepted or refused once, at the form, and matched the same way
everywhere (the door, registration, login, the catalogue).
"""

import unicodedata

from django import forms

# Full-width letters, brackets and spaces (ＡＢＣ（）　) fold to their ASCII forms under NFKC.
_FOLD = str.maketrans({"\u3000": " "})


def ascii_digits(value):
    """``value`` with every Unicode decimal digit as its ASCII digit and full-width forms folded (NFKC).

    Not a validator: anything that is not a digit is kept (the field's own check refuses it).
    """
    if not value:
        return value
    value = unicodedata.normalize("NFKC", str(value)).translate(_FOLD)
    if value.isascii():
        return value
    return "".join(str(unicodedata.decimal(ch)) if unicodedata.category(ch) == "Nd" else ch for ch in value)


class DigitsMixin:
    """A form field mixin: the typed value's digits become ASCII before the field validates it."""

    def to_python(self, value):
        if isinstance(value, str):
            value = ascii_digits(value)
        return super().to_python(value)


class DigitsCharField(DigitsMixin, forms.CharField):
    pass


class DigitsIntegerField(DigitsMixin, forms.IntegerField):
    pass


class DigitsDecimalField(DigitsMixin, forms.DecimalField):
    pass


class DigitsDateField(DigitsMixin, forms.DateField):
    pass
