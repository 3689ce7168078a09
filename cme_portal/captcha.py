"""The portal's captcha: django-simple-captcha's picture, with a text question for those who cannot see it.

WCAG 2.2 (1.1.1) asks a captcha for an alternative that does not need sight. The audio challenge needs flite on
the server; instead a person may switch to a sum of two small numbers written as text (看不清？换成文字题), which
a screen reader reads out. The switch and "换一张" fetch a new challenge without reloading the page; a form sent
back with errors keeps the mode the person chose. A bot can read the text question as well as a person: the
captcha is a brake on repeated tries, and the rate limits behind it (login, SMS, public queries) stay the wall.
"""

import json
import secrets

from captcha import fields
from captcha.models import CaptchaStore
from django.forms.renderers import get_default_renderer
from django.http import Http404, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

TEXT = "text"


def sum_challenge():
    """A text challenge for django-simple-captcha: ("3+4", "7")."""
    a, b = secrets.randbelow(9) + 1, secrets.randbelow(9) + 1
    return f"{a}+{b}", str(a + b)


def question(challenge):
    a, _plus, b = challenge.partition("+")
    return _("%(a)s 加 %(b)s 等于多少？（请填数字）") % {"a": a, "b": b}


class CaptchaInput(fields.CaptchaTextInput):
    """Picture or text question, the answer box, and the two buttons (换一张, 换成文字题) shown when scripts run."""

    # Django groups a multi-widget in a fieldset; here there is one box to type in, labelled by <label for>.
    use_fieldset = False

    def value_from_datadict(self, data, files, name):
        return [*super().value_from_datadict(data, files, name), data.get(f"{name}_mode", "")]

    def render(self, name, value, attrs=None, renderer=None):
        text = isinstance(value, (list, tuple)) and len(value) > 2 and value[2] == TEXT
        self.fetch_captcha_store(name, value, attrs, sum_challenge if text else self.generator)
        context = self.get_context(name, self._value, attrs)
        hidden, answer = context["widget"]["subwidgets"]
        question_id = f"{answer['attrs'].get('id', name)}_question"
        described = [part for part in answer["attrs"].get("aria-describedby", "").split() if part]
        if text:  # the help text speaks of the picture; the question is what to answer
            described = [part for part in described if not part.endswith("_helptext")] + [question_id]
        answer["attrs"]["aria-describedby"] = " ".join(described)
        if not described:
            del answer["attrs"]["aria-describedby"]
        answer["attrs"]["inputmode"] = "numeric" if text else "text"
        renderer = renderer or get_default_renderer()
        return render_to_string(
            "includes/captcha.html",
            {
                "hidden": mark_safe(renderer.render(hidden["template_name"], {"widget": hidden})),  # noqa: S308
                "answer": mark_safe(renderer.render(answer["template_name"], {"widget": answer})),  # noqa: S308
                "name": name,
                "text": text,
                "question": question(CaptchaStore.objects.get(hashkey=self._key).challenge) if text else "",
                "question_id": question_id,
                "image": self.image_url(),
                "refresh_url": self.refresh_url(),
                "text_url": reverse("captcha_text"),
            },
        )


class CaptchaField(fields.CaptchaField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", CaptchaInput())
        super().__init__(*args, **kwargs)


def text_challenge(request):
    """A new text question for the captcha (the page's script asks for it, as django-simple-captcha's refresh)."""
    if request.headers.get("x-requested-with") != "XMLHttpRequest":
        raise Http404
    key = CaptchaStore.generate_key(sum_challenge)
    body = {"key": key, "question": question(CaptchaStore.objects.get(hashkey=key).challenge)}
    return HttpResponse(json.dumps(body, ensure_ascii=False), content_type="application/json")
