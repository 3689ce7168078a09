"""Each category's rule, and every refusal at entry (W5, seeds 003 and 004)."""

from datetime import date
from decimal import Decimal as D

import pytest

from cme_portal.errors import DomainError
from credits.models import Category, CreditLevel
from credits.rules import check_entry
from projects.imports import import_projects

pytestmark = pytest.mark.django_db


def entry(**overrides):
    base = dict(
        category=Category.PROVINCIAL_II,
        activity_number="",
        issuer="浙江省医学会",
        credit_class="II",
        credits=D("2"),
        hours=D("12"),
        start_date=date(2026, 5, 1),
        end_date=date(2026, 5, 2),
        certificate_date=None,
        lecturer=False,
    )
    return check_entry(**{**base, **overrides})


def refused(**overrides):
    with pytest.raises(DomainError) as error:
        entry(**overrides)
    return error.value


def test_district_class_ii_is_six_hours_a_credit():
    assert entry(category=Category.DISTRICT_II, hours=D("12"), credits=D("2")).level == CreditLevel.DISTRICT
    error = refused(category=Category.DISTRICT_II, hours=D("12"), credits=D("3"))
    assert error.code == "rate" and "12 学时应为 2 学分" in error.message
    assert refused(category=Category.DISTRICT_II, credit_class="I", hours=D("12"), credits=D("2")).code == "class"


def test_provincial_class_i_six_hours_a_credit_lecturers_one_an_hour():
    ok = entry(
        category=Category.PROVINCIAL_I, credit_class="I", activity_number="2026330301001 (省)", hours=D("18"), credits=D("3")
    )
    assert ok.level == CreditLevel.PROVINCIAL and ok.activity_key == "2026330301001(省)"
    assert refused(category=Category.PROVINCIAL_I, credit_class="I", hours=D("18"), credits=D("4")).code == "rate"
    lecturer = entry(category=Category.PROVINCIAL_I, credit_class="I", hours=D("4"), credits=D("4"), lecturer=True)
    assert lecturer.level == CreditLevel.PROVINCIAL
    assert refused(category=Category.PROVINCIAL_I, credit_class="I", hours=D("4"), credits=D("5"), lecturer=True).code == "rate"
    assert refused(category=Category.PROVINCIAL_II, credit_class="II", activity_number="2021-03-05-129（国）").code == "level"


def test_national_class_i_needs_a_national_number_and_three_hours_a_credit():
    ok = entry(
        category=Category.NATIONAL_I, credit_class="I", activity_number="2022-03-03-006(国)", hours=D("30"), credits=D("10")
    )
    assert ok.level == CreditLevel.NATIONAL and ok.activity_key == "2022-03-03-006(国)"
    assert (
        refused(
            category=Category.NATIONAL_I, credit_class="I", activity_number="2022-03-03-006(国)", hours=D("30"), credits=D("11")
        ).code
        == "rate"
    )
    assert refused(category=Category.NATIONAL_I, credit_class="I", activity_number="2026330301001 (省)").code == "not_national"


def test_a_national_number_without_its_mark_is_refused():
    error = refused(category=Category.NATIONAL_I, credit_class="I", activity_number="2022-03-03-006")
    assert error.code == "number_without_mark" and "不要省略（国）" in error.message


def test_out_of_province_takes_national_class_i_or_the_six_societies():
    national = entry(category=Category.OUT_OF_PROVINCE, credit_class="I", activity_number="2022-03-03-006（国）")
    assert national.level == CreditLevel.OUT_OF_PROVINCE_NATIONAL
    assert (
        refused(
            category=Category.OUT_OF_PROVINCE,
            credit_class="I",
            activity_number="2022-03-03-006（国）",
            hours=D("6"),
            credits=D("3"),
        ).code
        == "rate"
    )  # the national rate applies out of province too
    society = entry(
        category=Category.OUT_OF_PROVINCE, credit_class="I", activity_number="中华护理学会2022-018", issuer="中华护理学会"
    )
    assert society.level == CreditLevel.OUT_OF_PROVINCE_SOCIETY
    assert (
        refused(category=Category.OUT_OF_PROVINCE, credit_class="I", activity_number="苏继教2022-1", issuer="江苏省医学会").code
        == "out_of_province"
    )
    assert refused(category=Category.OUT_OF_PROVINCE, credit_class="II", activity_number="2022-03-03-006（国）").code == "class"


def test_a_remote_filed_number_is_refused_with_who_reports_it():
    import_projects("fixtures/remote_filed_2021.xlsx", entry="remote_filed")
    error = refused(
        category=Category.OUT_OF_PROVINCE,
        credit_class="I",
        activity_number="2021-03-05-129 (国)",
        start_date=date(2021, 3, 27),
        end_date=date(2021, 3, 28),
    )
    assert error.code == "remote_filed" and "承办" in error.message


def test_advanced_study_counts_in_the_certificates_year_at_five_a_month():
    stay = entry(
        category=Category.ADVANCED_STUDY,
        credit_class="I",
        credits=D("25"),
        hours=D("0"),
        start_date=date(2025, 9, 1),
        end_date=date(2026, 2, 28),
        certificate_date=date(2026, 3, 10),
    )
    assert stay.year == 2026
    error = refused(
        category=Category.ADVANCED_STUDY,
        credit_class="I",
        credits=D("20"),
        hours=D("0"),
        start_date=date(2026, 1, 1),
        end_date=date(2026, 3, 31),
        certificate_date=date(2026, 4, 1),
    )
    assert error.code == "rate" and "3 个月最多 15 学分" in error.message
    assert refused(category=Category.ADVANCED_STUDY, credit_class="I", certificate_date=None).code == "certificate_date"


RESIDENT = dict(residency_years=1, training_year=1, annual_assessment_passed=True)


@pytest.mark.parametrize("category, fields", [(Category.COUNTERPART_SUPPORT, {}), (Category.RESIDENCY, RESIDENT)])
def test_counterpart_support_and_residency_up_to_a_full_year(category, fields):
    assert entry(category=category, credit_class="I", credits=D("25"), **fields).level == CreditLevel.OTHER
    assert refused(category=category, credit_class="I", credits=D("26"), **fields).code == "credits"


def test_tcm_national_is_class_i_only_provincial_either():
    assert entry(category=Category.TCM_NATIONAL, credit_class="I").level == CreditLevel.NATIONAL
    assert refused(category=Category.TCM_NATIONAL, credit_class="II").code == "class"
    assert entry(category=Category.TCM_PROVINCIAL, credit_class="II").level == CreditLevel.PROVINCIAL


def test_awards_and_platform_credits_are_not_entered_by_hand():
    assert refused(category=Category.PLATFORM).code == "category"


@pytest.mark.parametrize(
    "overrides, code, field",
    [
        ({"start_date": date(2026, 5, 3), "end_date": date(2026, 5, 1)}, "dates", "end_date"),
        ({"category": Category.PROVINCIAL_I, "credit_class": "II"}, "class", "credit_class"),
        ({"category": Category.PROVINCIAL_II, "credit_class": "I"}, "class", "credit_class"),
        (
            {"category": Category.NATIONAL_I, "activity_number": "2026-03-01-001（国）", "credit_class": "II", "hours": D("12")},
            "class",
            "credit_class",
        ),
        (
            {
                "category": Category.ADVANCED_STUDY,
                "credit_class": "I",
                "credits": D("5"),
                "hours": D("0"),
                "start_date": date(2026, 1, 1),
                "end_date": date(2026, 3, 31),
                "certificate_date": date(2026, 3, 1),
            },
            "certificate_date",
            "certificate_date",
        ),
    ],
)
def test_each_class_and_date_refusal_names_its_field(overrides, code, field):
    """The service refuses these itself, not only the form (a batch or an import calls it directly)."""
    error = refused(**overrides)
    assert (error.code, error.field) == (code, field)
