"""Demo catalogue: disciplines, the 28 remote-filed projects of seed 004 (through the
import path), provincial projects, and sessions in every state of the hosting life.

Sessions are driven through the services, so their timelines are real.
"""

import io
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cme_portal.accounts.models import Organisation, Role, User

from . import services
from .imports import import_projects
from .models import (
    HOSTING_WORKFLOW,
    CatalogueImport,
    CreditClass,
    Discipline,
    Entry,
    ImportState,
    Level,
    MaterialKind,
    Project,
    Session,
)

REMOTE_FILED = Path(settings.BASE_DIR) / "fixtures" / "remote_filed_2021.xlsx"

# Codes of the 2022 national list that DESIGN.md W2 names; the province admin adds the rest.
DISCIPLINES_2022 = {
    "03": ("临床内科学", {"03-01": "心血管病学"}),
    "14": ("护理学", {"14-02": "外科护理学"}),
    "18": ("麻醉学", {}),
}


def demo_pdf(title):
    """A small real PDF, so the demo's materials open in any viewer."""
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.drawString(72, 760, title)
    pdf.save()
    return buffer.getvalue()


def seed_disciplines():
    for code, (name, children) in DISCIPLINES_2022.items():
        parent, _ = Discipline.objects.get_or_create(year=2022, code=code, defaults={"name": name})
        for child_code, child_name in children.items():
            Discipline.objects.get_or_create(year=2022, code=child_code, defaults={"name": child_name, "parent": parent})


def seed_provincial_projects(unit, organiser):
    year = date.today().year
    rows = [
        (f"{year}330301001 (省)", "心血管疾病规范化诊疗进展学习班", "03-01", Decimal("5")),
        (f"{year}331402002 (省)", "围手术期护理新进展", "14-02", Decimal("4")),
        (f"{year}331800003 (省)", "基层麻醉安全培训班", None, Decimal("3")),
    ]
    projects = []
    for number, name, code, credits in rows:
        from .numbers import parse

        parsed = parse(number)
        project, _ = Project.objects.get_or_create(
            number_key=parsed.canonical,
            defaults={
                "number": parsed.typed,
                "name": name,
                "level": Level.PROVINCIAL,
                "credit_class": CreditClass.I,
                "entry": Entry.DECLARED,
                "leader": organiser.name,
                "holding_unit": unit,
                "year": year,
                "credits": credits,
                "hours": credits * 6,
                "entered_by": organiser,
                "discipline": Discipline.objects.filter(code=code).order_by("-year").first() if code else None,
            },
        )
        projects.append(project)
    return projects


def _attach_materials(session, organiser):
    for kind, _label in MaterialKind.choices:
        if not session.materials.filter(kind=kind).exists():
            upload = SimpleUploadedFile(f"{kind}.pdf", demo_pdf(f"{session.project.number} {kind}"), "application/pdf")
            services.attach_material(session, organiser, kind, upload)


def seed_sessions(organiser, unit_admin, province_admin, projects):
    """One session per state: draft, submitted, forwarded, returned, approved (two)."""
    if Session.objects.filter(organiser=organiser).exists():
        return
    today = date.today()

    def new(project, weeks, venue):
        start = today + timedelta(weeks=weeks)
        return services.apply_to_host(
            organiser,
            project,
            venue=venue,
            start_date=start,
            end_date=start + timedelta(days=1),
            credits=project.credits,
            hours=project.hours or project.credits * 6,
            today=min(today, start - timedelta(days=30)),  # history is filed a month before it is held
        )

    cardio, nursing, anaesthesia = projects
    approved_past = new(cardio, -3, "杭州市庆春路 79 号 学术报告厅")
    approved_next = new(nursing, 2, "杭州市庆春路 79 号 第二会议室")
    forwarded = new(anaesthesia, 4, "杭州市余杭区 临平院区 会议中心")
    returned = new(cardio, 6, "杭州市之江院区 报告厅")
    submitted = new(nursing, 8, "杭州市庆春路 79 号 第三会议室")
    new(anaesthesia, 10, "杭州市庆春路 79 号 示教室")  # stays a draft without materials

    for session in (approved_past, approved_next, forwarded, returned, submitted):
        _attach_materials(session, organiser)
        services.submit(session, organiser)
    for session in (approved_past, approved_next, forwarded, returned):
        HOSTING_WORKFLOW.review(session, unit_admin, "forward")
    HOSTING_WORKFLOW.review(returned, province_admin, "province_return", "会议通知未加盖红章，请重新上传盖章扫描件。")
    for session in (approved_past, approved_next):
        HOSTING_WORKFLOW.review(session, province_admin, "approve")

    # A national project entered by the organiser, still a draft.
    discipline = Discipline.objects.get(year=2022, code="03-01")
    services.enter_national_project(
        organiser,
        number="2022-03-01-001（国）",
        name="心力衰竭诊治新进展国家级继续教育项目",
        discipline=discipline,
        leader=organiser.name,
        year=2022,
        credits=Decimal("10"),
        hours=Decimal("30"),
        sequence=1,
        venue="杭州市庆春路 79 号 学术报告厅",
        start_date=today + timedelta(weeks=12),
        end_date=today + timedelta(weeks=12, days=3),
    )


def seed():
    seed_disciplines()
    import_projects(REMOTE_FILED, entry=Entry.REMOTE_FILED)
    organiser = User.objects.filter(roles__role=Role.ORGANISER).order_by("pk").first()
    unit_admin = User.objects.filter(roles__role=Role.UNIT_ADMIN, roles__org__name="浙江大学医学院附属第一医院").first()
    province_admin = User.objects.filter(roles__role=Role.PROVINCE_ADMIN).first()
    # Seed 004's list is published "as of" a date (2021年异地备案项目（截止11月16日）): the import on file says so.
    CatalogueImport.objects.get_or_create(
        entry=Entry.REMOTE_FILED,
        original_name=REMOTE_FILED.name,
        defaults={
            "as_of": date(2021, 11, 16),
            "state": ImportState.DONE,
            "rows": 28,
            "imported": 28,
            "requested_by": province_admin,
            "finished_at": timezone.now(),
        },
    )
    unit = Organisation.objects.get(name="浙江大学医学院附属第一医院")
    projects = seed_provincial_projects(unit, organiser)
    seed_sessions(organiser, unit_admin, province_admin, projects)
