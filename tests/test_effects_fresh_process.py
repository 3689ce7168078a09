"""Effects of the review mechanism exist in every process, not only where some module happened to be imported.

A fresh interpreter (as a Celery worker or a management command starts) sets
Django up, builds its data with the ORM alone, and approves a roster and a
credit entry through ``perform``: the credits must be in the ledger and the
certificates rendered by the tasks the award queued.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = r"""
import json, sys
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)

from datetime import date, timedelta
from decimal import Decimal

from attendance.models import ROSTER_WORKFLOW, Roster, RosterSelection
from certificates.models import Certificate
from cme_portal.accounts.models import LearnerProfile, Organisation, OrgKind, Role, RoleAssignment, User
from cme_portal.review.workflow import perform
from credits.models import CREDIT_ENTRY_WORKFLOW, CreditEntry, CreditRecord
from projects.models import Project, Session

watched = ["attendance.services", "credits.services"]
loaded_before = [name for name in watched if name in sys.modules]

province = Organisation.objects.create(name="测试省", kind=OrgKind.PROVINCE)
city = Organisation.objects.create(name="甲市", kind=OrgKind.CITY, parent=province)
unit = Organisation.objects.create(name="甲市人民医院", kind=OrgKind.UNIT, parent=city)

def person(n, role, node):
    user = User.objects.create(id_number=f"11010519850520{n:03d}X", name=f"人{n}", mobile=f"1380000{n:04d}")
    RoleAssignment.objects.create(user=user, role=role, org=node)
    LearnerProfile.objects.create(user=user, unit=unit, sex="M", birth_date=date(1985, 5, 20))
    return user

organiser, unit_admin = person(1, Role.ORGANISER, unit), person(2, Role.UNIT_ADMIN, unit)
province_admin, learner = person(3, Role.PROVINCE_ADMIN, province), person(4, Role.LEARNER, unit)
project = Project.objects.create(number="2026330301001 (省)", number_key="2026330301001(省)", name="学习班", level="provincial",
                                 leader="负责人", year=2026, credits=5, holding_unit=unit)
session = Session.objects.create(project=project, venue="会场", start_date=date(2026, 6, 1), end_date=date(2026, 6, 2),
                                 credits=5, hours=16, state="approved", organiser=organiser, unit=unit)
roster = Roster.objects.create(session=session, organiser=organiser, unit=unit, state="forwarded",
                               due_date=session.end_date + timedelta(days=14))
RosterSelection.objects.create(roster=roster, learner=learner, selected=True, preselected=True)
entry = CreditEntry.objects.create(
    learner=learner, entered_by=learner, unit=unit, category="national_i", activity_name="外省学习班",
    activity_number="2026-03-01-001（国）", activity_key="2026-03-01-001(国)", issuer="中华医学会", level="national",
    credit_class="I", start_date=date(2026, 5, 1), end_date=date(2026, 5, 2), year=2026, credits=Decimal("4"),
    hours=Decimal("12"), evidence="evidence/x.pdf", state="city_approved")

perform(ROSTER_WORKFLOW, roster, "approve", province_admin)
perform(CREDIT_ENTRY_WORKFLOW, entry, "province_approve", province_admin)

award = CreditRecord.objects.filter(learner=learner, session=session).first()
print(json.dumps({
    "loaded_before": loaded_before,
    "award_credits": str(award.credits) if award else None,
    "entry_credits": [str(c) for c in CreditRecord.objects.filter(entry=entry).values_list("credits", flat=True)],
    "certificates": list(Certificate.objects.filter(record=award).values_list("status", flat=True)) if award else [],
    "certificate_has_file": bool(award and Certificate.objects.filter(record=award).exclude(file="").exists()),
}))
"""


def test_a_fresh_interpreter_approves_and_awards_with_certificates(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cme_portal.test_settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
        "CELERY_TASK_ALWAYS_EAGER": "1",
    }
    env.pop("REDIS_URL", None)
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    # Nothing had imported the services that hold the effects: they come from the declarations alone.
    assert result["loaded_before"] == []
    assert result["award_credits"] == "5.0"
    assert result["entry_credits"] == ["4.0"]
    assert result["certificates"] == ["issued"] and result["certificate_has_file"]
