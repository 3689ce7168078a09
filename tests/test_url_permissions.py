"""Scope on every URL for every role, generated from the URL conf (issue 16, item 8; DESIGN.md §3).

Every pattern of ``get_resolver()`` is requested as anonymous and as each role, with its parameters
filled by objects inside the person's scope (甲市人民医院, 甲市) and outside it (乙市第一医院, 乙市):
- no request may answer 500;
- anonymous may only reach the public pages (``PUBLIC``); elsewhere it is sent to login or refused;
- an object outside the person's scope answers 404/403 (405 for a wrong method), never a page or a
  redirect that means success, for GET and for an empty POST alike;
- a role's page answers 404 to people without that role (``ROLE_PAGES``).
A new URL is covered without writing a test for it: its parameters need a filler in ``FILLERS`` (the
test fails naming it otherwise), and a new public page must be named in ``PUBLIC``.
"""

from datetime import date

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from attendance.models import SurveyTemplate
from certificates.models import BulkDownload
from cme_portal.accounts.models import Role
from credits import services as credit_services
from credits.models import BackgroundJob, EarlyReviewRequest
from projects.models import CatalogueImport, Discipline

from . import factories

pytestmark = pytest.mark.django_db

# Namespaces with their own gatekeeping: Django's admin (staff only, checked below), the captcha images.
SKIPPED_NAMESPACES = {"admin"}
SKIPPED_PREFIXES = ("captcha/",)

# Pages anyone may open (DESIGN.md §3: public query, certificate query and verification, the door
# through a QR token, registration), with the account pages a stranger needs.
PUBLIC = {
    "home",
    "support:help",  # task guides and the offices' contacts, for anyone stuck before logging in
    "healthz",
    "healthz_db",
    "set_language",
    "accounts:register",
    "accounts:registration_code",
    "accounts:login",
    "accounts:logout",
    "accounts:password_reset",
    "projects:public_search",
    "projects:public_detail",
    "attendance:door",
    "certificates:query",
    "certificates:verify",
    "certificates:verify_start",
    "certificates:verify_file",
    "certificates:signed_download",
    # The credit record's QR code (issue 13): a signed token, re-read from the ledger.
    "credits:record_verify",
    # The API's published description (every operation answers 401 without a token).
    "api:schema",
    "api:docs",
}

# Pages of roles: everyone else gets 404 (province admin's catalogues, admins' reports and queues).
ADMINS = {Role.UNIT_ADMIN, Role.CITY_ADMIN, Role.PROVINCE_ADMIN}
ROLE_PAGES = {
    "projects:discipline_list": {Role.PROVINCE_ADMIN},
    "projects:discipline_new": {Role.PROVINCE_ADMIN},
    "projects:discipline_edit": {Role.PROVINCE_ADMIN},
    "projects:project_import": {Role.PROVINCE_ADMIN},
    "projects:import_status": {Role.PROVINCE_ADMIN},
    "projects:project_export": {Role.PROVINCE_ADMIN},
    "projects:co_organisers": {Role.PROVINCE_ADMIN},
    "credits:rules": {Role.PROVINCE_ADMIN},
    "credits:entry_policy": {Role.PROVINCE_ADMIN},
    "credits:platform_import": {Role.PROVINCE_ADMIN},
    "credits:compliance_report": ADMINS,
    "credits:compliance_export": ADMINS,
    "credits:job_status": ADMINS,
    "credits:job_download": ADMINS,
    "credits:batch_new": {Role.UNIT_ADMIN},
    "credits:early_review": {Role.UNIT_ADMIN, Role.PROVINCE_ADMIN},
    "audit:log": {Role.PROVINCE_ADMIN},
    "attendance:door_policy": {Role.PROVINCE_ADMIN},
    "accounts:handover": ADMINS,
    "certificates:template": {Role.PROVINCE_ADMIN},
    "certificates:template_preview": {Role.PROVINCE_ADMIN},
    "certificates:template_reissue": {Role.PROVINCE_ADMIN},
    "certificates:reissue_status": {Role.PROVINCE_ADMIN},
    "integrations:tokens": {Role.PROVINCE_ADMIN},
    "integrations:rotate": {Role.PROVINCE_ADMIN},
    "integrations:revoke": {Role.PROVINCE_ADMIN},
    "integrations:calls": {Role.PROVINCE_ADMIN},
    "audit:export": {Role.PROVINCE_ADMIN},
}

ROLES = ["learner", "organiser", "unit_admin", "city_admin", "province_admin"]
ROLE_OF = {
    "learner": Role.LEARNER,
    "organiser": Role.ORGANISER,
    "unit_admin": Role.UNIT_ADMIN,
    "city_admin": Role.CITY_ADMIN,
    "province_admin": Role.PROVINCE_ADMIN,
}


def patterns(resolver=None, prefix="", namespace=None):
    """(qualified name, route, pattern) of every named URL, in every included URL conf."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            space = entry.namespace or namespace
            if space in SKIPPED_NAMESPACES or (prefix + str(entry.pattern)).startswith(SKIPPED_PREFIXES):
                continue
            inner = f"{namespace}:{entry.namespace}" if namespace and entry.namespace else space
            yield from patterns(entry, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern) and entry.name:
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            yield name, prefix + str(entry.pattern), entry


def world(cast, tree):
    """The objects the URLs name, once inside the cast's scope (甲市人民医院) and once outside (乙市第一医院)."""
    outsider = factories.staff(Role.ORGANISER, tree["unit_b"], name="乙组织者")
    sides = {}
    for side, unit, organiser, learner, unit_admin in (
        ("inside", tree["unit_a"], cast["organiser"], cast["learner"], cast["unit_admin"]),
        ("outside", tree["unit_b"], outsider, cast["other_learner"], cast["other_unit_admin"]),
    ):
        held = factories.held_session(organiser, unit, date(2026, 6, 1))
        draft = factories.session_for(organiser, start_date=date(2027, 3, 1), end_date=date(2027, 3, 2))
        certificate = factories.certificates_for(held, [learner])[0]
        entry = factories.credit_entry(learner, activity_number=f"2026-03-01-0{len(sides)}9（国）", activity_name=f"{side}进展")
        record = factories.ledger_row(learner, activity_name=f"{side}讲座")
        correction = credit_services.request_correction(record, learner, kind="cancel", reason="重复登记")
        early = EarlyReviewRequest.objects.create(unit=unit, requested_by=unit_admin, deadline=date(2026, 12, 31))
        bulk = BulkDownload.objects.create(requested_by=unit_admin, unit=unit, year=2026)
        export = BackgroundJob.objects.create(
            kind="compliance_export", requested_by=unit_admin, state="done", file="jobs/missing.xlsx"
        )
        template = SurveyTemplate.objects.create(name=f"{side}问卷", questions=[], created_by=organiser)
        from cme_portal.support.services import report_problem

        report = report_problem(
            reporter=learner, subject=f"{side}签到失败", description="扫码后页面空白，点下一步没有反应，换了浏览器也一样。"
        )
        sides[side] = dict(
            unit=unit,
            report=report,
            held=held,
            draft=draft,
            material=draft.materials.first(),
            certificate=certificate,
            entry=entry,
            record=record,
            correction=correction,
            early=early,
            bulk=bulk,
            export=export,
            template=template,
        )
    discipline = Discipline.objects.create(year=2026, code="03", name="临床内科学")
    from certificates import designs
    from certificates.models import CertificateTemplate, ReissueJob
    from cme_portal.api.models import TokenKind
    from cme_portal.api.services import create_token

    # The default version comes from a data migration; a transactional test before this one may have flushed it.
    template = designs.current_template(tree["province"]) or CertificateTemplate.objects.create(
        province=None, version=1, layout={}, frame=True
    )
    reissue = ReissueJob.objects.create(requested_by=cast["province_admin"], province=tree["province"], template=template)
    token, _key = create_token(admin=cast["province_admin"], kind=TokenKind.UNIT, name="医院系统", org=tree["unit_a"])
    job = CatalogueImport.objects.create(entry="remote_filed", file="imports/x.xlsx", requested_by=cast["province_admin"])
    for side in sides.values():
        side.update(discipline=discipline, job=job, reissue=reissue, token=token)
    return sides


# How each URL's parameters are filled from one side of the world: a list of kwargs (several variants).
FILLERS = {
    "accounts:dashboard_role": lambda w: [{"role": role} for role in Role.values] + [{"role": "nobody"}],
    "projects:public_detail": lambda w: [{"pk": w["held"].project_id}],
    "projects:session_new": lambda w: [{"project_pk": w["held"].project_id}],
    "projects:session_detail": lambda w: [{"pk": w["draft"].pk}, {"pk": w["held"].pk}],
    "projects:session_edit": lambda w: [{"pk": w["draft"].pk}],
    "projects:session_delete": lambda w: [{"pk": w["draft"].pk}],
    "projects:material_upload": lambda w: [{"pk": w["draft"].pk}],
    "projects:session_action": lambda w: [{"pk": w["draft"].pk}],
    "projects:material_download": lambda w: [{"public_id": w["material"].public_id}],
    "projects:queue": lambda w: [{"level": level} for level in ("unit", "city", "province", "nowhere")],
    "projects:discipline_edit": lambda w: [{"pk": w["discipline"].pk}],
    "projects:import_status": lambda w: [{"public_id": w["job"].public_id}],
    "attendance:door": lambda w: [{"session_pk": w["held"].pk, "direction": "in", "token": "forged-token"}],
    "attendance:codes": lambda w: [{"pk": w["held"].pk}],
    "attendance:poster": lambda w: [{"pk": w["held"].pk, "direction": d} for d in ("in", "out", "sideways")],
    "attendance:projector": lambda w: [{"pk": w["held"].pk, "direction": "in"}],
    "attendance:roster": lambda w: [{"pk": w["held"].pk}],
    "attendance:roster_action": lambda w: [{"pk": w["held"].pk}],
    "attendance:roster_select": lambda w: [{"pk": w["held"].pk}],
    "attendance:roster_export": lambda w: [{"pk": w["held"].pk}],
    "attendance:survey_results": lambda w: [{"pk": w["held"].pk}],
    "attendance:project_survey_results": lambda w: [{"project_pk": w["held"].project_id}],
    "attendance:roster_queue": lambda w: [{"level": level} for level in ("unit", "province")],
    "attendance:survey_template_edit": lambda w: [{"pk": w["template"].pk}],
    "attendance:desk": lambda w: [{"pk": w["held"].pk}],
    "attendance:desk_scan": lambda w: [{"pk": w["held"].pk}],
    "attendance:desk_staff": lambda w: [{"pk": w["held"].pk}],
    "credits:entry_detail": lambda w: [{"pk": w["entry"].pk}],
    "credits:entry_edit": lambda w: [{"pk": w["entry"].pk}],
    "credits:entry_action": lambda w: [{"pk": w["entry"].pk}],
    "credits:evidence": lambda w: [{"public_id": w["entry"].public_id}],
    "credits:queue": lambda w: [{"level": level} for level in ("unit", "city", "province")],
    "credits:correction_new": lambda w: [{"record_pk": w["record"].pk}],
    "credits:correction_detail": lambda w: [{"pk": w["correction"].pk}],
    "credits:correction_action": lambda w: [{"pk": w["correction"].pk}],
    "credits:correction_queue": lambda w: [{"level": level} for level in ("unit", "city", "province")],
    "credits:early_review_letter": lambda w: [{"pk": w["early"].pk}],
    "credits:record_job": lambda w: [{"token": _record_job(w["entry"].learner)}, {"token": "forged.token"}],
    "credits:record_verify": lambda w: [{"token": _record_token(w["entry"].learner)}, {"token": "forged.token"}],
    "credits:job_status": lambda w: [{"public_id": w["export"].public_id}],
    "credits:job_download": lambda w: [{"public_id": w["export"].public_id}],
    "certificates:download": lambda w: [{"number": w["certificate"].number}],
    "certificates:signed_download": lambda w: [{"token": "forged.token"}],
    "certificates:verify": lambda w: [{"code": w["certificate"].code}, {"code": "NOSUCHCODE"}],
    "certificates:revoke": lambda w: [{"pk": w["certificate"].pk}],
    "certificates:bulk_status": lambda w: [{"pk": w["bulk"].pk}],
    "certificates:bulk_download": lambda w: [{"pk": w["bulk"].pk}],
    "certificates:reissue_status": lambda w: [{"pk": w["reissue"].pk}],
    "integrations:rotate": lambda w: [{"pk": w["token"].pk}],
    "integrations:revoke": lambda w: [{"pk": w["token"].pk}],
    "support:report_detail": lambda w: [{"pk": w["report"].pk}],
    "support:contact_edit": lambda w: [{"pk": w["unit"].pk}],
}


def _record_job(learner):
    from credits import record

    return record.job_token(learner, 2022, 2026)


def _record_token(learner):
    from credits import record

    return record.sign(learner, 2022, 2026, date(2026, 6, 1), [])


# Objects outside a scope that a role may still see by design (DESIGN.md §3), with the reason.
CROSS_SCOPE = {
    # Any organiser may hold a session of any catalogue project (national projects are held everywhere).
    ("projects:session_new", "organiser"),
    # The queues are per level, not per object: the outside world's variants are the same pages.
    ("projects:queue", "*"),
    ("attendance:roster_queue", "*"),
    ("credits:queue", "*"),
    ("credits:correction_queue", "*"),
    ("accounts:dashboard_role", "*"),
    # The province's catalogues are one for the province.
    ("projects:discipline_edit", "province_admin"),
    ("projects:import_status", "province_admin"),
}

REFUSED = {401, 403, 404, 405}


def urls_for(name, route, pattern, side):
    from django.urls import reverse

    params = list(pattern.pattern.regex.groupindex)
    if not params:
        return [reverse(name)]
    if name not in FILLERS:
        pytest.fail(f"{name} ({route}) has parameters {sorted(params)}: add a filler to FILLERS in {__file__}")
    return [reverse(name, kwargs=kwargs) for kwargs in FILLERS[name](side)]


def is_login_redirect(response):
    return response.status_code == 302 and "/accounts/login/" in response["Location"]


def outcome(response):
    return f"{response.status_code} {response.get('Location', '')}".strip()


def check(client, who, role, world_, counts):
    problems = []
    for name, route, pattern in patterns():
        if name == "accounts:logout" and who != "anonymous":
            continue  # it would end the session the rest is tested with (it is a POST-only public step)
        has_params = bool(pattern.pattern.regex.groupindex)
        for side_name, side in world_.items() if has_params else [("inside", world_["inside"])]:
            for url in urls_for(name, route, pattern, side):
                # An empty POST changes nothing a person owns: sent where the answer must be a refusal,
                # and to pages without an object (a form answers with its errors).
                post = side_name == "outside" or who == "anonymous" or not has_params
                for method in ("get", "post") if post else ("get",):
                    counts["cases"] += 1
                    response = getattr(client, method)(url)
                    said = f"{who} {method.upper()} {url} ({name}, {side_name}) → {outcome(response)}"
                    if response.status_code >= 500:
                        problems.append(said)
                        continue
                    if name in PUBLIC:
                        continue
                    if who == "anonymous":
                        if not (is_login_redirect(response) or response.status_code in REFUSED):
                            problems.append(said + "  (anonymous reached a non-public page)")
                        continue
                    allowed = ROLE_PAGES.get(name)
                    if allowed is not None and role not in allowed and response.status_code not in REFUSED:
                        problems.append(said + "  (a role's page reached by another role)")
                        continue
                    cross = (name, who) in CROSS_SCOPE or (name, "*") in CROSS_SCOPE
                    if side_name == "outside" and who != "province_admin" and not cross:
                        if response.status_code not in REFUSED:
                            problems.append(said + "  (an object outside the scope)")
    return problems


@pytest.fixture
def the_world(cast, tree):
    return world(cast, tree)


COUNTS = {"urls": 0, "cases": 0}


@pytest.mark.parametrize("who", ["anonymous"] + ROLES)
def test_scope_holds_on_every_url_for_every_role(client, cast, the_world, who):
    client.raise_request_exception = False
    if who != "anonymous":
        client.force_login(cast[who])
    counts = {"cases": 0}

    problems = check(client, who, ROLE_OF.get(who), the_world, counts)

    COUNTS["urls"] = len(list(patterns()))
    COUNTS["cases"] += counts["cases"]
    print(f"\n{who}: {COUNTS['urls']} URL patterns, {counts['cases']} requests")
    assert not problems, "\n".join(problems)


def test_every_url_is_either_public_or_guarded_and_every_parameter_filled():
    names = {name for name, _route, _pattern in patterns()}
    assert PUBLIC <= names | {"set_language"}, PUBLIC - names
    assert set(ROLE_PAGES) <= names
    assert set(FILLERS) <= names, set(FILLERS) - names


def test_the_admin_is_for_staff_only(client, cast):
    from django.urls import reverse

    for who in ROLES:
        client.force_login(cast[who])
        response = client.get(reverse("admin:index"))
        assert response.status_code == 302 and "/admin/login/" in response["Location"], who
