"""Early review as seed 003 has it: this year's candidates of the titles the province names, until its
deadline, with the stamped application letter (单位 / 姓名 / 身份证号 / 手机号)."""

import io
from datetime import date, timedelta

import pytest
from django.urls import reverse
from pypdf import PdfReader

from credits.models import CreditPolicy, EarlyReviewRequest

from .factories import learner

pytestmark = pytest.mark.django_db


@pytest.fixture
def candidates(tree):
    return [
        learner(unit=tree["unit_a"], name=name, mobile=mobile)
        for name, mobile in (("陈晋升", "13611110001"), ("林晋升", "13611110002"))
    ]


def ask(client, who, people, title="副高"):
    client.force_login(who)
    return client.post(reverse("credits:early_review"), {"candidates": [p.pk for p in people], "title": title})


def test_closed_until_the_province_opens_it(client, cast, candidates):
    response = ask(client, cast["unit_admin"], candidates)
    assert "尚未开放" in response.content.decode() and not EarlyReviewRequest.objects.exists()


def test_the_unit_names_candidates_until_the_deadline_and_prints_the_letter(client, cast, tree, candidates):
    deadline = date.today() + timedelta(days=10)
    CreditPolicy.objects.create(
        province=tree["province"], earliest_year=2022, early_review_deadline=deadline, early_review_titles="副高,正高"
    )
    assert ask(client, cast["unit_admin"], candidates).status_code == 302
    early = EarlyReviewRequest.objects.get()
    assert (early.title, early.deadline, set(early.candidates.all())) == ("副高", deadline, set(candidates))

    letter = client.get(reverse("credits:early_review_letter", args=[early.pk]))
    assert letter["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(letter.content)).pages)
    for expected in (
        "关于提前审核学分的申请",
        "测试省继续医学教育委员会办公室",
        "副高",
        "共 2 人",
        "甲市人民医院",
        "陈晋升",
        candidates[0].id_number,
        "13611110001",
        "林晋升",
        "单位盖章",
    ):
        assert expected in text, expected
    client.force_login(cast["other_unit_admin"])
    assert client.get(reverse("credits:early_review_letter", args=[early.pk])).status_code == 404


def test_refused_after_the_deadline_and_for_other_titles(client, cast, tree, candidates):
    policy = CreditPolicy.objects.create(
        province=tree["province"], earliest_year=2022, early_review_deadline=date.today() + timedelta(days=3)
    )
    wrong_title = ask(client, cast["unit_admin"], candidates, title="正高")
    assert wrong_title.status_code == 200 and not EarlyReviewRequest.objects.exists()
    policy.early_review_deadline = date.today() - timedelta(days=1)
    policy.save()
    late = ask(client, cast["unit_admin"], candidates)
    assert "已于" in late.content.decode() and "截止" in late.content.decode()
    assert not EarlyReviewRequest.objects.exists()


def test_only_the_units_own_learners(client, cast, tree, candidates):
    CreditPolicy.objects.create(
        province=tree["province"], earliest_year=2022, early_review_deadline=date.today() + timedelta(days=3)
    )
    ask(client, cast["unit_admin"], [cast["other_learner"]])
    assert not EarlyReviewRequest.objects.exists()


def test_the_service_refuses_a_candidate_of_another_unit(cast, tree, candidates):
    """The page lists only the unit's learners; the service holds the rule for any other caller too."""
    from cme_portal.errors import DomainError
    from credits import services

    CreditPolicy.objects.create(
        province=tree["province"], earliest_year=2022, early_review_deadline=date.today() + timedelta(days=3)
    )
    with pytest.raises(DomainError) as refused:
        services.request_early_review(cast["unit_admin"], candidates=[candidates[0], cast["other_learner"]], title="副高")
    assert refused.value.code == "not_of_unit" and "孙学员" in str(refused.value.message)
    assert not EarlyReviewRequest.objects.exists()
