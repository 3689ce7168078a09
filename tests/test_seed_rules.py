"""Issue 17's rules at entry: residency training (seed 003), the online/offline evidence checklist, the province's
TCM switch and 人员编号 (seed 004). Each refusal is shown on the field, in Chinese, and enters nothing."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.urls import reverse

from cme_portal.accounts.models import LearnerProfile
from cme_portal.errors import DomainError
from credits.models import Category, CreditEntry, CreditLevel, CreditPolicy
from credits.rules import check_entry

from .factories import credit_entry, pdf_upload

pytestmark = pytest.mark.django_db

BASE = dict(
    activity_number="",
    issuer="浙江大学医学院附属第一医院",
    credit_class="I",
    credits=D("10"),
    hours=D("0"),
    start_date=date(2025, 9, 1),
    end_date=date(2026, 8, 31),
    certificate_date=None,
    lecturer=False,
)


def residency(**fields):
    return check_entry(**{**BASE, "category": Category.RESIDENCY, **fields})


def refused(call, **fields):
    with pytest.raises(DomainError) as error:
        call(**fields)
    return error.value


# --- seed 003: 规培 -----------------------------------------------------------------------------------------


def test_three_year_trainees_are_credited_each_year_on_the_annual_assessment():
    for year in (1, 2):
        assert residency(residency_years=3, training_year=year, annual_assessment_passed=True).level == CreditLevel.OTHER
        error = refused(residency, residency_years=3, training_year=year, annual_assessment_passed=False)
        assert (error.code, error.field) == ("annual_assessment", "annual_assessment_passed")
        assert f"第 {year} 年的年度考核合格后才可录入" in error.message


def test_the_last_year_of_three_only_on_passing_the_final_assessment():
    error = refused(residency, residency_years=3, training_year=3, annual_assessment_passed=True)
    assert (error.code, error.field) == ("final_assessment", "final_assessment_passed")
    assert "最后一年" in error.message and "结业" in error.message
    assert residency(residency_years=3, training_year=3, final_assessment_passed=True).level == CreditLevel.OTHER


def test_one_year_trainees_on_the_annual_assessment():
    assert residency(residency_years=1, training_year=1, annual_assessment_passed=True).level == CreditLevel.OTHER
    assert refused(residency, residency_years=1, training_year=1).code == "annual_assessment"
    # A one-year programme's only year is not a "last year of three": the final assessment alone does not do.
    assert refused(residency, residency_years=1, training_year=1, final_assessment_passed=True).code == "annual_assessment"


@pytest.mark.parametrize(
    "fields, code",
    [
        ({}, "residency_years"),
        ({"residency_years": 2, "training_year": 1, "annual_assessment_passed": True}, "residency_years"),
        ({"residency_years": 3, "annual_assessment_passed": True}, "training_year"),
        ({"residency_years": 1, "training_year": 2, "annual_assessment_passed": True}, "training_year"),
        ({"residency_years": 3, "training_year": 4, "final_assessment_passed": True}, "training_year"),
    ],
)
def test_the_programme_and_the_training_year_are_asked(fields, code):
    error = refused(residency, **fields)
    assert error.code == code == error.field


def test_each_training_year_is_credited_once(cast):
    fields = dict(BASE, category="residency", residency_years=3, training_year=2, annual_assessment_passed=True)
    fields.pop("activity_number")
    credit_entry(cast["learner"], activity_number="", **fields)
    error = refused(credit_entry, person=cast["learner"], activity_number="", **fields)
    assert error.code == "duplicate" and "第 2 年的规培学分已有录入" in error.message
    credit_entry(cast["learner"], activity_number="", **{**fields, "training_year": 1})
    assert CreditEntry.objects.filter(category="residency").count() == 2


def test_the_learner_is_told_on_the_form(client, cast):
    client.force_login(cast["learner"])
    data = {
        "category": "residency",
        "activity_name": "住院医师规范化培训（内科）",
        "issuer": "甲市人民医院",
        "credit_class": "I",
        "start_date": "2025-09-01",
        "end_date": "2026-08-31",
        "credits": "10",
        "hours": "0",
        "residency_years": "3",
        "training_year": "3",
        "annual_assessment_passed": "on",
        "evidence": [pdf_upload()],
    }
    response = client.post(reverse("credits:entry_new"), data)
    assert response.status_code == 200 and not CreditEntry.objects.exists()
    assert "最后（结业）考核成绩合格才可授分" in " ".join(response.context["form"].errors["final_assessment_passed"])
    data.update(final_assessment_passed="on", evidence=[pdf_upload()])
    assert client.post(reverse("credits:entry_new"), data).status_code == 302
    entry = CreditEntry.objects.get()
    assert (entry.residency_years, entry.training_year, entry.final_assessment_passed) == (3, 3, True)


# --- seed 004: online / offline evidence ------------------------------------------------------------------------

OOP = dict(category="out_of_province", activity_number="2026-04-01-002（国）", issuer="中华医学会", credits=3, hours=9)
ONLINE_ITEMS = ["certificate", "notice", "cme_query", "invoice"]
OFFLINE_ITEMS = [*ONLINE_ITEMS, "approval", "travel"]


def test_out_of_province_asks_whether_online_or_offline(cast):
    error = refused(credit_entry, person=cast["learner"], **OOP, evidence_items=OFFLINE_ITEMS)
    assert (error.code, error.field) == ("mode", "mode") and "线上或线下" in error.message


def test_online_may_omit_the_units_approval_form(cast):
    entry = credit_entry(cast["learner"], **OOP, mode="online", evidence_items=ONLINE_ITEMS)
    assert entry.mode == "online" and entry.evidence_items == ONLINE_ITEMS
    error = refused(
        credit_entry,
        person=cast["learner"],
        **{**OOP, "activity_number": "2026-04-01-003（国）"},
        mode="online",
        evidence_items=["certificate", "notice", "cme_query"],
    )
    assert (error.code, error.field) == ("evidence_missing", "evidence_items")
    assert "培训缴费发票" in error.message and "审批单可不提供" in error.message


def test_offline_adds_the_approval_form_and_travel_tickets_or_a_reimbursement_slip(cast):
    for missing, named in (("travel", "本人出行飞机（动车）票或单位报销单"), ("approval", "单位同意外出学习审批单")):
        items = [item for item in OFFLINE_ITEMS if item != missing]
        error = refused(credit_entry, person=cast["learner"], **OOP, mode="offline", evidence_items=items)
        assert error.code == "evidence_missing" and named in error.message and "线下项目" in error.message
    assert not CreditEntry.objects.exists()
    assert credit_entry(cast["learner"], **OOP, mode="offline", evidence_items=OFFLINE_ITEMS).mode == "offline"


def test_the_checklist_is_out_of_province_only(cast):
    # A provincial credit's evidence is its certificate; the form of the activity may be given or not.
    entry = credit_entry(cast["learner"], category="provincial_ii", activity_number="", credit_class="II", credits=2, hours=12)
    assert entry.mode == "" and entry.evidence_items == []


def test_the_form_shows_the_mode_and_the_checklist(client, cast):
    client.force_login(cast["learner"])
    html = client.get(reverse("credits:entry_new")).content.decode()
    for label in ("举办形式", "线上", "线下", "单位同意外出学习审批单", "本人出行飞机（动车）票或单位报销单"):
        assert label in html


# --- seed 004: the province's TCM switch -----------------------------------------------------------------------

TCM = dict(category="tcm_national", activity_number="", issuer="国家中医药管理局", credits=5, hours=30)


def test_tcm_is_offered_and_accepted_by_default(client, cast):
    client.force_login(cast["learner"])
    choices = dict(client.get(reverse("credits:entry_new")).context["form"].fields["category"].choices)
    assert "tcm_national" in choices and "tcm_provincial" in choices
    assert credit_entry(cast["learner"], **TCM).category == "tcm_national"


def test_a_province_without_tcm_neither_offers_nor_accepts_it(client, cast, tree):
    client.force_login(cast["province_admin"])
    response = client.post(
        reverse("credits:entry_policy"),
        {"form": "policy", "policy-earliest_year": 2022, "policy-platform_days": 30, "policy-early_review_titles": "副高"},
    )
    assert response.status_code == 302
    assert CreditPolicy.objects.get(province=tree["province"]).handles_tcm is False  # the box left unticked
    client.force_login(cast["learner"])
    choices = dict(client.get(reverse("credits:entry_new")).context["form"].fields["category"].choices)
    assert "tcm_national" not in choices and "tcm_provincial" not in choices and "national_i" in choices
    for category in ("tcm_national", "tcm_provincial"):
        error = refused(credit_entry, person=cast["learner"], **{**TCM, "category": category})
        assert (error.code, error.field) == ("tcm_not_handled", "category") and "中医学分" in error.message
    assert not CreditEntry.objects.exists()


# --- seed 004: 人员编号 --------------------------------------------------------------------------------------------


def test_the_personnel_number_must_be_the_learners_own(cast):
    person = cast["learner"]
    LearnerProfile.objects.filter(user=person).update(personnel_number="ZJ330100123")
    error = refused(credit_entry, person=person, personnel_number="ZJ330100999")
    assert (error.code, error.field) == ("personnel_number_mismatch", "personnel_number")
    assert "ZJ330100999" in error.message and "不一致" in error.message
    # Typed as printed: full-width characters, spaces and lower case are the same number.
    entry = credit_entry(person, personnel_number="ｚｊ 330100123")
    assert entry.personnel_number == "ｚｊ 330100123"


def test_a_personnel_number_needs_one_on_the_profile_and_blank_is_not_compared(cast):
    person = cast["learner"]
    error = refused(credit_entry, person=person, personnel_number="ZJ330100123")
    assert error.code == "personnel_number_missing" and "个人信息" in error.message
    assert credit_entry(person, personnel_number="").personnel_number == ""


def test_the_profile_keeps_the_personnel_number_and_the_form_refuses_a_mismatch(client, cast, tree):
    person = cast["learner"]
    client.force_login(person)
    page = client.get(reverse("accounts:profile"))
    assert "人员编号" in [str(f.label) for f in page.context["form"]]
    response = client.post(reverse("accounts:profile"), {"personnel_number": " zj330100123 ", "unit": tree["unit_a"].pk})
    assert response.status_code == 302
    assert LearnerProfile.objects.get(user=person).personnel_number == "ZJ330100123"
    data = {
        "category": "provincial_ii",
        "activity_name": "省级学习班",
        "issuer": "浙江省医学会",
        "credit_class": "II",
        "start_date": "2026-05-01",
        "end_date": "2026-05-02",
        "credits": "2",
        "hours": "12",
        "personnel_number": "ZJ000",
        "evidence": [pdf_upload()],
    }
    refused_page = client.post(reverse("credits:entry_new"), data)
    assert "不一致" in " ".join(refused_page.context["form"].errors["personnel_number"])
    data.update(personnel_number="ZJ330100123", evidence=[pdf_upload()])
    assert client.post(reverse("credits:entry_new"), data).status_code == 302


# --- seed 004: the remote-filed list's as-of date (2021年异地备案项目（截止11月16日）) -----------------------------


@pytest.fixture
def remote_filed(cast, tree):
    from projects.models import Project

    return Project.objects.create(
        number="2021-03-05-129（国）",
        number_key="2021-03-05-129(国)",
        name="“围透析器”肾病患者的康复管理",
        level="national",
        entry="remote_filed",
        sponsor="中国康复医学会肾脏病康复专业委员会",
        leader="边学燕",
        co_organiser="乙市第一医院",
        co_organiser_unit=tree["unit_b"],
        year=2026,
        credits=4,
        hours=12,
    )


def listed_as_of(cast, day):
    from projects.models import CatalogueImport

    return CatalogueImport.objects.create(
        entry="remote_filed", as_of=day, state="done", original_name="异地备案.xlsx", requested_by=cast["province_admin"]
    )


REMOTE = dict(category="national_i", activity_number="2021-03-05-129（国）", issuer="中国康复医学会", credits=4, hours=12)


def test_the_learners_refusal_names_the_lists_as_of_date(cast, remote_filed):
    error = refused(credit_entry, person=cast["learner"], **REMOTE)
    assert error.code == "remote_filed" and "截止" not in error.message and "异地备案项目名单" in error.message
    listed_as_of(cast, date(2021, 11, 16))
    error = refused(credit_entry, person=cast["learner"], **REMOTE)
    assert "见异地备案项目名单，截止 2021-11-16" in error.message and "乙市第一医院" in error.message


def test_the_catalogue_and_co_organiser_pages_show_the_as_of_date(client, cast, remote_filed):
    listed_as_of(cast, date(2021, 11, 16))
    client.force_login(cast["province_admin"])
    assert "异地备案项目名单截止 2021-11-16" in client.get(reverse("projects:co_organisers")).content.decode()
    assert "截止 2021-11-16" in client.get(reverse("projects:project_import")).content.decode()
    client.force_login(cast["other_unit_admin"])  # 乙市第一医院: the co-organiser
    html = client.get(reverse("credits:batch_new")).content.decode()
    box = html.split("co-organised", 1)[1]
    assert "本单位协办的异地备案项目" in html and "名单截止 2021-11-16" in box and remote_filed.name in box
    client.force_login(cast["unit_admin"])  # another unit co-organises nothing
    assert "本单位协办的异地备案项目" not in client.get(reverse("credits:batch_new")).content.decode()


def test_the_queues_catalogue_box_shows_the_as_of_date(client, cast, tree, remote_filed):
    from credits.services import batch_enter

    listed_as_of(cast, date(2021, 11, 16))
    data = dict(
        category="national_i",
        activity_name=remote_filed.name,
        activity_number=remote_filed.number,
        issuer=remote_filed.sponsor,
        credit_class="I",
        credits=D("4"),
        hours=D("12"),
        start_date=date(2026, 3, 27),
        end_date=date(2026, 3, 28),
        certificate_date=None,
        lecturer=False,
    )
    batch_enter(cast["other_unit_admin"], [cast["learner"]], evidence=[pdf_upload()], **data)
    client.force_login(cast["other_city_admin"])
    html = client.get(reverse("credits:queue", args=["city"])).content.decode()
    assert "异地备案项目（名单截止 2021-11-16）" in html


def test_reviewers_see_the_form_the_evidence_the_training_year_and_the_personnel_number(client, cast):
    LearnerProfile.objects.filter(user=cast["learner"]).update(personnel_number="ZJ330100123")
    offline = credit_entry(cast["learner"], **OOP, mode="offline", evidence_items=OFFLINE_ITEMS, personnel_number="ZJ330100123")
    fields = dict(BASE, category="residency", residency_years=3, training_year=3, final_assessment_passed=True)
    fields.pop("activity_number")
    trainee = credit_entry(cast["learner"], activity_number="", **fields)
    client.force_login(cast["unit_admin"])
    html = client.get(reverse("credits:entry_detail", args=[offline.pk])).content.decode()
    assert "举办形式" in html and "线下" in html and "本人出行飞机（动车）票或单位报销单" in html and "ZJ330100123" in html
    html = client.get(reverse("credits:entry_detail", args=[trainee.pk])).content.decode()
    assert "规培 3 年 · 第 3 年" in html and "结业考核合格" in html


def test_the_tcm_switch_is_the_provinces_own(cast, tree):
    """Zhejiang turns TCM off; a neighbouring province keeps it (the default)."""
    from cme_portal.accounts.models import Organisation, OrgKind

    from .factories import learner

    other_province = Organisation.objects.create(name="邻省", kind=OrgKind.PROVINCE)
    other_city = Organisation.objects.create(name="邻市", kind=OrgKind.CITY, parent=other_province)
    neighbour = learner(unit=Organisation.objects.create(name="邻市医院", kind=OrgKind.UNIT, parent=other_city))
    CreditPolicy.objects.create(province=tree["province"], earliest_year=2022, handles_tcm=False)
    assert refused(credit_entry, person=cast["learner"], **TCM).code == "tcm_not_handled"
    assert credit_entry(neighbour, **TCM).category == "tcm_national"


def test_seed_004s_list_with_its_own_headers_imports(cast, tree):
    """序号 项目编号 项目名称 主办单位 项目负责人 协办单位 举办日期 I类学分, as the seed prints the list."""
    import io

    import openpyxl

    from projects.imports import import_projects
    from projects.models import Project

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["序号", "项目编号", "项目名称", "主办单位", "项目负责人", "协办单位", "举办日期", "I类学分"])
    sheet.append(
        [1, "2021-03-05-129（国）", "“围透析器”肾病患者的康复管理", "中国康复医学会肾脏病康复专业委员会", "边学燕",
         "乙市第一医院", "2021年3月27日-3月28日", "国家级I类4分"]
    )  # fmt: skip
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    assert import_projects(buffer, entry="remote_filed") == 1
    project = Project.objects.get()
    assert (project.credits, project.co_organiser_unit) == (4, tree["unit_b"])


def test_residency_fields_typed_for_another_category_are_not_kept(cast):
    entry = credit_entry(cast["learner"], residency_years=3, training_year=5, annual_assessment_passed=True)
    assert entry.category == "national_i" and (entry.residency_years, entry.training_year) == (None, None)
    assert entry.annual_assessment_passed is False


def test_an_unknown_form_of_activity_is_refused_by_name_not_by_the_database(cast):
    error = refused(credit_entry, person=cast["learner"], mode="hybrid")
    assert (error.code, error.field) == ("mode", "mode") and "线上或线下" in error.message
