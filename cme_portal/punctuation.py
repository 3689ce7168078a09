"""Chinese punctuation, translatable (issue 13): in English mode "刘洋（3301…）" reads "Liu Yang (3301…)".

Full-width brackets, colons and list marks written around values belong to the language of the page, not
to the values: they go through ``pgettext("punctuation", …)`` so the English catalogue can give ASCII ones.
"""

from django.utils.translation import gettext, pgettext, pgettext_lazy

# Written out so that makemessages keeps them in the catalogue.
MARKS = {
    "：": pgettext_lazy("punctuation", "："),
    "；": pgettext_lazy("punctuation", "；"),
    "、": pgettext_lazy("punctuation", "、"),
    "，": pgettext_lazy("punctuation", "，"),
    "。": pgettext_lazy("punctuation", "。"),
    "（": pgettext_lazy("punctuation", "（"),
    "）": pgettext_lazy("punctuation", "）"),
}


def mark(char):
    """The punctuation mark ``char`` (one of MARKS) in the active language."""
    return pgettext("punctuation", char)


def join(items, char="、"):
    """``items`` joined by the list mark ``char`` in the active language."""
    return mark(char).join(str(item) for item in items)


def with_note(text, note):
    """``text（note）`` in the active language: a value with a remark in brackets after it."""
    return gettext("%(text)s（%(note)s）") % {"text": text, "note": note}
