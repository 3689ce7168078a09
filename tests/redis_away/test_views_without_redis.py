"""Run by tests/test_redis_away.py in a process whose REDIS_URL (broker and cache) is a closed port.

Skipped in the ordinary suite (it needs that environment); see the outer test for what it proves.
"""

import os
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from attendance.models import Roster, RosterState
from certificates.models import Certificate
from cme_portal.cache import cache_is_shared
from cme_portal.celery import app as celery_app
from credits.models import CreditRecord
from projects.models import Session

from ..factories import PASSWORD, ProjectFactory, certificates_for, learner
from ..test_attendance import DAY1, at
from ..test_rosters import act, held  # noqa: F401  (fixture)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not os.environ.get("CME_REDIS_AWAY"), reason="run by tests/test_redis_away.py with Redis unreachable"),
]


def test_the_environment_really_has_no_redis():
    assert not celery_app.conf.task_always_eager
    from django.core.cache import cache

    cache.get("anything")  # refused, answered locally
    assert not cache_is_shared()


def test_public_pages_answer_without_redis(client, tree):
    organiser = learner(unit=tree["unit_a"])
    project = ProjectFactory(holding_unit=tree["unit_a"], number="2026-03-01-001（国）", number_key="2026-03-01-001(国)")
    session = Session.objects.create(
        project=project,
        venue="甲市",
        start_date=DAY1,
        end_date=DAY1,
        credits=5,
        hours=8,
        state="approved",
        unit=tree["unit_a"],
        organiser=organiser,
    )
    certificate = certificates_for(session, [learner(unit=tree["unit_a"])])[0]

    for url in (
        reverse("home"),
        reverse("accounts:login"),
        reverse("accounts:register"),
        reverse("accounts:password_reset"),
        reverse("projects:public_search"),
        reverse("projects:public_search") + "?q=2026",
        reverse("projects:public_detail", args=[project.pk]),
        reverse("certificates:query"),
        reverse("certificates:verify", args=[certificate.code]),
    ):
        assert client.get(url).status_code == 200, url

    health = client.get(reverse("healthz"))
    assert health.status_code == 200
    assert health.json()["status"] == "degraded" and health.json()["broker"]["status"] == "down"


def test_login_works_and_its_limits_count_locally(client, tree, settings):
    settings.LOGIN_CAPTCHA_AFTER = 100
    person = learner(unit=tree["unit_a"], mobile="13912345678")
    assert client.post(reverse("accounts:login"), {"identifier": "13912345678", "password": PASSWORD}).status_code == 302
    client.logout()
    for _ in range(settings.LOGIN_MAX_FAILURES):
        client.post(reverse("accounts:login"), {"identifier": "13912345678", "password": "wrong"})
    locked = client.post(reverse("accounts:login"), {"identifier": "13912345678", "password": PASSWORD})
    assert "密码错误次数过多" in locked.content.decode()  # fail-open to this process's own count: still a limit
    owner = client.post(reverse("accounts:login"), {"identifier": "13912345678", "password": PASSWORD}, REMOTE_ADDR="10.3.3.3")
    assert owner.status_code == 302 and person.pk


def test_sms_codes_are_refused_truthfully(client, tree):
    page = client.post(reverse("accounts:password_reset"), {"identifier": "nobody", "action": "send_code"})
    assert page.status_code == 200
    registration = client.post(reverse("accounts:registration_code"), {"mobile": "13912345678"})
    assert registration.status_code == 400 and "短信服务暂时不可用" in registration.json()["message"]
    page = client.post(reverse("accounts:register"), {"mobile": "13912345678", "action": "send_code"}).content.decode()
    assert "短信服务暂时不可用" in page and "操作已保存" not in page  # nothing was saved: no such claim


@pytest.mark.django_db(transaction=True)  # commits for real: the tasks are sent (and refused) inside the request
def test_an_approval_commits_says_so_and_the_reconciler_finishes_it(client, cast, held):  # noqa: F811
    session, people = held
    with time_machine.travel(at(DAY1 + timedelta(days=1), 10)):
        act(client, cast["organiser"], session, "submit")
        act(client, cast["unit_admin"], session, "forward")
        page = act(client, cast["province_admin"], session, "approve")  # follow=True: no 500
    assert page.status_code == 200
    assert "暂时无法排队" in page.content.decode()
    assert Roster.objects.get(session=session).state == RosterState.APPROVED
    awarded = CreditRecord.objects.filter(session=session)
    assert awarded.count() == 3 and not Certificate.objects.exists()  # committed, tasks not queued

    # Redis is back (this process runs what it queues): one reconciler pass sends what was lost.
    from certificates.reconcile import reconcile

    celery_app.conf.task_always_eager = True
    try:
        with time_machine.travel(at(DAY1 + timedelta(days=1), 11)):  # an hour after the approval
            reconcile(grace_seconds=0)
    finally:
        celery_app.conf.task_always_eager = False
    for record in awarded:
        certificate = Certificate.objects.get(record=record)
        assert certificate.file.storage.exists(certificate.file.name)
