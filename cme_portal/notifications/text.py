"""A notification told in the reader's language (issue 13).

The inbox row keeps the message's Chinese msgid and its parameters, not only the text it had when it was
written: the inbox renders it in the language of the person reading. A parameter is either content (a name,
a reason: shown as typed) or a lazy/callable value that depends on the language (a model's name, a
transition's label, a name with brackets), kept once per language of the portal.
"""

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext


class Text:
    """``Text(gettext_noop("…%(name)s…"), name=..., kind=lazy_or_callable)``: see the module's docstring."""

    def __init__(self, msgid, **params):
        self.msgid = str(msgid)
        self.params = params

    def stored_params(self):
        stored = {}
        for key, value in self.params.items():
            if isinstance(value, Promise) or callable(value):
                stored[key] = {}
                for code, _name in settings.LANGUAGES:
                    with translation.override(code):
                        stored[key][code] = str(value() if callable(value) else value)
            else:
                stored[key] = "" if value is None else str(value)
        return stored

    def __str__(self):
        return render(self.msgid, self.stored_params())


def render(msgid, params, language=None):
    """``msgid`` with ``params`` (as stored) in ``language`` (the active one when None)."""
    with translation.override(language or translation.get_language() or settings.LANGUAGE_CODE):
        code = translation.get_language()
        values = {}
        for key, value in (params or {}).items():
            if isinstance(value, dict):
                value = value.get(code) or value.get(settings.LANGUAGE_CODE) or next(iter(value.values()), "")
            values[key] = value
        return gettext(msgid) % values
