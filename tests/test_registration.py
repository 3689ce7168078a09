"""W1: a learner registers with the fields of seed 000, an SMS code, and one account per person."""

from datetime import date, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from cme_portal.accounts.models import DocumentType, LearnerProfile, Role, SmsCode, SmsPurpose, User
from cme_portal.accounts.services import send_sms_code, verify_sms_code
from cme_portal.errors import DomainError

from .conftest import forget_rate_limits, last_sms_code
from .factories import UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("accounts:register")


@pytest.fixture
def form_data(tree):
    return {
        "id_type": DocumentType.RESIDENT_ID,
        "id_number": "11010519491231002X",
        "name": "王秀英",
        "birth_date": "",
        "sex": "",
        "title": "intermediate",
        "position": "staff",
        "region": tree["city_a"].pk,
        "unit": tree["unit_a"].pk,
        "unit_name": "",
        "mailing_address": "甲市健康路 8 号",
        "department": "心内科",
        "password1": "Winter-Plum-2026",
        "password2": "Winter-Plum-2026",
        "mobile": "13912345678",
        "sms_code": "",
    }


@pytest.fixture
def register(client, django_capture_on_commit_callbacks):
    """Ask for a code like the page does, then submit the form with it."""

    def run(data, code=None):
        with django_capture_on_commit_callbacks(execute=True):
            client.post(URL, {**data, "action": "send_code"})
        data = {**data, "sms_code": code or last_sms_code(data["mobile"]), "action": "register"}
        return client.post(URL, data)

    return run


def test_resident_id_registers_and_fills_birth_date_and_sex(register, form_data, tree):
    response = register(form_data)

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:dashboard")
    user = User.objects.get(id_number="11010519491231002X")
    assert user.name == "王秀英"
    assert user.mobile == "13912345678"
    assert user.profile.birth_date == date(1949, 12, 31)
    assert user.profile.sex == "F"
    assert user.profile.unit == tree["unit_a"]
    assert user.has_role(Role.LEARNER)
    assert user.check_password("Winter-Plum-2026")


def test_learner_lands_on_own_dashboard_after_registering(register, form_data, client):
    register(form_data)
    response = client.get(reverse("accounts:dashboard"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("accounts:dashboard_role", args=["learner"])
    assert "本年度学分" in response.content.decode()


def with_check(body):
    """Seventeen digits plus their correct check digit: only the part under test is wrong."""
    from stdnum.cn import ric

    return body + ric.calc_check_digit(body + "0")  # stdnum ignores the last character


@pytest.mark.parametrize(
    "number, message",
    [
        ("110105194912310021", "校验位"),
        (with_check("11010519490231002"), "出生日期"),  # 31 February
        (with_check("11010520991231002"), "出生日期"),  # not born yet
        (with_check("99999919800101001"), "省级行政区代码"),
        ("11010519491231002", "18 位"),
        (with_check("81000019900101001"), "港澳台居民居住证"),
    ],
)
def test_bad_resident_ids_are_refused_with_the_reason(client, form_data, number, message):
    response = client.post(URL, {**form_data, "id_number": number, "sms_code": "123456", "action": "register"})

    assert response.status_code == 200
    errors = response.context["form"].errors["id_number"]
    assert any(message in error for error in errors), errors
    assert not User.objects.filter(id_number=number).exists()


@pytest.mark.parametrize(
    "id_type, good, bad",
    [
        (DocumentType.PASSPORT, "E12345678", "E12"),
        (DocumentType.HK_MACAO_PERMIT, "H12345678", "X12345678"),
        (DocumentType.TAIWAN_PERMIT, "12345678", "1234567"),
        (DocumentType.MILITARY_ID, "南字第20051234号", "第号"),
        (DocumentType.HMT_RESIDENCE_PERMIT, with_check("81000019900101001"), with_check("11010519491231002")),
    ],
)
def test_other_document_types_are_checked_by_their_own_format(register, client, form_data, id_type, good, bad):
    base = {**form_data, "id_type": id_type, "birth_date": "1990-01-01", "sex": "M"}

    refused = client.post(URL, {**base, "id_number": bad, "sms_code": "123456", "action": "register"})
    assert "id_number" in refused.context["form"].errors

    accepted = register({**base, "id_number": good})
    assert accepted.status_code == 302, accepted.context and accepted.context["form"].errors
    user = User.objects.get(id_number=good.upper())
    assert user.id_type == id_type
    # A residence permit carries its holder's birth date; the others take what was typed.
    expected = date(1990, 1, 1)
    assert user.profile.birth_date == expected


def test_non_resident_documents_need_birth_date_and_sex(client, form_data):
    data = {**form_data, "id_type": DocumentType.PASSPORT, "id_number": "E12345678", "action": "register"}
    response = client.post(URL, data)
    errors = response.context["form"].errors
    assert "请选择出生日期。" in errors["birth_date"]
    assert "请选择性别。" in errors["sex"]


def test_second_account_with_same_mobile_is_refused_and_keeps_typed_fields(register, client, form_data):
    UserFactory(mobile="13912345678", name="先注册的人")
    data = {**form_data, "sms_code": "654321", "action": "register"}

    response = client.post(URL, data)

    assert response.status_code == 200
    form = response.context["form"]
    assert any("手机号已存在" in error for error in form.errors["mobile"])
    page = response.content.decode()
    for typed in ("王秀英", "11010519491231002X", "甲市健康路 8 号", "心内科", "13912345678"):
        assert typed in page
    assert not User.objects.filter(id_number="11010519491231002X").exists()


def test_asking_a_code_for_a_taken_mobile_is_refused_before_sending(client, form_data, outbox):
    UserFactory(mobile="13912345678")
    response = client.post(URL, {**form_data, "action": "send_code"}, follow=True)
    assert "手机号已存在" in response.content.decode()
    assert outbox == []
    assert "王秀英" in response.content.decode()


def test_a_registered_document_number_is_refused(register, client, form_data):
    UserFactory(id_number="11010519491231002X", mobile="13700000000")
    response = client.post(URL, {**form_data, "sms_code": "123456", "action": "register"})
    assert any("该证件号已注册" in e for e in response.context["form"].errors["id_number"])


def test_wrong_sms_code_is_refused_and_input_kept(client, form_data, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(URL, {**form_data, "action": "send_code"})
    real = last_sms_code(form_data["mobile"])
    wrong = "000000" if real != "000000" else "111111"

    response = client.post(URL, {**form_data, "sms_code": wrong, "action": "register"})

    assert "短信验证码不正确" in " ".join(response.context["form"].errors["sms_code"])
    assert response.context["form"]["name"].value() == "王秀英"
    assert not User.objects.filter(id_number="11010519491231002X").exists()


def test_passwords_must_match_and_be_strong(client, form_data):
    response = client.post(URL, {**form_data, "password2": "Other-Pass-1", "action": "register"})
    assert "两次输入的密码不一致。" in response.context["form"].errors["password2"]
    response = client.post(URL, {**form_data, "password1": "12345678", "password2": "12345678", "action": "register"})
    assert "password1" in response.context["form"].errors


def test_unit_not_in_list_can_be_typed(register, form_data):
    response = register({**form_data, "unit": "", "unit_name": "甲市某某诊所"})
    assert response.status_code == 302
    profile = LearnerProfile.objects.get(user__id_number="11010519491231002X")
    assert profile.unit is None and profile.unit_name == "甲市某某诊所"


def test_unit_is_required_one_way_or_the_other(client, form_data):
    response = client.post(URL, {**form_data, "unit": "", "unit_name": "", "action": "register"})
    assert "unit" in response.context["form"].errors


def test_registration_claims_an_account_opened_at_a_check_in_desk(register, form_data):
    desk = User.objects.create_user("11010519491231002X", None, name="王秀英", mobile="13912345678", claimed=False)

    response = register(form_data)

    assert response.status_code == 302
    desk.refresh_from_db()
    assert desk.claimed and desk.check_password("Winter-Plum-2026")
    assert User.objects.filter(id_number="11010519491231002X").count() == 1


# --- SMS codes -------------------------------------------------------------------


def test_code_expires(outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        code = send_sms_code("13912345678", SmsPurpose.REGISTER)
    assert outbox and code in outbox[-1][1]
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        with pytest.raises(DomainError) as refused:
            verify_sms_code("13912345678", SmsPurpose.REGISTER, code)
    assert refused.value.code == "sms_expired"


def test_code_works_once_within_its_life():
    code = send_sms_code("13912345678", SmsPurpose.REGISTER)
    with time_machine.travel(timezone.now() + timedelta(minutes=4)):
        verify_sms_code("13912345678", SmsPurpose.REGISTER, code)
        with pytest.raises(DomainError) as again:
            verify_sms_code("13912345678", SmsPurpose.REGISTER, code)
    assert again.value.code == "sms_missing"


def test_code_dies_after_five_wrong_guesses():
    code = send_sms_code("13912345678", SmsPurpose.REGISTER)
    wrong = "111111" if code != "111111" else "222222"
    for _ in range(5):
        with pytest.raises(DomainError):
            verify_sms_code("13912345678", SmsPurpose.REGISTER, wrong)
    with pytest.raises(DomainError) as refused:
        verify_sms_code("13912345678", SmsPurpose.REGISTER, code)
    assert refused.value.code == "sms_attempts"


def test_code_is_stored_only_as_a_hash():
    code = send_sms_code("13912345678", SmsPurpose.REGISTER)
    assert code not in SmsCode.objects.get().code_hash


def test_sending_is_rate_limited_per_number(settings):
    start = timezone.now()
    send_sms_code("13912345678", SmsPurpose.REGISTER)
    with pytest.raises(DomainError) as too_soon:
        send_sms_code("13912345678", SmsPurpose.REGISTER)
    assert too_soon.value.code == "sms_too_soon"

    for minute in range(1, settings.SMS_MAX_PER_NUMBER_PER_DAY):
        with time_machine.travel(start + timedelta(minutes=2 * minute)):
            forget_rate_limits()
            send_sms_code("13912345678", SmsPurpose.REGISTER)
    with time_machine.travel(start + timedelta(hours=2)):
        forget_rate_limits()
        with pytest.raises(DomainError) as daily:
            send_sms_code("13912345678", SmsPurpose.REGISTER)
    assert daily.value.code == "sms_number_limit"
    with time_machine.travel(start + timedelta(days=1, minutes=1)):
        forget_rate_limits()
        send_sms_code("13912345678", SmsPurpose.REGISTER)


def test_sending_is_rate_limited_per_client_address(settings):
    for n in range(settings.SMS_MAX_PER_ADDRESS_PER_HOUR):
        send_sms_code(f"1391234{n:04d}", SmsPurpose.REGISTER, client_ip="203.0.113.9")
    with pytest.raises(DomainError) as refused:
        send_sms_code("13700000000", SmsPurpose.REGISTER, client_ip="203.0.113.9")
    assert refused.value.code == "sms_address_limit"
    send_sms_code("13700000000", SmsPurpose.REGISTER, client_ip="203.0.113.10")


def test_rate_limit_refusal_shows_on_the_page_and_keeps_input(client, form_data, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(URL, {**form_data, "action": "send_code"})
    response = client.post(URL, {**form_data, "action": "send_code"})
    page = response.content.decode()
    assert "秒后再重新获取" in page
    assert "王秀英" in page


def test_a_bad_mobile_number_is_refused_before_sending(client, form_data, outbox):
    response = client.post(URL, {**form_data, "mobile": "12345", "action": "send_code"})
    assert "手机号码应为 11 位数字" in response.content.decode()
    assert outbox == []


def test_code_button_with_javascript_answers_json(client, form_data, outbox, django_capture_on_commit_callbacks):
    url = reverse("accounts:registration_code")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"mobile": "139 1234 5678", "id_number": form_data["id_number"]})
    assert response.status_code == 200
    assert response.json()["sent"] is True and "13912345678" in response.json()["message"]
    assert response.json()["dev_code"] is None  # never shown outside development
    assert outbox[-1][0] == "13912345678"

    again = client.post(url, {"mobile": "13912345678"})
    assert again.status_code == 400 and "秒后再重新获取" in again.json()["message"]
    assert client.get(url).status_code == 405


def test_a_desk_account_cannot_be_claimed_with_another_mobile(client, form_data, outbox):
    desk = User.objects.create_user("11010519491231002X", None, name="王秀英", mobile="13700000001", claimed=False)
    response = client.post(URL, {**form_data, "action": "send_code"})  # form_data's mobile is 13912345678
    page = response.content.decode()
    # The real holder recognises whether the bound mobile is theirs, and is sent to the unit for a hand-over.
    assert "签到时登记，绑定手机号 137****0001" in page and "办理账号移交" in page
    assert outbox == []
    desk.refresh_from_db()
    assert not desk.claimed and desk.mobile == "13700000001"


@pytest.mark.parametrize(
    "number, masked",
    [
        ("11010519491231002X", "1101**********002X"),
        ("E12345678", "E1*****78"),
        ("12345678", "12****78"),
        ("H1234", "H***4"),
    ],
)
def test_document_numbers_are_masked_by_length(number, masked):
    from cme_portal.accounts.validators import mask_id_number

    assert mask_id_number(number) == masked


def test_a_reset_code_right_after_registering_is_sent(client, form_data, django_capture_on_commit_callbacks):
    """Issue 13: asking for a reset code within a minute of registering said 请 43 秒后再重新获取, though no
    reset code had been sent: the minute between two codes is per purpose."""
    from cme_portal.accounts import services
    from cme_portal.accounts.models import SmsPurpose

    with django_capture_on_commit_callbacks(execute=True):
        services.send_sms_code("13912345678", SmsPurpose.REGISTER)
        assert services.send_sms_code("13912345678", SmsPurpose.RESET_PASSWORD)
    with pytest.raises(Exception) as again:
        services.send_sms_code("13912345678", SmsPurpose.RESET_PASSWORD)
    assert again.value.code == "sms_too_soon"
