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
