"""Chinese by default; English through the language switch."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_chinese_is_the_default(client):
    page = client.get(reverse("accounts:login")).content.decode()
    assert 'lang="zh-hans"' in page and "证件号或手机号" in page


def test_the_language_switch_turns_the_portal_english(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("accounts:login")}, follow=True)
    page = response.content.decode()
    assert 'lang="en"' in page
    assert "证件号或手机号" not in page
    assert "Document number or mobile number" in page


def test_errors_are_translated_too(client):
    client.post(reverse("set_language"), {"language": "en"})
    response = client.post(reverse("accounts:login"), {"identifier": "13000000000", "password": "x"})
    errors = " ".join(response.context["form"].non_field_errors())
    assert errors and "不正确" not in errors


def test_no_english_blank_choice_in_the_chinese_pages(client):
    """Issue 13: Django 6's "- Select an option -" showed in English on the Chinese registration form."""
    page = client.get(reverse("accounts:register")).content.decode()
    assert "Select an option" not in page and "- 请选择 -" in page


def test_the_captcha_is_called_what_every_page_calls_it():
    """Issue 13: django-simple-captcha's catalogue says 认证码 and 这个字段是必须的; the portal says 验证码."""
    from django.utils import translation
    from django.utils.translation import gettext

    with translation.override("zh-hans"):
        assert gettext("Invalid CAPTCHA") == "验证码不正确，请重新输入。"
        assert gettext("This field is required.") == "这个字段是必填项。"


def _catalogue_entries(path):
    """(msgid, msgstr, flags) of every entry of a .po file, read without a po library."""
    import json
    import re

    text = path.read_text(encoding="utf-8")
    for block in text.split("\n\n"):
        flags = " ".join(line for line in block.splitlines() if line.startswith("#,"))
        if "\nmsgctxt " in "\n" + block:
            flags += " context"
        found = re.search(
            r'^msgid ((?:"(?:[^"\\]|\\.)*"\n)+)(?:msgid_plural (?:"(?:[^"\\]|\\.)*"\n)+)?msgstr(?:\[0\])? ((?:"(?:[^"\\]|\\.)*"\n?)+)',
            block,
            re.M,
        )
        if found:
            msgid, msgstr = (
                "".join(json.loads(part) for part in re.findall(r'"(?:[^"\\]|\\.)*"', group)) for group in found.groups()
            )
            yield msgid, msgstr, flags


def test_the_english_catalogue_is_complete_and_compiled():
    """Every Chinese string has its English (none left empty or fuzzy), and the compiled .mo is the .po's."""
    from pathlib import Path

    from django.conf import settings

    po = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"
    entries = [entry for entry in _catalogue_entries(po) if entry[0]]
    assert len(entries) > 1000
    assert [msgid for msgid, msgstr, flags in entries if not msgstr or "fuzzy" in flags] == []
    assert _mo_matches(po), "run make messages: the compiled django.mo is not the django.po"


def _mo_matches(po):
    """Whether the compiled catalogue holds every translation of the .po (a fresh checkout has no useful mtimes)."""
    import gettext

    with po.with_suffix(".mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    return all(
        compiled.gettext(msgid) == msgstr for msgid, msgstr, flags in _catalogue_entries(po) if msgid and "context" not in flags
    )
