"""The seeds' screens, column for column (issue 17): each table or form of the seeds is found on its page by the
seed's own labels, and the lists page with the seeds' page-size choice and "共 N 条"."""

import re
from datetime import date, timedelta

import pytest
from django.urls import reverse

from certificates.models import Certificate
from credits.services import award
from projects.models import HOSTING_WORKFLOW, Discipline, Session

from .factories import ProjectFactory, certificates_for, held_session, learner, session_for

pytestmark = pytest.mark.django_db


def soon(days=30):
    return date.today() + timedelta(days=days)


def headers(html):
    """The texts of a page's table header cells, in order."""
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<th[^>]*>(.*?)</th>", html, re.S)]


def new_draft(organiser, project=None, **fields):
    """A hosting application starting next month, whatever day the suite runs."""
    return session_for(organiser, project, **{"start_date": soon(), "end_date": soon(32), **fields})


def in_order(found, wanted):
    positions = [found.index(label) for label in wanted]
    return positions == sorted(positions)


def field_labels(form):
    return [str(field.label) for field in form]


# --- seed 000: the certificate query's 项目列表 -----------------------------------------------------------

SEED_000_COLUMNS = ["项目编号", "项目名称", "期数", "获取时间", "申办单位", "获取年", "学分类型", "举办地", "操作"]


def _query(client, person, **extra):
    data = {"by": "document", "id_number": person.id_number, "name": person.name, "captcha_0": "x", "captcha_1": "PASSED"}
    return client.post(reverse("certificates:query") + "?by=document", {**data, **extra})


def test_seed_000_query_result_has_the_seeds_columns(client, cast, tree):
    project = ProjectFactory(holding_unit=tree["unit_a"], name="全国心血管病学研讨会", level="national", credits=10)
    session = held_session(cast["organiser"], tree["unit_a"], date(2026, 5, 6), date(2026, 5, 10), project=project, venue="上海")
    person = learner(unit=tree["unit_a"], name="王秀英")
    certificates_for(session, [person])
    html = _query(client, person).content.decode()
    assert in_order(headers(html), SEED_000_COLUMNS)
    row = html.split("certificate-results", 1)[1]
    for shown in ("全国心血管病学研讨会", "2026-05-06 — 2026-05-10", "甲市人民医院", "2026", "上海", "查看"):
        assert shown in row
    assert re.search(r"1-1 共1条", html) and "共1页" in html


def test_seed_000_query_result_pages_with_a_page_size_choice(client, cast, tree, django_capture_on_commit_callbacks):
    person = learner(unit=tree["unit_a"], name="王秀英")
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(12):
            session = held_session(cast["organiser"], tree["unit_a"], date(2026, 3, 1) + timedelta(days=n))
            award(session, [person])
    assert Certificate.objects.filter(learner=person).count() == 12
    first = _query(client, person)
    assert len(first.context["results"]) == 10 and "1-10 共12条" in first.content.decode()
    assert 'name="per_page"' in first.content.decode()
    # The next page is a plain link: no document number in the address, the criteria stay in the session.
    second = client.get(reverse("certificates:query"), {"by": "document", "page": 2})
    assert len(second.context["results"]) == 2 and "11-12 共12条" in second.content.decode()
    bigger = client.get(reverse("certificates:query"), {"by": "document", "per_page": 20})
    assert len(bigger.context["results"]) == 12
    # Another browser (no query behind it) gets no results from a paging link.
    client.cookies.clear()
    assert client.get(reverse("certificates:query"), {"by": "document", "page": 2}).context["results"] is None


# --- seed 001: the organiser's 项目申请 list -------------------------------------------------------------

SEED_001_ORGANISER = [
    "序号",
    "项目编号",
    "期数",
    "项目名称",
    "二/三级学科",
    "负责人",
    "会场地址",
    "开始日期",
    "结束日期",
    "学分",
    "项目性质",
    "审核理由",
    "操作",
]


def test_seed_001_organiser_list_filters_columns_and_row_actions(client, cast, tree):
    organiser = cast["organiser"]
    parent = Discipline.objects.create(year=2026, code="14", name="护理学")
    nursing = Discipline.objects.create(year=2026, code="14-02", name="外科护理学", parent=parent)
    national = ProjectFactory(
        holding_unit=tree["unit_a"], name="测试用", level="national", leader="测试用", discipline=nursing, year=2026
    )
    draft = new_draft(organiser, national, venue="苏州")
    other = new_draft(organiser, ProjectFactory(holding_unit=tree["unit_a"], leader="别人", year=2025))
    client.force_login(organiser)
    response = client.get(reverse("projects:my_sessions"))
    html = response.content.decode()
    assert {"项目年份", "项目级别", "项目名称", "项目负责人"} <= set(field_labels(response.context["form"]))
    assert in_order(headers(html), SEED_001_ORGANISER)
    assert "护理学/外科护理学" in html and "申报项目" in html
    assert "资料上传" in html and "提交申请" in html and "删除" in html
    assert reverse("projects:session_delete", args=[draft.pk]) in html
    # A draft's 审核理由 is its state, 未上报 (no reviewer has spoken yet).
    reason_cell = html.split("<tbody>", 1)[1].split('data-label="审核理由">', 1)[1].split("</td>", 1)[0]
    assert "未上报" in reason_cell and "review-reason" not in reason_cell
    # Each filter of the seed's search line narrows the list.
    for query in ({"year": 2026}, {"level": "national"}, {"name": "测试"}, {"leader": "测试用"}):
        rows = list(client.get(reverse("projects:my_sessions"), query).context["page_obj"])
        assert rows == [draft], query
    assert list(client.get(reverse("projects:my_sessions"), {"leader": "别人"}).context["page_obj"]) == [other]


def test_seed_001_approved_rows_show_the_reviewer_and_offer_materials_and_qr(client, cast, tree):
    organiser = cast["organiser"]
    session = new_draft(organiser, ProjectFactory(holding_unit=tree["unit_a"], entry="filed"))
    from projects import services

    services.submit(session, organiser)
    HOSTING_WORKFLOW.review(session, cast["unit_admin"], "forward")
    HOSTING_WORKFLOW.review(session, cast["province_admin"], "approve")
    client.force_login(organiser)
    html = client.get(reverse("projects:my_sessions")).content.decode()
    assert "备案项目" in html
    assert re.search(r'class="review-reason">省继教办\[审核通过\]<', html)
    assert "审核通过" in html.split("<tbody>", 1)[1]
    assert "查看资料" in html and "二维码" in html and reverse("attendance:codes", args=[session.pk]) in html
    assert "提交申请" not in html.split("<tbody>", 1)[1]


def test_seed_001_the_return_reason_is_on_the_organisers_row(client, cast, tree):
    organiser = cast["organiser"]
    session = new_draft(organiser)
    from projects import services

    services.submit(session, organiser)
    HOSTING_WORKFLOW.review(session, cast["unit_admin"], "unit_return", "会议通知未加盖红章")
    client.force_login(organiser)
    html = client.get(reverse("projects:my_sessions")).content.decode()
    assert "单位科教科[退回修改]：会议通知未加盖红章" in html
    assert "重新提交" in html


SEED_001_PROVINCE = [
    "序号",
    "项目编号",
    "项目名称",
    "负责人",
    "会场地址",
    "开始日期",
    "结束日期",
    "学分",
    "单位",
    "查看",
    "审核",
    "审核理由",
]


def test_seed_001_province_list_has_leader_unit_review_and_reason(client, cast, tree):
    organiser = cast["organiser"]
    session = new_draft(organiser, ProjectFactory(holding_unit=tree["unit_a"], leader="测试用"))
    from projects import services

    services.submit(session, organiser)
    HOSTING_WORKFLOW.review(session, cast["unit_admin"], "forward")
    client.force_login(cast["province_admin"])
    html = client.get(reverse("projects:queue", args=["province"])).content.decode()
    assert in_order(headers(html), SEED_001_PROVINCE)
    assert "测试用" in html and "甲市人民医院" in html
    assert "退回修改" in html and "审核通过" in html
    assert re.search(r'class="review-reason">单位科教科\[待省继教办审核\]<', html)


def test_seed_001_qr_page_shows_discipline_and_year(client, cast, tree):
    parent = Discipline.objects.create(year=2026, code="03", name="临床内科学")
    heart = Discipline.objects.create(year=2026, code="03-01", name="心血管病学", parent=parent)
    project = ProjectFactory(holding_unit=tree["unit_a"], name="测试项目4", discipline=heart)
    session = held_session(cast["organiser"], tree["unit_a"], soon(), project=project)
    client.force_login(cast["organiser"])
    html = client.get(reverse("attendance:codes", args=[session.pk])).content.decode()
    fields = dict(re.findall(r"<dt[^>]*>(.*?)</dt><dd[^>]*>(.*?)</dd>", html.split("seed-fields", 1)[1]))
    assert fields["项目名称"] == "测试项目4"
    assert fields["项目编号"] == project.number
    assert fields["所属学科"] == "临床内科学/心血管病学"
    assert fields["举办年份"] == str(session.start_date.year)


# --- one pagination for every list ------------------------------------------------------------------------


@pytest.mark.parametrize("size, shown", [(10, 10), (20, 20), (50, 25), ("abc", 20), (7, 20)])
def test_every_list_takes_the_page_size_choice(client, cast, tree, size, shown):
    for _ in range(25):
        new_draft(cast["organiser"], materials=False)
    client.force_login(cast["organiser"])
    response = client.get(reverse("projects:my_sessions"), {"per_page": size})
    assert len(response.context["page_obj"].object_list) == shown
    assert "共25条" in response.content.decode()
    assert list(response.context["page_obj"].page_sizes) == [10, 20, 50]


def test_page_size_form_keeps_the_filters(client, cast, tree):
    for _ in range(3):
        new_draft(cast["organiser"], materials=False)
    client.force_login(cast["organiser"])
    html = client.get(reverse("projects:my_sessions"), {"leader": "负责人", "page": 1}).content.decode()
    size_form = html.split('name="per_page"', 1)[0].rsplit("<form", 1)[1]
    assert 'name="leader" value="负责人"' in size_form and 'name="page"' not in size_form
    assert Session.objects.count() == 3


# --- seed 000: the registration form, and 科室 picked from the unit's departments --------------------------------

SEED_000_REGISTRATION = [
    "证件类型", "证件号（用户名）", "姓名", "出生日期", "性别", "职称", "职务", "所属区域", "工作单位", "通讯地址", "科室", "密码",
    "确认密码", "手机号码", "短信验证码",
]  # fmt: skip


def test_seed_000_registration_form_asks_every_field(client, tree):
    response = client.get(reverse("accounts:register"))
    labels = field_labels(response.context["form"])
    assert set(SEED_000_REGISTRATION) <= set(labels), set(SEED_000_REGISTRATION) - set(labels)
    html = response.content.decode()
    # 科室 is a list to pick from (请选择科室), each department saying its unit; typing one stays possible.
    pick = html.split('name="department_pick"', 1)[1].split("</select>", 1)[0]
    assert "请选择科室" in pick and f'data-unit="{tree["unit_a"].pk}"' in pick and "心内科" in pick
    assert 'name="department"' in html and "科室（列表中没有时填写）" in html


def _registration(tree, **changes):
    return {
        "id_type": "resident_id",
        "id_number": "11010519491231002X",
        "name": "王秀英",
        "title": "intermediate",
        "position": "staff",
        "region": tree["city_a"].pk,
        "unit": tree["unit_a"].pk,
        "mailing_address": "甲市健康路 8 号",
        "password1": "Winter-Plum-2026",
        "password2": "Winter-Plum-2026",
        "mobile": "13912345678",
        **changes,
    }


@pytest.fixture
def register(client, django_capture_on_commit_callbacks):
    from .conftest import last_sms_code

    def run(data):
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("accounts:register"), {**data, "action": "send_code"})
        return client.post(
            reverse("accounts:register"), {**data, "sms_code": last_sms_code(data["mobile"]), "action": "register"}
        )

    return run


def test_a_department_picked_is_kept_by_name(register, tree):
    from cme_portal.accounts.models import LearnerProfile

    assert register(_registration(tree, department_pick=tree["dept_a"].pk)).status_code == 302
    assert LearnerProfile.objects.get(user__name="王秀英").department == "心内科"


def test_a_department_of_another_unit_is_refused_and_a_new_one_may_be_typed(register, tree):
    from cme_portal.accounts.models import LearnerProfile, Organisation, OrgKind

    elsewhere = Organisation.objects.create(name="急诊科", kind=OrgKind.DEPARTMENT, parent=tree["unit_b"])
    response = register(_registration(tree, department_pick=elsewhere.pk))
    assert response.status_code == 200
    assert "所选科室不属于所选工作单位" in " ".join(response.context["form"].errors["department_pick"])
    assert register(_registration(tree, department="康复医学科")).status_code == 302
    assert LearnerProfile.objects.get(user__name="王秀英").department == "康复医学科"


def test_the_profile_shows_a_known_department_as_picked(client, cast, tree):
    from cme_portal.accounts.models import LearnerProfile

    person = cast["learner"]
    LearnerProfile.objects.filter(user=person).update(department="心内科")
    client.force_login(person)
    form = client.get(reverse("accounts:profile")).context["form"]
    assert form.initial["department_pick"] == tree["dept_a"].pk and form.initial["department"] == ""
    assert "科室" in field_labels(form)
    response = client.post(reverse("accounts:profile"), {"unit": tree["unit_a"].pk, "department": "老年医学科"})
    assert response.status_code == 302 and LearnerProfile.objects.get(user=person).department == "老年医学科"


def test_seed_000_a_registered_learner_finds_their_certificates_as_the_project_list(client, cast, tree):
    project = ProjectFactory(holding_unit=tree["unit_a"], name="全国心血管病学研讨会", level="national", credits=10)
    session = held_session(cast["organiser"], tree["unit_a"], date(2026, 5, 6), date(2026, 5, 10), project=project, venue="上海")
    person = learner(unit=tree["unit_a"], name="王秀英")
    (certificate,) = certificates_for(session, [person])
    client.force_login(person)
    html = client.get(reverse("certificates:mine")).content.decode()
    assert in_order(headers(html), SEED_000_COLUMNS)
    row = html.split("<tbody>", 1)[1]
    for shown in ("全国心血管病学研讨会", "2026-05-06 — 2026-05-10", "甲市人民医院", "上海", "查看", certificate.number):
        assert shown in row
    assert "1-1 共1条" in html


# --- seed 001's check-in form and upload page, seed 004's entry fields ------------------------------------------


def test_seed_001_check_in_form_asks_the_seeds_fields():
    from attendance.forms import DoorRegistrationForm

    labels = set(field_labels(DoorRegistrationForm()))
    seed = {"身份证号码", "姓名", "性别", "年龄", "单位", "科室", "单位所在地", "是否来自基层", "职称", "职务", "学历"}
    assert seed <= labels, seed - labels
    assert any(label.startswith("手机") for label in labels)


def test_seed_001_upload_page_has_notice_schedule_and_remarks(client, cast):
    session = new_draft(cast["organiser"], materials=False)
    client.force_login(cast["organiser"])
    html = client.get(reverse("projects:session_detail", args=[session.pk])).content.decode()
    for label in ("会议通知", "会议日程", "未上传"):
        assert label in html, label
    form = client.get(reverse("projects:session_edit", args=[session.pk])).context["form"]
    assert "备注" in field_labels(form)


def test_seed_004_entry_form_asks_what_the_certificate_prints(client, cast):
    client.force_login(cast["learner"])
    labels = set(field_labels(client.get(reverse("credits:entry_new")).context["form"]))
    seed = {"活动名称", "活动编号", "发证机构", "人员编号", "开始日期", "结束日期", "学分", "学时", "举办形式", "学分类型"}
    assert seed <= labels, seed - labels


def test_seed_001_submit_from_the_row_and_back_to_the_list(client, cast):
    ready = new_draft(cast["organiser"])
    bare = new_draft(cast["organiser"], materials=False)
    client.force_login(cast["organiser"])
    back = reverse("projects:my_sessions") + "?per_page=10"
    for session in (ready, bare):
        response = client.post(reverse("projects:session_action", args=[session.pk]), {"action": "submit", "next": back})
        assert response.status_code == 302 and response["Location"] == back
    ready.refresh_from_db()
    bare.refresh_from_db()
    assert ready.state == "submitted" and bare.state == "draft"  # the materials are asked for first
