"""An audit log for everything that is not a review transition (issue 16, item 7): who, from where,
what, for role assignments, settings and catalogues, plus explicit events for imports and revocations;
the province admin reads, filters and exports it (safely)."""

import io

import openpyxl
import pytest
from auditlog.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cme_portal.accounts.models import Role, RoleAssignment
from credits.models import RequirementRule

from .test_bad_input_corpus import GOOD_ROW, xlsx
from .test_certificates import awarded, session  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def events(**filters):
    return LogEntry.objects.filter(**filters)


def test_a_rule_edit_is_logged_with_who_and_from_where(client, cast):
    admin = cast["province_admin"]
    client.force_login(admin)
    page = client.get(reverse("credits:rules"), {"year": 2026})
    forms = page.context["forms"]
    data = {}
    for category, form in forms.items():
        for name in form.fields:
            data[f"{category}-{name}"] = form.initial.get(name, "")
    first = next(iter(forms))
    data[f"{first}-min_total"] = 30
    client.post(reverse("credits:rules") + "?year=2026", data, REMOTE_ADDR="10.8.8.8")

    rule = RequirementRule.objects.get(pk=forms[first].instance.pk)
    assert rule.min_total == 30
    entry = events(content_type__model="requirementrule", object_pk=str(rule.pk), action=LogEntry.Action.UPDATE).get()
    assert entry.actor == admin and entry.remote_addr == "10.8.8.8"
    assert entry.changes["min_total"][1] == "30"


def test_role_assignments_are_logged(cast, tree):
    grant = RoleAssignment.objects.create(user=cast["learner"], role=Role.ORGANISER, org=tree["unit_a"])
    pk = grant.pk
    grant.delete()
    actions = list(events(content_type__model="roleassignment", object_pk=str(pk)).values_list("action", flat=True))
    assert sorted(actions) == [LogEntry.Action.CREATE, LogEntry.Action.DELETE]


def test_revocations_and_imports_are_explicit_events(client, cast, awarded, django_capture_on_commit_callbacks):  # noqa: F811
    certificate = awarded(cast["learner"])[0]
    admin = cast["province_admin"]
    client.force_login(admin)
    client.post(reverse("certificates:revoke", args=[certificate.pk]), {"reason": "代签到"})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("projects:project_import"), {"entry": "remote_filed", "file": SimpleUploadedFile("l.xlsx", xlsx(GOOD_ROW))}
        )

    revoked = events(additional_data__event="certificate_revoked").get()
    assert revoked.actor == admin and revoked.additional_data["reason"] == "代签到"
    imported = events(additional_data__event="catalogue_imported").get()
    assert imported.actor == admin and imported.additional_data["projects"] == 1


def test_the_province_reads_filters_and_exports_it_safely(client, cast, tree):
    admin = cast["province_admin"]
    tree["unit_b"].name = '=HYPERLINK("http://evil","x")'
    tree["unit_b"].save()
    RoleAssignment.objects.create(user=cast["learner"], role=Role.ORGANISER, org=tree["unit_a"])
    client.force_login(admin)

    page = client.get(reverse("audit:log"), {"kind": "accounts.Organisation"})
    assert page.status_code == 200
    shown = [entry for entry, _what, _changes in page.context["entries"]]
    assert shown and {e.content_type.model for e in shown} == {"organisation"}

    export = client.get(reverse("audit:export"), {"kind": "accounts.Organisation"})
    cells = [c for row in openpyxl.load_workbook(io.BytesIO(export.content)).active.iter_rows() for c in row]
    assert any(isinstance(c.value, str) and c.value.startswith("'=HYPERLINK") for c in cells)
    assert not [c for c in cells if c.data_type == "f"]


@pytest.mark.parametrize("who", ["learner", "organiser", "unit_admin", "city_admin"])
def test_only_the_province_reads_it(client, cast, who):
    client.force_login(cast[who])
    assert client.get(reverse("audit:log")).status_code == 404
    assert client.get(reverse("audit:export")).status_code == 404
