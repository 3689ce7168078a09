"""Learners complete what registration or a check-in desk left blank."""

import pytest
from django.urls import reverse

from cme_portal.accounts.models import DocumentType, LearnerProfile, Role, Sex

from .factories import UserFactory, learner

pytestmark = pytest.mark.django_db

URL = reverse("accounts:profile")


def test_profile_page_lists_what_is_missing_and_saves(client, tree):
    user = UserFactory(id_type=DocumentType.PASSPORT, id_number="E12345678")
    LearnerProfile.objects.create(user=user)
    client.force_login(user)

    page = client.get(URL).content.decode()
    assert "以下信息尚未填写" in page and "性别" in page

    response = client.post(
        URL,
        {
            "sex": Sex.FEMALE,
            "birth_date": "1988-08-08",
            "title": "intermediate",
            "position": "staff",
            "education": "master",
            "region": tree["city_a"].pk,
            "unit": tree["unit_a"].pk,
            "unit_name": "",
            "department": "心内科",
            "unit_location": "甲市",
            "grassroots": "False",
            "mailing_address": "甲市一路 1 号",
            "email": "w@example.org",
        },
    )
    assert response.status_code == 302
    profile = LearnerProfile.objects.get(user=user)
    assert profile.sex == Sex.FEMALE and profile.unit == tree["unit_a"] and profile.grassroots is False
    assert profile.missing_fields() == []
    user.refresh_from_db()
    assert user.email == "w@example.org"
    assert user.roles.get(role=Role.LEARNER).org == tree["unit_a"]


def test_resident_id_fixes_birth_date_and_sex(client, tree):
    user = learner(unit=tree["unit_a"])
    client.force_login(user)
    client.post(URL, {"sex": Sex.FEMALE, "birth_date": "2000-01-01", "unit": tree["unit_a"].pk, "title": "junior"})
    profile = LearnerProfile.objects.get(user=user)
    assert profile.sex == Sex.MALE and profile.birth_date.year == 1985


def test_profile_needs_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
