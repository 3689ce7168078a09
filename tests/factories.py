"""Factories for the people and places the workflows involve."""

from datetime import date

import factory
from stdnum.cn import ric

from cme_portal.accounts.models import (
    DocumentType,
    LearnerProfile,
    Organisation,
    OrgKind,
    Role,
    RoleAssignment,
    Sex,
    User,
)

PASSWORD = "Correct-Horse-42"


def resident_id(n, birth=date(1985, 5, 20), region="330106", sex=Sex.MALE):
    """The n-th valid resident ID number for a given birth date and region."""
    body = f"{region}{birth:%Y%m%d}{n % 100:02d}{1 if sex == Sex.MALE else 2}"
    return body + ric.calc_check_digit(body + "0")  # stdnum ignores the last character


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"机构{n}")
    kind = OrgKind.UNIT


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    id_type = DocumentType.RESIDENT_ID
    id_number = factory.Sequence(lambda n: resident_id(n, birth=date(1980 + n // 100 % 20, 1, 1)))
    name = factory.Sequence(lambda n: f"学员{n}")
    mobile = factory.Sequence(lambda n: f"138{n:08d}")
    password = factory.django.Password(PASSWORD)


def make_tree():
    """province → two cities (one with a district) → units → departments."""
    province = OrganisationFactory(name="测试省", kind=OrgKind.PROVINCE)
    city_a = OrganisationFactory(name="甲市", kind=OrgKind.CITY, parent=province)
    city_b = OrganisationFactory(name="乙市", kind=OrgKind.CITY, parent=province)
    district = OrganisationFactory(name="甲市东区", kind=OrgKind.DISTRICT, parent=city_a)
    unit_a = OrganisationFactory(name="甲市人民医院", parent=city_a)
    unit_a2 = OrganisationFactory(name="甲市东区社区卫生服务中心", parent=district, is_grassroots=True)
    unit_b = OrganisationFactory(name="乙市第一医院", parent=city_b)
    dept_a = OrganisationFactory(name="心内科", kind=OrgKind.DEPARTMENT, parent=unit_a)
    return dict(
        province=province, city_a=city_a, city_b=city_b, district=district,
        unit_a=unit_a, unit_a2=unit_a2, unit_b=unit_b, dept_a=dept_a,
    )


def learner(unit=None, **kwargs):
    user = UserFactory(**kwargs)
    LearnerProfile.objects.create(user=user, unit=unit, sex=Sex.MALE, birth_date=date(1985, 5, 20))
    RoleAssignment.objects.create(user=user, role=Role.LEARNER, org=unit)
    return user


def staff(role, node, **kwargs):
    user = learner(unit=node if node.kind == OrgKind.UNIT else None, **kwargs)
    RoleAssignment.objects.create(user=user, role=role, org=node)
    return user
