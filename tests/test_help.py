"""Help where people get stuck (issue 13, item 3): guides per role, contacts of every node edited in scope,
the contact on every refusal a learner meets, and the problem report reaching the right inbox."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from attendance import services as attendance_services
from attendance.models import AttendancePlan
from cme_portal.accounts.models import Organisation, Role
from cme_portal.accounts.selectors import contact_for
from cme_portal.review.models import Notification
from cme_portal.support.guides import GUIDES
from cme_portal.support.models import ProblemReport
from cme_portal.support.services import REPORTS_PER_HOUR
from projects.models import Session

from .factories import PASSWORD, ProjectFactory, UserFactory, learner, staff

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")

PHONES = {
    "province": "0571-87709206",
    "city_a": "0571-85155021",
    "city_b": "0574-87362145",
    "unit_a": "0571-87108150",
    "unit_b": "0574-87219016",
}


@pytest.fixture
def contacts(tree):
    for key, phone in PHONES.items():
        Organisation.objects.filter(pk=tree[key].pk).update(
            contact_phone=phone, office_hours="工作日 8:30-17:00", office_address=f"{tree[key].name}科教科 305 室"
        )
    return PHONES


# --- the guides ------------------------------------------------------------------------------------------


ROLE_OF = {
    Role.LEARNER: "learner",
    Role.ORGANISER: "organiser",
    Role.UNIT_ADMIN: "unit_admin",
    Role.CITY_ADMIN: "city_admin",
    Role.PROVINCE_ADMIN: "province_admin",
}


@pytest.mark.parametrize("role", list(ROLE_OF))
def test_each_role_sees_its_own_guide_first(client, cast, contacts, role):
    client.force_login(cast[ROLE_OF[role]])
    response = client.get(reverse("support:help"))
    assert response.status_code == 200
    sections = response.context["sections"]
    assert sections[0][0] == role
    page = response.content.decode()
    assert str(GUIDES[role][0].title) in page
    # Staff are learners too: their learner guide follows their own.
    assert [r for r, _guides in sections][-1] == Role.LEARNER
    assert page.index(str(GUIDES[role][0].title)) < page.index("联系方式</h2>")


def test_a_learner_does_not_see_the_admins_guides(client, cast, contacts):
    client.force_login(cast["learner"])
    page = client.get(reverse("support:help")).content.decode()
    assert str(GUIDES[Role.PROVINCE_ADMIN][0].title) not in page
    assert PHONES["unit_a"] in page  # their own unit's office, first


def test_anonymous_visitors_see_the_learner_guide_and_the_contacts(client, contacts):
    response = client.get(reverse("support:help"))
    page = response.content.decode()
    assert [role for role, _guides in response.context["sections"]] == [Role.LEARNER]
    assert str(GUIDES[Role.LEARNER][0].title) in page and str(GUIDES[Role.ORGANISER][0].title) not in page
    assert PHONES["province"] in page and PHONES["city_b"] in page
    assert not response.context.get("can_report_problem") and "bi-chat-dots" not in page  # the report needs an account


def test_the_help_page_is_linked_from_every_page(client, cast):
    assert reverse("support:help") in client.get(reverse("home")).content.decode()
    client.force_login(cast["learner"])
    page = client.get(reverse("credits:my_credits")).content.decode()
    assert reverse("support:help") in page and reverse("support:report") in page


def test_every_guide_is_a_task_of_three_to_six_steps_on_a_real_screen_and_english_is_complete():
    for role, guides in GUIDES.items():
        assert len(guides) >= 3, role
        for guide in guides:
            assert 3 <= len(guide.steps) <= 6, guide.title
            assert guide.url.startswith("/")
            with translation.override("en"):
                for text in (guide.title, *guide.steps):
                    english = str(text).replace("(国)", "")  # the national mark is typed as it is
                    assert not any("\u4e00" <= char <= "\u9fff" for char in english), english


# --- contacts, edited in scope --------------------------------------------------------------------------


def edit(client, user, node, **changes):
    client.force_login(user)
    data = {"contact_phone": "0571-88886666", "office_hours": "工作日 9:00-17:00", "office_address": "门诊楼 2 楼", **changes}
    return client.post(reverse("support:contact_edit", args=[node.pk]), data)


def test_a_unit_admin_edits_their_own_units_contact(client, cast, tree):
    response = edit(client, cast["unit_admin"], tree["unit_a"])
    assert response.status_code == 302
    tree["unit_a"].refresh_from_db()
    assert (tree["unit_a"].contact_phone, tree["unit_a"].office_address) == ("0571-88886666", "门诊楼 2 楼")


@pytest.mark.parametrize(
    "who, node, status",
    [
        ("unit_admin", "unit_b", 404),  # another unit
        ("unit_admin", "city_a", 404),  # their own city: above them
        ("unit_admin", "province", 404),
        ("city_admin", "unit_a2", 302),  # a unit of a district of their city
        ("city_admin", "unit_b", 404),  # another city's unit
        ("city_admin", "city_b", 404),
        ("province_admin", "unit_b", 302),
        ("province_admin", "province", 302),
        ("learner", "unit_a", 404),
        ("organiser", "unit_a", 404),
    ],
)
def test_contacts_are_edited_only_in_scope(client, cast, tree, who, node, status):
    response = edit(client, cast[who], tree[node])
    assert response.status_code == status
    tree[node].refresh_from_db()
    assert (tree[node].contact_phone == "0571-88886666") == (status == 302)


def test_the_contact_list_holds_only_the_nodes_in_scope(client, cast, tree):
    client.force_login(cast["unit_admin"])
    nodes = list(client.get(reverse("support:contacts")).context["page_obj"])
    assert nodes == [tree["unit_a"]]
    client.force_login(cast["city_admin"])
    nodes = set(client.get(reverse("support:contacts")).context["page_obj"])
    assert nodes == {tree["city_a"], tree["district"], tree["unit_a"], tree["unit_a2"]}


@pytest.mark.parametrize(
    "phone, message",
    [
        ("0571-8770ABC", "只能包含数字和短横线"),
        ("0571--87709206", "只能包含数字和短横线"),
        ("-87709206", "只能包含数字和短横线"),
        ("1234", "只能包含数字和短横线"),
        ("0571-8770920612345678", "20"),  # the field's own length
        ("1-2-3", "5 到 16 位数字"),
        ("12345678901234567", "5 到 16 位数字"),
    ],
)
def test_a_bad_phone_is_refused_on_its_field(client, cast, tree, phone, message):
    response = edit(client, cast["unit_admin"], tree["unit_a"], contact_phone=phone)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["contact_phone"])
    tree["unit_a"].refresh_from_db()
    assert tree["unit_a"].contact_phone == ""


def test_full_width_digits_and_spaces_are_folded(client, cast, tree):
    edit(client, cast["unit_admin"], tree["unit_a"], contact_phone="０５７１－８７７０ ９２０６")
    tree["unit_a"].refresh_from_db()
    assert tree["unit_a"].contact_phone == "0571-87709206"


def test_the_office_texts_have_their_lengths(client, cast, tree):
    response = edit(client, cast["unit_admin"], tree["unit_a"], office_address="楼" * 101)
    assert response.status_code == 200 and "office_address" in response.context["form"].errors


# --- the contact on refusal pages ---------------------------------------------------------------------------


def test_contact_for_walks_up_to_the_nearest_node_with_a_contact(tree, contacts, cast):
    assert contact_for(learner=cast["learner"]) == tree["unit_a"]
    assert contact_for(learner=learner(unit=tree["unit_a2"])) == tree["city_a"]  # its district and unit have none
    assert contact_for(learner=learner(unit=None)) == tree["province"]
    assert contact_for(unit=tree["unit_b"]) == tree["unit_b"]


@pytest.fixture
def session(tree):
    organiser = staff(Role.ORGANISER, tree["unit_a"])
    session = Session.objects.create(
        project=ProjectFactory(holding_unit=tree["unit_a"], name="心血管进展学习班"),
        venue="甲市会议中心",
        start_date=date(2026, 12, 1),
        end_date=date(2026, 12, 1),
        credits=5,
        hours=8,
        state="approved",
        organiser=organiser,
        unit=tree["unit_a"],
    )
    AttendancePlan.objects.create(session=session, refresh_seconds=600, one_device_one_person=False)
    return session


MORNING = datetime.combine(date(2026, 12, 1), time(9), tzinfo=TZ)


def test_a_forged_door_code_shows_the_organising_units_contact(client, session, contacts):
    with time_machine.travel(MORNING, tick=False):
        response = client.get(reverse("attendance:door", args=[session.pk, "in", "aaaaaaaaaaaaaaaa"]))
    page = response.content.decode()
    assert response.status_code == 403 and "二维码无效" in page
    assert "需要帮助？请联系甲市人民医院" in page and PHONES["unit_a"] in page


def test_a_door_refusal_shows_the_learners_own_unit(client, session, contacts, cast):
    """Checking out without a check-in: the learner is known, so their own unit (乙市第一医院) is named."""
    cast["other_learner"].mobile = "13912345678"
    cast["other_learner"].save()
    plan = attendance_services.plan_for(session)
    evening = datetime.combine(date(2026, 12, 1), time(17), tzinfo=TZ)
    with time_machine.travel(evening, tick=False):
        url = reverse("attendance:door", args=[session.pk, "out", attendance_services.current_code(plan, "out", evening)])
        response = client.post(url, {"step": "identify", "identifier": "13912345678"})
    page = response.content.decode()
    assert response.status_code == 409 and "请先扫描签到二维码" in page
    assert PHONES["unit_b"] in page and PHONES["unit_a"] not in page


def test_a_bad_document_number_at_the_door_shows_the_organising_units_contact(client, session, contacts):
    plan = attendance_services.plan_for(session)
    with time_machine.travel(MORNING, tick=False):
        url = reverse("attendance:door", args=[session.pk, "in", attendance_services.current_code(plan, "in", MORNING)])
        assert PHONES["unit_a"] not in client.get(url).content.decode()  # nothing refused yet
        response = client.post(url, {"step": "identify", "identifier": "110105194912310021"})  # wrong check digit
    page = response.content.decode()
    assert "校验位" in page and PHONES["unit_a"] in page


def test_a_taken_mobile_at_the_door_shows_the_contact_of_the_unit_picked(client, session, tree, contacts):
    from .factories import resident_id

    learner(unit=tree["unit_a"], mobile="13700001111")
    plan = attendance_services.plan_for(session)
    data = {
        "step": "register",
        "send_code": "1",
        "id_type": "resident_id",
        "id_number": resident_id(8, birth=date(1990, 6, 15)),
        "name": "新学员",
        "mobile": "13700001111",
        "unit": tree["unit_b"].pk,
    }
    with time_machine.travel(MORNING, tick=False):
        url = reverse("attendance:door", args=[session.pk, "in", attendance_services.current_code(plan, "in", MORNING)])
        client.get(url)
        response = client.post(url, data)
    page = response.content.decode()
    assert "已绑定其他账号" in page and PHONES["unit_b"] in page and PHONES["unit_a"] not in page


def test_a_registration_refusal_shows_the_contact_of_the_unit_picked(client, tree, contacts):
    UserFactory(mobile="13912345678")
    data = {"id_type": "resident_id", "id_number": "11010519491231002X", "name": "王秀英", "unit": tree["unit_b"].pk}
    response = client.post(reverse("accounts:register"), {**data, "mobile": "13912345678", "action": "send_code"})
    page = response.content.decode()
    assert "手机号已存在" in page and PHONES["unit_b"] in page
    assert PHONES["unit_b"] not in client.get(reverse("accounts:register")).content.decode()  # not before a refusal


def test_the_code_button_with_javascript_says_who_helps_when_refused(client, tree, contacts):
    UserFactory(mobile="13912345678")
    data = {"id_number": "11010519491231002X", "mobile": "13912345678", "unit": tree["unit_b"].pk}
    answer = client.post(reverse("accounts:registration_code"), data).json()
    assert not answer["sent"] and "手机号已存在" in answer["message"] and PHONES["unit_b"] in answer["message"]


def test_a_registration_refusal_without_a_unit_shows_the_province(client, tree, contacts):
    response = client.post(reverse("accounts:register"), {"id_number": "1", "action": "register"})
    assert response.status_code == 200 and PHONES["province"] in response.content.decode()


def test_a_credit_entry_refusal_shows_the_learners_unit(client, cast, contacts):
    client.force_login(cast["learner"])
    assert PHONES["unit_a"] not in client.get(reverse("credits:entry_new")).content.decode()
    form = {
        "category": "national_i",
        "activity_name": "心力衰竭诊治新进展",
        "activity_number": "2026-03-01-001",  # without its （国）: refused by the rule
        "issuer": "中华医学会",
        "credit_class": "I",
        "start_date": "2026-05-01",
        "end_date": "2026-05-03",
        "credits": "8",
        "hours": "24",
    }
    response = client.post(reverse("credits:entry_new"), form)
    page = response.content.decode()
    assert response.status_code == 200 and "需要帮助？请联系甲市人民医院" in page and PHONES["unit_a"] in page


# --- the problem report ---------------------------------------------------------------------------------


def report(client, user, **changes):
    client.force_login(user)
    data = {
        "subject": "录入学分时提示编号有误",
        "description": "按学分证填写的国家级项目编号被拒绝，页面提示格式不对。",
        **changes,
    }
    return client.post(reverse("support:report"), data, follow=True)


def inbox(user):
    return list(Notification.objects.filter(user=user, kind="problem_reported"))


def test_the_report_reaches_exactly_the_learners_unit_admins(client, cast, tree):
    second_admin = staff(Role.UNIT_ADMIN, tree["unit_a"], name="王科教")
    response = report(client, cast["learner"], page_url="/credits/entries/new/")
    assert "已收到您的反馈" in response.content.decode()
    saved = ProblemReport.objects.get()
    assert (saved.reporter, saved.org, saved.page_url) == (cast["learner"], tree["unit_a"], "/credits/entries/new/")
    for admin in (cast["unit_admin"], second_admin):
        [note] = inbox(admin)
        assert "录入学分时提示编号有误" in note.message and note.link == reverse("support:report_detail", args=[saved.pk])
    for other in ("other_unit_admin", "city_admin", "other_city_admin", "province_admin", "organiser", "learner"):
        assert inbox(cast[other]) == [], other


def test_a_learner_without_a_unit_reaches_the_province(client, cast):
    loner = learner(unit=None, name="无单位")
    report(client, loner)
    assert len(inbox(cast["province_admin"])) == 1
    assert inbox(cast["unit_admin"]) == [] and inbox(cast["city_admin"]) == []


def test_a_unit_without_its_own_admin_sends_the_report_to_its_city(client, cast, tree):
    report(client, learner(unit=tree["unit_a2"]))
    assert len(inbox(cast["city_admin"])) == 1
    assert inbox(cast["unit_admin"]) == [] and inbox(cast["province_admin"]) == []


def test_the_report_is_read_only_by_its_reporter_and_the_admins_in_scope(client, cast):
    report(client, cast["learner"])
    url = reverse("support:report_detail", args=[ProblemReport.objects.get().pk])
    for who, status in (
        ("unit_admin", 200),
        ("learner", 200),
        ("province_admin", 200),
        ("other_unit_admin", 404),
        ("other_learner", 404),
    ):
        client.force_login(cast[who])
        assert client.get(url).status_code == status, who


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"subject": ""}, "subject"),
        ({"description": "不行"}, "description"),
        ({"page_url": "https://elsewhere.example/phish"}, "page_url"),
        ({"page_url": "//elsewhere.example/"}, "page_url"),
    ],
)
def test_a_report_is_validated(client, cast, changes, field):
    response = report(client, cast["learner"], **changes)
    assert field in response.context["form"].errors
    assert not ProblemReport.objects.exists() and inbox(cast["unit_admin"]) == []


def test_reports_are_rate_limited(client, cast):
    for n in range(REPORTS_PER_HOUR):
        report(client, cast["learner"], subject=f"问题 {n}")
    response = report(client, cast["learner"], subject="再来一条")
    assert "太频繁" in response.content.decode()
    assert ProblemReport.objects.count() == REPORTS_PER_HOUR


def test_the_page_is_prefilled_from_the_referring_portal_page(client, cast):
    client.force_login(cast["learner"])
    response = client.get(reverse("support:report"), HTTP_REFERER="http://testserver/credits/entries/new/?x=1")
    assert response.context["form"]["page_url"].value() == "/credits/entries/new/?x=1"
    response = client.get(reverse("support:report"), HTTP_REFERER="https://elsewhere.example/page/")
    assert response.context["form"]["page_url"].value() == ""


def test_only_learners_report(client, cast):
    assert client.get(reverse("support:report")).status_code == 302  # to the login


def test_the_database_refuses_a_malformed_phone(tree):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Organisation.objects.filter(pk=tree["unit_a"].pk).update(contact_phone="0571 8770 9206")


def test_the_problem_report_link_is_offered_only_to_those_who_can_send_one(client, cast, tree):
    """The footer's 问题反馈 reaches the learner's unit admins; staff who do not learn are not sent to a refusal."""
    from cme_portal.accounts.models import RoleAssignment

    from .factories import UserFactory

    report = reverse("support:report")
    client.force_login(cast["learner"])
    assert report in client.get(reverse("support:help")).content.decode()
    officer = UserFactory()  # a province officer who holds no learner role
    RoleAssignment.objects.create(user=officer, role=Role.PROVINCE_ADMIN, org=tree["province"])
    client.force_login(officer)
    page = client.get(reverse("support:help")).content.decode()
    assert f'href="{report}"' not in page


# --- login and reset refusals, the admins' list of reports ------------------------------------------------


def login(client, identifier, password):
    return client.post(reverse("accounts:login"), {"identifier": identifier, "password": password}).content.decode()


def test_a_refused_login_shows_the_provinces_office_not_the_accounts_unit(client, cast, contacts):
    assert PHONES["province"] not in client.get(reverse("accounts:login")).content.decode()  # not before a refusal
    page = login(client, cast["learner"].id_number, "wrong-password")
    assert "密码不正确" in page and PHONES["province"] in page and PHONES["unit_a"] not in page
    assert reverse("support:help") + "#contacts" in page


def test_a_disabled_account_with_its_password_is_sent_to_its_own_unit(client, cast, contacts):
    cast["learner"].is_active = False
    cast["learner"].save(update_fields=["is_active"])
    page = login(client, cast["learner"].id_number, PASSWORD)
    assert "该账号已停用" in page and PHONES["unit_a"] in page
    stranger = login(client, cast["learner"].id_number, "wrong-password")  # nothing tells a stranger whose it is
    assert "该账号已停用" not in stranger and PHONES["unit_a"] not in stranger and PHONES["province"] in stranger


def test_a_refused_password_reset_shows_the_provinces_office(client, cast, contacts):
    url = reverse("accounts:password_reset")
    page = client.get(url).content.decode()
    assert PHONES["province"] not in page and "收不到验证码" in page
    data = {"identifier": cast["learner"].mobile, "sms_code": "000000", "action": "reset"}
    page = client.post(url, {**data, "new_password1": "Brand-New-Pass-77", "new_password2": "Brand-New-Pass-77"})
    page = page.content.decode()
    assert "请先获取短信验证码" in page and PHONES["province"] in page and PHONES["unit_a"] not in page


def test_the_admins_list_of_reports_holds_their_scope_only(client, cast, tree):
    report(client, cast["learner"], subject="签到二维码扫不出")
    report(client, cast["other_learner"], subject="证书姓名有误")
    url = reverse("support:reports")
    seen = {}
    for who in ("unit_admin", "other_unit_admin", "city_admin", "province_admin", "learner", "organiser"):
        client.force_login(cast[who])
        page = client.get(url).content.decode()
        seen[who] = ("签到二维码扫不出" in page, "证书姓名有误" in page)
    assert seen == {
        "unit_admin": (True, False),
        "other_unit_admin": (False, True),
        "city_admin": (True, False),
        "province_admin": (True, True),
        "learner": (True, False),
        "organiser": (False, False),
    }
    client.force_login(cast["province_admin"])
    page = client.get(url, {"q": "孙学员"}).content.decode()
    assert "证书姓名有误" in page and "签到二维码扫不出" not in page
    assert "没有找到符合条件的问题反馈" in client.get(url, {"q": "不存在的问题"}).content.decode()
    client.force_login(cast["organiser"])
    assert "还没有问题反馈" in client.get(url).content.decode()


def test_the_list_of_reports_is_in_every_admins_menu(client, cast):
    for who, offered in (("unit_admin", True), ("province_admin", True), ("learner", False), ("organiser", False)):
        client.force_login(cast[who])
        page = client.get(reverse("support:help")).content.decode()
        assert (reverse("support:reports") in page) is offered, who


def answer(client, user, report_pk, text="项目编号应带（国）字样，已在页面提示中补充说明，请按证书原样填写后再提交。"):
    client.force_login(user)
    return client.post(reverse("support:report_detail", args=[report_pk]), {"answer": text}, follow=True)


def test_an_admin_in_scope_answers_once_and_the_reporter_is_told(client, cast):
    report(client, cast["learner"])
    saved = ProblemReport.objects.get()
    response = answer(client, cast["unit_admin"], saved.pk)
    assert "已答复，刘学员 会在消息通知中看到" in response.content.decode()
    saved.refresh_from_db()
    assert saved.answered and saved.answered_by == cast["unit_admin"] and "（国）" in saved.answer
    [note] = Notification.objects.filter(user=cast["learner"], kind="problem_answered")
    assert "录入学分时提示编号有误" in note.message and note.link == reverse("support:report_detail", args=[saved.pk])
    client.force_login(cast["learner"])
    page = client.get(note.link).content.decode()
    assert "请按证书原样填写后再提交" in page and "李科教" in page and 'name="answer"' not in page
    # A second answer (another admin in scope, a moment later) is refused by name and changes nothing.
    again = answer(client, cast["city_admin"], saved.pk, "另一条答复内容").content.decode()
    assert "另一条答复内容" not in again and Notification.objects.filter(kind="problem_answered").count() == 1
    saved.refresh_from_db()
    assert saved.answered_by == cast["unit_admin"]


def test_the_service_refuses_a_second_answer_by_name(cast):
    from cme_portal.errors import DomainError
    from cme_portal.support.services import answer_report, report_problem

    saved = report_problem(reporter=cast["learner"], subject="证书打不开", description="点击下载后提示文件损坏。")
    answer_report(user=cast["unit_admin"], pk=saved.pk, answer="已重新生成，请再下载一次。")
    with pytest.raises(DomainError) as refused:
        answer_report(user=cast["city_admin"], pk=saved.pk, answer="已处理，请重试。")
    assert refused.value.code == "already_answered" and "李科教" in refused.value.message


@pytest.mark.parametrize("who", ["other_unit_admin", "other_city_admin", "learner", "organiser"])
def test_only_admins_in_scope_answer(client, cast, who):
    report(client, cast["learner"])
    saved = ProblemReport.objects.get()
    response = answer(client, cast[who], saved.pk)
    saved.refresh_from_db()
    assert not saved.answered and response.status_code in (200, 404)
    assert not Notification.objects.filter(kind="problem_answered").exists()


@pytest.mark.parametrize("text", ["好", "长" * 1001])
def test_an_answer_too_short_or_too_long_is_refused_and_kept(client, cast, text):
    report(client, cast["learner"])
    saved = ProblemReport.objects.get()
    page = answer(client, cast["unit_admin"], saved.pk, text).content.decode()
    saved.refresh_from_db()
    assert not saved.answered and 'id="id_answer_error"' in page
    assert f">\n{text}</textarea>" in page or f">{text}</textarea>" in page  # what was typed is kept


def test_the_list_filters_by_answered(client, cast):
    report(client, cast["learner"], subject="第一条反馈")
    report(client, cast["learner"], subject="第二条反馈")
    first = ProblemReport.objects.get(subject="第一条反馈")
    answer(client, cast["unit_admin"], first.pk)
    url = reverse("support:reports")
    for state, shown, hidden in (("open", "第二条反馈", "第一条反馈"), ("answered", "第一条反馈", "第二条反馈")):
        page = client.get(url, {"state": state}).content.decode()
        assert shown in page and hidden not in page, state
    page = client.get(url).content.decode()
    assert "已答复" in page and "待答复" in page
    assert client.get(url, {"state": "nonsense"}).status_code == 200


def test_the_database_keeps_an_answer_whole(cast):
    from django.db import IntegrityError, transaction

    from cme_portal.support.services import report_problem

    saved = report_problem(reporter=cast["learner"], subject="证书打不开", description="点击下载后提示文件损坏。")
    with pytest.raises(IntegrityError), transaction.atomic():
        ProblemReport.objects.filter(pk=saved.pk).update(answer="已处理")  # an answer without its time


@pytest.mark.parametrize("who", ["other_unit_admin", "learner"])
def test_the_service_loads_the_report_through_the_admins_scope(cast, who):
    from django.http import Http404

    from cme_portal.support.services import answer_report, report_problem

    saved = report_problem(reporter=cast["learner"], subject="证书打不开", description="点击下载后提示文件损坏。")
    with pytest.raises(Http404):
        answer_report(user=cast[who], pk=saved.pk, answer="已重新生成，请再下载一次。")


def test_a_refused_reset_code_shows_the_provinces_office(client, cast, contacts, monkeypatch):
    from cme_portal.accounts import services as account_services
    from cme_portal.errors import DomainError

    def refuse(identifier, ip):
        raise DomainError("当前网络获取验证码过于频繁，请一小时后再试。", "sms_address_limit")

    monkeypatch.setattr(account_services, "request_password_reset", refuse)
    data = {"identifier": cast["learner"].mobile, "action": "send_code"}
    page = client.post(reverse("accounts:password_reset"), data).content.decode()
    assert "获取验证码过于频繁" in page and PHONES["province"] in page and PHONES["unit_a"] not in page
