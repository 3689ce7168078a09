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
        province=province,
        city_a=city_a,
        city_b=city_b,
        district=district,
        unit_a=unit_a,
        unit_a2=unit_a2,
        unit_b=unit_b,
        dept_a=dept_a,
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


# --- projects -----------------------------------------------------------------


def pdf_bytes(text="notice"):
    import io

    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 760, text)
    page.save()
    return buffer.getvalue()


def pdf_upload(name="notice.pdf"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, pdf_bytes(name), "application/pdf")


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "projects.Project"

    number = factory.Sequence(lambda n: f"2026330301{n:03d} (省)")
    number_key = factory.LazyAttribute(lambda o: __import__("projects.numbers", fromlist=["canonical"]).canonical(o.number))
    name = factory.Sequence(lambda n: f"继续教育项目{n}")
    level = "provincial"
    credit_class = "I"
    entry = "declared"
    leader = "负责人"
    year = 2026
    credits = 5
    hours = 30


def session_for(organiser, project=None, *, materials=True, **fields):
    """A draft hosting application of ``organiser`` (with both materials unless told otherwise)."""
    from datetime import date

    from projects import services

    unit = services.organiser_unit(organiser)
    project = project or ProjectFactory(holding_unit=unit)
    defaults = dict(venue="甲市会议中心", start_date=date(2026, 12, 1), end_date=date(2026, 12, 2), credits=5, hours=30)
    session = services.apply_to_host(organiser, project, **{**defaults, **fields})
    if materials:
        services.attach_material(session, organiser, "notice", pdf_upload("notice.pdf"))
        services.attach_material(session, organiser, "schedule", pdf_upload("schedule.pdf"))
    return session


# --- objects built through the services, as the workflows build them -----------------


def approved_session(organiser, unit_admin, province_admin, project=None, **fields):
    """A hosting application filed, forwarded by the unit and approved by the province."""
    from projects import services
    from projects.models import HOSTING_WORKFLOW

    session = session_for(organiser, project, **fields)
    services.submit(session, organiser)
    HOSTING_WORKFLOW.review(session, unit_admin, "forward")
    HOSTING_WORKFLOW.review(session, province_admin, "approve")
    return session


ENTRY = dict(
    category="national_i",
    activity_name="心力衰竭诊治新进展",
    activity_number="2026-03-01-001（国）",
    issuer="中华医学会",
    credit_class="I",
    credits=8,
    hours=24,
    start_date=date(2026, 5, 10),
    end_date=date(2026, 5, 12),
    certificate_date=None,
    lecturer=False,
)


def credit_entry(person, **fields):
    """A learner's own entry with a one-page PDF as evidence, submitted to the unit."""
    from decimal import Decimal

    from credits import services

    data = {**ENTRY, **fields}
    data["credits"], data["hours"] = Decimal(str(data["credits"])), Decimal(str(data["hours"]))
    return services.enter_credit(person, evidence=[pdf_upload("evidence.pdf")], **data)


def ledger_row(person, **fields):
    """An effective row of the ledger (for reports and corrections that start from held credits)."""
    from decimal import Decimal

    from credits.models import CreditRecord

    defaults = dict(
        year=2026,
        credit_class="I",
        level="provincial",
        category="provincial_i",
        credits=Decimal("5"),
        hours=Decimal("30"),
        source="own",
        activity_name="省级学习班",
    )
    return CreditRecord.objects.create(learner=person, **{**defaults, **fields})


def certificates_for(session, people):
    """Award ``session``'s credits to ``people`` and render their certificates; returns the certificates."""
    from certificates.models import Certificate
    from certificates.services import render_certificate
    from credits.services import award

    records = award(session, people)
    for record in records:
        render_certificate(record.pk)
    return list(Certificate.objects.filter(record__in=records).order_by("pk"))


def door_open_today(organiser, unit, name="基层心血管疾病诊治进展学习班"):
    """An approved one-day session today whose doors are open all day (the phone and desk tests' hall)."""
    from datetime import time

    from django.utils import timezone

    from attendance.models import AttendancePlan

    today = timezone.localdate()
    project = ProjectFactory(holding_unit=unit, name=name)
    session = held_session(organiser, unit, today, project=project, venue="甲市会议中心", credits=3, hours=8)
    AttendancePlan.objects.create(session=session, day_start=time(0, 0), day_end=time(23, 59))
    return session


def held_session(organiser, unit, start, end=None, project=None, **fields):
    """An approved session of ``unit``, on file as if its application had passed (for attendance and its rules)."""
    from projects.models import Session

    defaults = dict(venue="甲市", credits=5, hours=8, state="approved")
    project = project or ProjectFactory(holding_unit=unit)
    return Session.objects.create(
        project=project, organiser=organiser, unit=unit, start_date=start, end_date=end or start, **{**defaults, **fields}
    )
