"""Demo attendance: sessions already held, with scans, surveys and rosters at different steps.

The session held three weeks ago has an approved roster (its credits were
awarded through it); one held last week waits for the unit admin.
"""

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from cme_portal.accounts.models import Role, User
from projects import services as project_services
from projects.demo import _attach_materials
from projects.models import HOSTING_WORKFLOW, Project, Session, SessionState

from . import services
from .models import ROSTER_WORKFLOW, Attendance, PairMode, Roster, RosterState

CHOICES = {
    "q1": ["是", "基本是"],
    "q2": ["部分知道", "全知道", "不知道"],
    "q3": ["很大", "较大", "一般"],
    "q4": ["很好", "较好"],
    "q5": ["满意", "基本满意"],
    "q6": ["满意", "一般"],
}
Q7 = ["开阔思路", "提高临床诊治能力", "提高理论水平", "提高科研工作能力", "提高操作能力"]


def _answers(rng):
    answers = {key: [rng.choice(options)] for key, options in CHOICES.items()}
    answers["q7"] = rng.sample(Q7, 2)
    return answers


def _hold(session, learners, rng, leave_early=(), proxy=()):
    """Everyone checks in at the door, each on their own phone; most stay to the end and answer the survey.

    One pair for the session (the default), or one a day in the daily mode. The
    learners in ``proxy`` were checked in by the first of them on one phone,
    seconds apart (代签到): the roster flags them for the unit admin.
    """
    plan = services.plan_for(session)
    tz = timezone.get_current_timezone()
    days = list(plan.days())
    pairs = [(day, day) for day in days] if plan.mode == PairMode.DAILY else [(days[0], days[-1])]
    shared_phone = f"{rng.getrandbits(64):016x}"
    for person in learners:
        phone = shared_phone if person in proxy else f"{rng.getrandbits(64):016x}"
        mark = services.Mark(device=phone, ip="10.12.0.8")
        for first, last in pairs:
            arrive = datetime.combine(first, time(8, rng.randint(0, 29)), tzinfo=tz)
            if person in proxy:
                arrive = datetime.combine(first, time(8, 12, 5 + 20 * list(proxy).index(person)), tzinfo=tz)
            services.check_in(session, person, arrive, services.scan_day(plan, arrive), mark)
            if person in leave_early:
                continue
            leave = datetime.combine(last, time(17, rng.randint(31, 55)), tzinfo=tz)
            services.check_out(session, person, leave, services.scan_day(plan, leave), _answers(rng), plan, mark)


def seed():
    if Attendance.objects.exists():
        return
    rng = random.Random(2026)
    organiser = User.objects.get(mobile="13900000004")
    unit_admin = User.objects.get(mobile="13900000003")
    province_admin = User.objects.get(mobile="13900000001")
    people = list(User.objects.filter(roles__role=Role.LEARNER, profile__unit__name="浙江大学医学院附属第一医院").distinct()[:8])

    held = Session.objects.filter(organiser=organiser, state=SessionState.APPROVED, end_date__lt=date.today()).first()
    if held:
        _hold(held, people[:6], rng, leave_early=people[5:6])
        roster = services.roster_for(held)
        services.submit_roster(roster, organiser)
        ROSTER_WORKFLOW.review(roster, unit_admin, "forward")
        ROSTER_WORKFLOW.review(roster, province_admin, "approve")  # awards the selected learners' credits

    # Held last week: its roster waits for the unit admin.
    project = Project.objects.filter(holding_unit__name="浙江大学医学院附属第一医院", level="provincial").order_by("pk").last()
    start = date.today() - timedelta(days=8)
    recent = project_services.apply_to_host(
        organiser,
        project,
        venue="杭州市庆春路 79 号 学术报告厅",
        start_date=start,
        end_date=start,
        credits=project.credits,
        hours=project.hours or Decimal("8"),
        today=start - timedelta(days=30),  # filed a month before it was held
    )
    _attach_materials(recent, organiser)
    project_services.submit(recent, organiser)
    HOSTING_WORKFLOW.review(recent, unit_admin, "forward")
    HOSTING_WORKFLOW.review(recent, province_admin, "approve")
    _hold(recent, people[:7], rng, leave_early=people[6:7], proxy=people[3:5])
    services.submit_roster(services.roster_for(recent), organiser)
    assert Roster.objects.filter(state=RosterState.SUBMITTED).exists()
