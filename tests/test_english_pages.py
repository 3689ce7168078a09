"""Issue 13: English mode shows no Chinese the portal itself wrote.

Every page the URL×role test visits (tests/test_url_permissions.py) is rendered in English for every role. The
world's content (names of people, units, projects, reasons typed by people) is first made ASCII, so any CJK
character left on a page is a string the portal supplies without an English translation.
"""

import re

import pytest
from django.apps import apps
from django.conf import settings
from django.db import models

from cme_portal.notifications.services import SMS_PREFIX
from cme_portal.review.models import Notification
from credits.models import CreditEntry

from .test_url_permissions import ROLES, patterns, urls_for, world

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def literal_chinese():
    """Chinese that English pages quote on purpose, because it is what people must type or what files carry:
    the name of the language in the language switch, the national mark of project numbers, the column headers
    of the Chinese import files and their examples, the national societies' names, the titles of the early
    review policy (typed as on the Chinese forms)."""
    from credits import platforms
    from credits.rules import NATIONAL_SOCIETIES
    from projects import imports

    words = ["简体中文", "(国)", "副高", "正高", "华医网", "好医生", "2021年3月27日-3月28日", "国家级I类4分"]
    words += list(imports.COLUMNS.values()) + list(platforms.COLUMNS) + NATIONAL_SOCIETIES
    return sorted(words, key=len, reverse=True)


def asciify(text):
    """The same text with every CJK character replaced by one ASCII letter (same length, mostly unique)."""
    return CJK.sub(lambda m: chr(ord("a") + ord(m.group(0)) % 26), text)


def _asciify_json(value):
    if isinstance(value, str):
        return asciify(value)
    if isinstance(value, list):
        return [_asciify_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _asciify_json(v) for k, v in value.items()}
    return value


# Stored text the portal itself writes (not content): left as stored, so a page showing it untranslated fails.
PORTAL_TEXT = {
    ("review", "notification"): {"template", "message"},
}
# JSON fields that mix both: only these keys are content.
CONTENT_KEYS = {
    ("certificates", "certificate", "snapshot"): {"name", "unit", "project_name", "project_number", "venue", "issuer"},
}


def _is_portal_row(row):
    # The default survey's name and questions are the portal's (shown through the catalogue).
    return row._meta.label_lower == "attendance.surveytemplate" and row.is_default


def make_content_ascii():
    """Rewrite every stored text (char, text and JSON fields of every model) without CJK characters: what people
    typed is content, and in this test content carries no Chinese."""
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        fields = [
            f
            for f in model._meta.concrete_fields
            if isinstance(f, (models.CharField, models.TextField, models.JSONField)) and not f.primary_key
        ]
        if not fields:
            continue
        label = (model._meta.app_label, model._meta.model_name)
        fields = [f for f in fields if f.attname not in PORTAL_TEXT.get(label, ())]
        for row in model._default_manager.all():
            if _is_portal_row(row):
                continue
            changed = []
            for field in fields:
                value = getattr(row, field.attname)
                keys = CONTENT_KEYS.get((*label, field.attname))
                if keys is not None:
                    new = {k: (_asciify_json(v) if k in keys else v) for k, v in value.items()}
                elif isinstance(field, models.JSONField):
                    new = _asciify_json(value)
                else:
                    new = asciify(value) if value else value
                if new != value:
                    setattr(row, field.attname, new)
                    changed.append(field.attname)
            if changed:
                model._default_manager.filter(pk=row.pk).update(**{name: getattr(row, name) for name in changed})


def without_literals(text):
    for word in literal_chinese():
        text = text.replace(word, "")
    return text


def chinese_left(html):
    text = re.sub(r"<script.*?</script>", "", html, flags=re.S)
    for word in literal_chinese():
        text = text.replace(word, "")
    return sorted(
        {m.group(0) for m in re.finditer(r"[^<>\n]{0,30}?[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+[^<>\n]{0,20}", text)}
    )


@pytest.mark.parametrize("who", ROLES + ["anonymous"])
def test_every_page_is_english_in_english_mode(client, cast, tree, who):
    from attendance.services import default_survey

    world_ = world(cast, tree)
    default_survey()  # the portal's own survey, before the content is made ASCII (it is not content)
    make_content_ascii()
    if who in ("learner", "unit_admin", "province_admin"):  # their inboxes hold the world's notifications
        assert Notification.objects.filter(user=cast[who]).exclude(template="").exists()
    client.raise_request_exception = False
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    if who != "anonymous":
        client.force_login(cast[who])
    misses = {}
    pages = 0
    for name, route, pattern in patterns():
        if name in ("accounts:logout",):
            continue
        for url in urls_for(name, route, pattern, world_["inside"]):
            response = client.get(url)
            if response.status_code >= 500 or "text/html" not in response.get("Content-Type", ""):
                continue
            pages += 1
            left = chinese_left(response.content.decode())
            if left:
                misses[f"{name} {url}"] = left
    print(f"\n{who}: {pages} pages in English")
    assert pages
    assert not misses, "\n".join(f"{page}: {left}" for page, left in misses.items())


def test_the_english_catalogue_has_no_chinese_brackets_or_punctuation():
    """An English msgstr uses ASCII brackets and punctuation: "（", "【", "：" around English words read as misprints.
    Chinese is allowed only where it is quoted on purpose (literal_chinese)."""
    path = settings.BASE_DIR / "locale" / "en" / "LC_MESSAGES" / "django.po"
    wrong = []
    for msgid, msgstr in po_entries(path.read_text(encoding="utf-8")):
        text = msgstr
        for word in literal_chinese():
            text = text.replace(word, "")
        if FULL_WIDTH.search(text):
            wrong.append(f"{msgid!r} → {msgstr!r}")
    assert not wrong, "\n".join(wrong)


# Full-width brackets and Chinese punctuation (（）【】「」：；，。、！？).
FULL_WIDTH = re.compile(r"[（）【】「」《》：；，。、！？]")


def po_entries(text):
    """(msgid, msgstr) of every live entry of a .po file (obsolete #~ entries left out); plurals joined."""
    for block in text.split("\n\n"):
        parts, current = {}, None
        for line in block.splitlines():
            match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d\])?) "(.*)"$', line)
            if match:
                current = match.group(1)
                parts[current] = match.group(2)
            elif line.startswith('"') and current:
                parts[current] += line[1:-1]
            elif not line.startswith("#"):
                current = None
        if parts.get("msgid"):
            yield parts["msgid"], " ".join(v for k, v in parts.items() if k.startswith("msgstr"))


def test_notifications_are_shown_in_the_readers_language(cast):
    """Issue 13: the inbox row keeps the message id and parameters; each reader sees it in the page's language,
    e-mail and SMS get the portal's default language."""
    from django.utils import translation
    from django.utils.translation import gettext_noop

    from cme_portal.notifications.kinds import Kind
    from cme_portal.notifications.services import notify
    from cme_portal.notifications.text import Text
    from cme_portal.punctuation import with_note

    with translation.override("en"):  # told while someone works in English: stored the same way
        note = notify(
            cast["learner"],
            Kind.OTHER,
            Text(
                gettext_noop("%(kind)s“%(name)s”：%(action)s（理由：%(reason)s）"),
                kind=CreditEntry._meta.verbose_name,
                name=lambda: with_note("ABC", "Liu"),
                action="x",
                reason="typo",
            ),
        )
    assert "“" in note.message and "（理由" in note.message  # the e-mail/SMS copy: the default language
    with translation.override("en"):
        assert not CJK.search(note.text), note.text
        assert "ABC (Liu)" in note.text
    with translation.override("zh-hans"):
        assert "ABC（Liu）" in note.text and "理由：typo" in note.text


def test_the_default_survey_is_asked_in_the_readers_language_and_counted_by_its_stored_options():
    from django.utils import translation

    from attendance.forms import SurveyForm
    from attendance.services import DEFAULT_SURVEY, default_survey

    template = default_survey()
    with translation.override("en"):
        form = SurveyForm(template=template)
        shown = (
            [str(f.label) for f in form.fields.values()]
            + [str(label) for f in form.fields.values() for _value, label in f.choices]
            + [str(template)]
        )
        assert not [text for text in shown if CJK.search(text)], shown
        # The value sent back is the stored option: answers count the same in either language.
        assert [value for value, _label in form.fields["q1"].choices] == DEFAULT_SURVEY[0]["options"]


def test_a_survey_typed_by_an_organiser_is_shown_as_typed(cast):
    from django.utils import translation

    from attendance.forms import SurveyForm
    from attendance.models import SurveyTemplate

    mine = SurveyTemplate.objects.create(name="是", questions=[{"key": "q1", "text": "满意", "options": ["是"], "choose": 1}])
    with translation.override("en"):
        form = SurveyForm(template=mine)
        assert form.fields["q1"].label == "1. 满意" and form.fields["q1"].choices == [("是", "是")] and str(mine) == "是"


def test_the_certificate_credit_line_is_built_in_the_readers_language():
    from django.utils import translation

    from certificates.services import shown_credit_line

    snapshot = {"credits_text": "省级 I类 5 分", "credit": {"level": "provincial", "cls": "I", "credits": "5"}}
    with translation.override("en"):
        assert shown_credit_line(snapshot) == "Provincial Class I, 5 credits"
    with translation.override("zh-hans"):
        assert shown_credit_line(snapshot) == "省级 I类 5 分"


def test_the_language_switch_is_remembered_on_the_account(client, cast):
    from django.urls import reverse

    person = cast["learner"]
    client.force_login(person)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    person.refresh_from_db()
    assert person.language == "en" and person.preferred_language == "en"
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    person.refresh_from_db()
    assert person.language == "" and person.preferred_language == settings.LANGUAGE_CODE


def test_logging_in_brings_back_the_language_the_person_chose(client, cast):
    from django.urls import reverse

    from .factories import PASSWORD

    person = cast["learner"]
    person.language = "en"
    person.save()
    response = client.post(reverse("accounts:login"), {"identifier": person.mobile, "password": PASSWORD}, follow=True)
    assert 'lang="en"' in response.content.decode()


def test_mail_and_sms_are_written_in_the_language_the_person_chose(cast, outbox, django_capture_on_commit_callbacks):
    """A return told to a learner who chose English: the SMS, the e-mail and its subject are English, whatever
    language the reviewer works in."""
    from django.core import mail

    from credits.models import CREDIT_ENTRY_WORKFLOW

    from .factories import credit_entry

    learner = cast["learner"]
    learner.email, learner.language, learner.name = "liu@example.org", "en", "Liu Yang"  # content in ASCII
    learner.save()
    with django_capture_on_commit_callbacks(execute=True):
        entry = credit_entry(learner, activity_name="Heart failure")
        CREDIT_ENTRY_WORKFLOW.review(entry, cast["unit_admin"], "unit_return", reason="blurred")
    sms = [message for to, message in outbox if to == learner.mobile]
    sent = [m for m in mail.outbox if m.to == ["liu@example.org"]]
    assert sms and sent
    for text in sms + [m.body for m in sent] + [m.subject for m in sent]:
        assert not CJK.search(text.replace(SMS_PREFIX, "")), text
    assert "blurred" in sent[0].body


def test_a_certificate_is_drawn_in_the_learners_language(cast, tree):
    from datetime import date

    from .factories import certificates_for, held_session

    learner = cast["learner"]
    learner.language = "en"
    learner.save()
    session = held_session(cast["organiser"], tree["unit_a"], date(2026, 6, 1))
    certificate = certificates_for(session, [learner])[0]
    snapshot = certificate.snapshot
    printed = [snapshot["title"], snapshot["credits_text"], snapshot["scan_label"], *snapshot["labels"].values()]
    assert not [text for text in printed if CJK.search(text)], printed


def test_a_catalogue_import_refuses_rows_in_the_language_of_the_admin_who_sent_it(
    client, tree, django_capture_on_commit_callbacks
):
    """The worker has no request: the refused rows are written in the language the admin chose."""
    from django.urls import reverse

    from cme_portal.accounts.models import Role

    from .factories import staff
    from .test_project_catalogue import GOOD, sheet

    admin = staff(Role.PROVINCE_ADMIN, tree["province"], name="Zhou Min")
    client.force_login(admin)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("projects:project_import"), {"entry": "remote_filed", "file": sheet(GOOD, ["", *GOOD[1:]])}
        )
    from projects.models import CatalogueImport

    reasons = [error["reason"] for error in CatalogueImport.objects.get().errors]
    assert reasons and not [reason for reason in reasons if CJK.search(without_literals(reason))], reasons
    assert response.status_code == 302
