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
    environ = {key: value for key, value in extra.items() if key.isupper()}  # REMOTE_ADDR: another address
    fields = {key: value for key, value in extra.items() if not key.isupper()}
    return client.post(LOGIN, {"identifier": identifier, "password": password, **fields}, **environ)


@pytest.mark.parametrize("identifier", ["11010519491231002X", "11010519491231002x", " 13912345678 "])
def test_login_with_document_or_mobile_number(client, person, identifier):
    response = login(client, identifier)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:dashboard")
    assert client.session["_auth_user_id"] == str(person.pk)


def test_wrong_password_and_unknown_account_get_the_same_answer(client, person, settings):
    settings.LOGIN_CAPTCHA_AFTER = 100
    wrong = login(client, "13912345678", "wrong-password")
    unknown = login(client, "13000000000", "wrong-password")

    assert wrong.status_code == unknown.status_code == 200
    assert wrong.context["form"].non_field_errors() == unknown.context["form"].non_field_errors()
    assert "证件号/手机号或密码不正确" in wrong.content.decode()
    assert "还可再试" not in wrong.content.decode()
    assert "_auth_user_id" not in client.session


def test_five_failures_lock_the_account_for_that_address_only(client, person, settings):
    settings.LOGIN_CAPTCHA_AFTER = 100  # this test is about the lock, not the captcha
    for _ in range(settings.LOGIN_MAX_FAILURES):
        login(client, "13912345678", "wrong-password")

    response = login(client, "13912345678")  # the right password, from the attacker's address
    assert "密码错误次数过多" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # The owner, elsewhere, is not locked out.
    assert login(client, "13912345678", REMOTE_ADDR="10.9.9.9").status_code == 302
    client.logout()

    forget_rate_limits_after = timezone.now() + timedelta(minutes=16)
    from .conftest import forget_rate_limits

    with time_machine.travel(forget_rate_limits_after):
        forget_rate_limits()  # Redis's clock does not travel: the window has ended by then
        assert login(client, "13912345678").status_code == 302


def test_an_unknown_account_locks_the_same_way(client, person, settings):
    settings.LOGIN_CAPTCHA_AFTER = 100
    answers = []
    for identifier in ("13912345678", "13000000000"):
        for _ in range(settings.LOGIN_MAX_FAILURES):
            login(client, identifier, "wrong-password")
        answers.append(login(client, identifier, "wrong-password").context["form"].non_field_errors())
    assert answers[0] == answers[1] and "密码错误次数过多" in answers[0][0]


def test_the_lock_also_holds_against_the_other_identifier(client, person, settings):
    settings.LOGIN_CAPTCHA_AFTER = 100
    for _ in range(settings.LOGIN_MAX_FAILURES):
        login(client, "13912345678", "wrong-password")
    response = login(client, "11010519491231002X")
    assert "密码错误次数过多" in response.content.decode()


def test_many_addresses_failing_one_account_bring_a_captcha_not_a_lock(client, person, settings):
    settings.LOGIN_CAPTCHA_AFTER = 100
    for n in range(settings.LOGIN_ACCOUNT_CAPTCHA_AFTER):
        login(client, "13912345678", "wrong-password", REMOTE_ADDR=f"10.1.{n}.1")

    response = login(client, "13912345678", REMOTE_ADDR="10.2.0.1")  # the owner, the right password
    assert "captcha" in response.context["form"].errors
    response = login(client, "13912345678", REMOTE_ADDR="10.2.0.1", captcha_0="x", captcha_1="PASSED")
    assert response.status_code == 302


def test_a_success_clears_the_failure_count(client, person, settings):
    settings.LOGIN_CAPTCHA_AFTER = 100
    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        login(client, "13912345678", "wrong-password")
    assert login(client, "13912345678").status_code == 302
    client.logout()
    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        login(client, "13912345678", "wrong-password")
    assert login(client, "13912345678").status_code == 302


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
    assert "“注册”认领" in response.content.decode()


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
    assert "密码错误次数过多" in login(client, "13912345678").content.decode()

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
    # The reset ends the lock on this very address too.
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


def test_a_second_reset_request_within_a_minute_answers_the_same(client, person, outbox, django_capture_on_commit_callbacks):
    pages = []
    with django_capture_on_commit_callbacks(execute=True):
        for identifier in ("13912345678", "13912345678", "13000000000", "13000000000"):
            response = client.post(RESET, {"identifier": identifier, "action": "send_code"})
            pages.append([str(m) for m in response.context["messages"]])
    assert pages[0] == pages[1] == pages[2] == pages[3]
    assert [to for to, _ in outbox] == ["13912345678"]


def test_sms_codes_are_never_shown_on_the_page_by_default(client, person, django_capture_on_commit_callbacks):
    from cme_portal import settings as real_settings

    assert real_settings.SMS_SHOW_CODE_IN_PAGE is False
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(RESET, {"identifier": "13912345678", "action": "send_code"}).content.decode()
    assert last_sms_code("13912345678") not in page


def test_the_captcha_is_not_marked_required_when_it_first_appears(client, person, settings):
    """Issue 13: the captcha appeared with 这个字段是必须的 under it before anyone had typed in it."""
    for _ in range(settings.LOGIN_CAPTCHA_AFTER):
        response = login(client, "13912345678", "wrong-password")
    form = response.context["form"]
    assert "captcha" in form.fields and "captcha" not in form.errors
    assert "必须" not in response.content.decode() and "必填" not in response.content.decode()
