"""Log in with the document or mobile number; repeated failures lock; SMS resets."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from cme_portal.accounts.models import User

from .conftest import last_sms_code
from .factories import PASSWORD, learner

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
RESET = reverse("accounts:password_reset")


@pytest.fixture
def person(tree):
    return learner(unit=tree["unit_a"], id_number="11010519491231002X", mobile="13912345678")


def login(client, identifier, password=PASSWORD, **extra):
    return client.post(LOGIN, {"identifier": identifier, "password": password, **extra})


@pytest.mark.parametrize("identifier", ["11010519491231002X", "11010519491231002x", " 13912345678 "])
def test_login_with_document_or_mobile_number(client, person, identifier):
    response = login(client, identifier)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:dashboard")
    assert client.session["_auth_user_id"] == str(person.pk)


def test_wrong_password_says_how_many_tries_remain(client, person):
    response = login(client, "13912345678", "wrong-password")
    assert response.status_code == 200
    assert "还可再试 4 次" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_unknown_account_gets_the_same_message_without_a_count(client, person):
    response = login(client, "13000000000", "whatever")
    assert "证件号/手机号或密码不正确" in response.content.decode()


def test_five_failures_lock_the_account_even_for_the_right_password(client, person, settings):
    settings.LOGIN_CAPTCHA_AFTER = 100  # this test is about the lock, not the captcha
    for _ in range(settings.LOGIN_MAX_FAILURES):
        response = login(client, "13912345678", "wrong-password")
    assert "账号已锁定 15 分钟" in response.content.decode()

    response = login(client, "13912345678")
    assert "账号已锁定至" in response.content.decode()
    assert "_auth_user_id" not in client.session

    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        response = login(client, "13912345678")
    assert response.status_code == 302


def test_the_lock_also_holds_against_the_other_identifier(client, person, settings):
    settings.LOGIN_CAPTCHA_AFTER = 100
    for _ in range(settings.LOGIN_MAX_FAILURES):
        login(client, "13912345678", "wrong-password")
    response = login(client, "11010519491231002X")
    assert "账号已锁定" in response.content.decode()


def test_a_success_clears_the_failure_count(client, person):
    login(client, "13912345678", "wrong-password")
    login(client, "13912345678")
    person.refresh_from_db()
    assert person.failed_logins == 0


def test_repeated_failures_from_one_address_ask_for_a_captcha(client, person, settings):
    for _ in range(settings.LOGIN_CAPTCHA_AFTER):
        response = login(client, "13912345678", "wrong-password")
    assert "captcha" in response.context["form"].fields

    # Without the captcha answer even the right password is not checked.
    response = login(client, "13912345678")
    assert "captcha" in response.context["form"].errors
    # Test mode accepts "PASSED" as the answer.
    response = login(client, "13912345678", captcha_0="x", captcha_1="PASSED")
    assert response.status_code == 302


def test_an_unclaimed_desk_account_is_told_to_register(client, db):
    User.objects.create_user("11010519491231002X", None, name="王秀英", mobile="13912345678", claimed=False)
    response = login(client, "13912345678", "anything")
    assert "认领账号" in response.content.decode()


def test_next_parameter_only_to_this_site(client, person):
    response = client.post(LOGIN + "?next=/accounts/profile/", {"identifier": "13912345678", "password": PASSWORD})
    assert response["Location"] == "/accounts/profile/"
    client.logout()
    response = client.post(LOGIN + "?next=https://evil.example/", {"identifier": "13912345678", "password": PASSWORD})
    assert response["Location"] == reverse("accounts:dashboard")


def test_logout_is_a_post(client, person):
    client.force_login(person)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert "_auth_user_id" not in client.session


# --- forgotten password -----------------------------------------------------------


def test_forgotten_password_by_sms_code_unlocks_the_account(client, person, settings, django_capture_on_commit_callbacks):
    settings.LOGIN_CAPTCHA_AFTER = 100
    for _ in range(settings.LOGIN_MAX_FAILURES):
        login(client, "13912345678", "wrong-password")
    person.refresh_from_db()
    assert person.is_locked

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(RESET, {"identifier": "11010519491231002X", "action": "send_code"})
    assert "验证码已发送" in response.content.decode()
    code = last_sms_code("13912345678")

    response = client.post(
        RESET,
        {
            "identifier": "11010519491231002X",
            "sms_code": code,
            "new_password1": "Spring-Bamboo-77",
            "new_password2": "Spring-Bamboo-77",
            "action": "reset",
        },
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert not person.is_locked
    assert login(client, "13912345678", "Spring-Bamboo-77").status_code == 302


def test_reset_for_an_unknown_account_answers_the_same_and_sends_nothing(
    client, person, outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post(RESET, {"identifier": "11010519491231002X", "action": "send_code"}).content.decode()
        unknown = client.post(RESET, {"identifier": "13000000000", "action": "send_code"}).content.decode()
    assert "如果该账号存在并绑定了手机号" in known
    assert "如果该账号存在并绑定了手机号" in unknown
    assert [to for to, _ in outbox] == ["13912345678"]


def test_reset_with_a_wrong_code_is_refused(client, person, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(RESET, {"identifier": "13912345678", "action": "send_code"})
    wrong = "000000" if last_sms_code("13912345678") != "000000" else "111111"
    response = client.post(
        RESET,
        {
            "identifier": "13912345678",
            "sms_code": wrong,
            "new_password1": "Spring-Bamboo-77",
            "new_password2": "Spring-Bamboo-77",
            "action": "reset",
        },
    )
    person.refresh_from_db()
    assert person.check_password(PASSWORD)
    assert "短信验证码不正确" in " ".join(response.context["form"].errors["sms_code"])
