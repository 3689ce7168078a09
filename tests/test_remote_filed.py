"""Seed 004: remote-filed projects come in through their in-province co-organiser, the one path for them.

Run over the demo catalogue's 28 rows and the demo tree: each project is refused at a learner's entry
with its co-organiser named; each whose co-organiser is a unit of the tree is entered by that unit's admin
(for attendees of any unit) and passes the normal chain; near-miss names are confirmed by the province.
"""

import io
from datetime import date
from decimal import Decimal as D

import openpyxl
import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from cme_portal.accounts import demo as accounts_demo
from cme_portal.accounts.models import Organisation, Role
from cme_portal.errors import DomainError
from credits import services
from credits.models import CreditEntry, CreditPolicy, EntryState
from projects import numbers
from projects.imports import import_projects
from projects.models import Entry, Project

from .factories import learner, pdf_upload, staff

pytestmark = pytest.mark.django_db
REMOTE_FILED = settings.BASE_DIR / "fixtures" / "remote_filed_2021.xlsx"


@pytest.fixture
def catalogue():
    with time_machine.travel(date(2026, 11, 22), tick=False):
        province = accounts_demo.seed_tree()
        import_projects(open(REMOTE_FILED, "rb"), entry=Entry.REMOTE_FILED)
        CreditPolicy.objects.create(province=province, earliest_year=2021)  # 2021's credits still accepted
        yield province


def activity(project):
    session = project.sessions.get()
    national = numbers.parse(project.number).kind == numbers.NATIONAL
    credits = project.credits
    return dict(
        category="national_i" if national else "provincial_i",
        activity_name=project.name,
        activity_number=project.number,
        issuer=project.sponsor,
        credit_class="I",
        credits=credits,
        hours=credits * (3 if national else 6),
        start_date=session.start_date,
        end_date=session.end_date,
        certificate_date=None,
        lecturer=False,
    )


def test_every_remote_filed_project_is_refused_to_a_learner_with_its_co_organiser_named(catalogue):
    person = learner(unit=Organisation.objects.get(name="温州市人民医院"))
    projects = list(Project.objects.filter(entry=Entry.REMOTE_FILED).select_related("co_organiser_unit"))
    assert len(projects) == 28
    for project in projects:
        with pytest.raises(DomainError) as refused:
            services.enter_credit(person, evidence=[pdf_upload()], **activity(project))
        message = str(refused.value.message)
        assert refused.value.code == "remote_filed", project.number
        assert (project.co_organiser_unit.name if project.co_organiser_unit else project.co_organiser) in message
    assert not CreditEntry.objects.exists()


def test_each_co_organiser_in_the_tree_enters_its_attendees(catalogue):
    linked = list(
        Project.objects.filter(entry=Entry.REMOTE_FILED, co_organiser_unit__isnull=False).select_related("co_organiser_unit")
    )
    unlinked = Project.objects.filter(entry=Entry.REMOTE_FILED, co_organiser_unit__isnull=True)
    # 22 rows name a unit of the demo tree exactly; one near-miss (浙江大学附属第一医院) waits for the province
    # to confirm it; five co-organisers are not in the demo tree.
    assert len(linked) == 22 and unlinked.count() == 6
    attendee = learner(unit=Organisation.objects.get(name="温州市人民医院"), name="外院学员")
    for project in linked:
        admin = staff(Role.UNIT_ADMIN, project.co_organiser_unit)
        [entry] = services.batch_enter(admin, [attendee], evidence=[pdf_upload()], **activity(project))
        assert (entry.state, entry.unit, entry.learner) == (EntryState.UNIT_APPROVED, project.co_organiser_unit, attendee)
    assert CreditEntry.objects.count() == 22


def test_another_units_admin_may_not_enter_a_remote_filed_project(catalogue):
    project = Project.objects.get(number_key=numbers.canonical("2021-03-05-129（国）"))  # 宁波市第一医院's
    stranger = staff(Role.UNIT_ADMIN, Organisation.objects.get(name="浙江医院"))
    own = learner(unit=Organisation.objects.get(name="浙江医院"))
    with pytest.raises(DomainError) as refused:
        services.batch_enter(stranger, [own], evidence=[pdf_upload()], **activity(project))
    assert refused.value.code == "remote_filed" and "宁波市第一医院" in str(refused.value.message)


def test_the_province_confirms_a_near_miss_and_the_chain_goes_on(client, catalogue):
    project = Project.objects.get(number_key=numbers.canonical("2021-02-07-008（国）"))
    zheyi = Organisation.objects.get(name="浙江大学医学院附属第一医院")
    assert project.co_organiser == "浙江大学附属第一医院" and zheyi.pk in project.co_organiser_candidates
    admin = staff(Role.PROVINCE_ADMIN, catalogue)
    client.force_login(admin)
    page = client.get(reverse("projects:co_organisers"))
    assert "浙江大学附属第一医院" in page.content.decode() and "浙江大学医学院附属第一医院" in page.content.decode()
    client.post(reverse("projects:co_organisers"), {"project": project.pk, "unit": "abc"})  # no 500 for a bad id
    client.post(reverse("projects:co_organisers"), {"project": project.pk, "unit": zheyi.pk})
    project.refresh_from_db()
    assert project.co_organiser_unit == zheyi and project.co_organiser_candidates == []
    client.force_login(staff(Role.UNIT_ADMIN, zheyi))
    assert client.get(reverse("projects:co_organisers")).status_code == 404


def test_the_co_organiser_lists_attendees_of_other_units_in_a_sheet(client, catalogue):
    project = Project.objects.get(number_key=numbers.canonical("2021-03-05-129（国）"))
    admin = staff(Role.UNIT_ADMIN, project.co_organiser_unit)
    attendee = learner(unit=Organisation.objects.get(name="浙江医院"), name="浙医学员")
    sheet = openpyxl.Workbook()
    sheet.active.append(["证件号"])
    sheet.active.append([attendee.id_number])
    buffer = io.BytesIO()
    sheet.save(buffer)
    buffer.seek(0)
    buffer.name = "names.xlsx"
    data = {k: v for k, v in activity(project).items() if v is not None}
    data.update({"start_date": data["start_date"].isoformat(), "end_date": data["end_date"].isoformat(), "lecturer": ""})
    client.force_login(admin)
    with time_machine.travel(date(2026, 11, 22), tick=False):
        response = client.post(reverse("credits:batch_new"), {**data, "sheet": buffer, "evidence": [pdf_upload()]})
    assert response.status_code == 302, response.context["form"].errors
    entry = CreditEntry.objects.get()
    assert (entry.learner, entry.unit, entry.credits) == (attendee, project.co_organiser_unit, D(str(project.credits)))


def test_blank_optional_cells_import_cleanly():
    """A blank 协办单位 or 主办单位 is an empty name, never a database error."""
    accounts_demo.seed_tree()
    book = openpyxl.load_workbook(REMOTE_FILED)
    sheet = book.active
    headers = [c.value for c in sheet[1]]
    sheet.cell(row=2, column=headers.index("协办单位") + 1).value = None
    sheet.cell(row=3, column=headers.index("主办单位") + 1).value = None
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    assert import_projects(buffer, entry=Entry.REMOTE_FILED) == 28
    blank = Project.objects.get(number_key=numbers.canonical("2021-03-05-129（国）"))
    assert (blank.co_organiser, blank.co_organiser_unit, blank.co_organiser_candidates) == ("", None, [])
    assert Project.objects.get(number_key=numbers.canonical("2021-17-01-124（国）")).sponsor == ""


def test_a_returned_entry_of_the_co_organiser_is_corrected_by_the_learner(catalogue):
    from credits.models import CREDIT_ENTRY_WORKFLOW

    project = Project.objects.get(number_key=numbers.canonical("2021-03-05-129（国）"))
    admin = staff(Role.UNIT_ADMIN, project.co_organiser_unit)
    city = staff(Role.CITY_ADMIN, project.co_organiser_unit.parent)
    attendee = learner(unit=Organisation.objects.get(name="温州市人民医院"))
    [entry] = services.batch_enter(admin, [attendee], evidence=[pdf_upload()], **activity(project))
    CREDIT_ENTRY_WORKFLOW.review(entry, city, "city_return", "学时填错")
    with time_machine.travel(date(2026, 11, 22), tick=False):
        fixed = services.correct_entry(entry, attendee, **{**activity(project), "hours": D("12")})
    assert (fixed.state, fixed.unit) == (EntryState.SUBMITTED, project.co_organiser_unit)
