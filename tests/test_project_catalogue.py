"""The province's lists in and out of Excel; the public query; disciplines."""

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cme_portal.accounts.models import Role
from projects.imports import ImportFailed, import_projects
from projects.models import Discipline, Project, Session

from .factories import ProjectFactory, learner, staff

pytestmark = pytest.mark.django_db

HEADERS = ["项目编号", "项目名称", "主办单位", "项目负责人", "协办单位", "举办日期", "学分"]
GOOD = [
    "2021-03-05-129（国）",
    "“围透析器”肾病患者的康复管理",
    "中国康复医学会",
    "边学燕",
    "宁波市第一医院",
    "2021年3月27日-3月28日",
    "国家级I类4分",
]


def sheet(*rows, headers=HEADERS):
    book = openpyxl.Workbook()
    book.active.append(headers)
    for row in rows:
        book.active.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return SimpleUploadedFile("list.xlsx", buffer.getvalue())


def test_the_28_remote_filed_projects_import_once():
    assert import_projects("fixtures/remote_filed_2021.xlsx", entry="remote_filed") == 28
    assert import_projects("fixtures/remote_filed_2021.xlsx", entry="remote_filed") == 28
    assert Project.objects.filter(entry="remote_filed").count() == 28
    project = Project.objects.get(number_key="口继教字2021-032")
    assert (project.level, project.credit_class, str(project.credits)) == ("provincial", "I", "2.0")
    session = Session.objects.get(project__number_key="2021-14-05-929(国)")
    assert (str(session.start_date), str(session.end_date), session.state) == ("2021-06-18", "2021-06-22", "filed")


def test_a_bad_row_imports_nothing_and_is_named():
    bad_date = [*GOOD[:5], "2021年2月30日-3月1日", "国家级I类4分"]
    bad_number = ["2021-3-5-129(国)", *GOOD[1:]]
    bad_award = ["2021-04-06-019（国）", *GOOD[1:6], "四分"]
    with pytest.raises(ImportFailed) as failed:
        import_projects(sheet(GOOD, bad_date, bad_number, bad_award), entry="remote_filed")
    rows = {error.row: error.reason for error in failed.value.errors}
    assert set(rows) == {3, 4, 5}
    assert "不是存在的日期" in rows[3]
    assert "每段数字位数固定" in rows[4]
    assert "国家级I类4分" in rows[5]
    assert not Project.objects.exists()


def test_duplicate_numbers_in_one_file_are_refused():
    with pytest.raises(ImportFailed) as failed:
        import_projects(sheet(GOOD, ["2021-03-05-129 (国)", *GOOD[1:]]), entry="remote_filed")
    assert [(e.row, "重复" in e.reason) for e in failed.value.errors] == [(3, True)]


def test_missing_columns_are_named():
    with pytest.raises(ImportFailed) as failed:
        import_projects(sheet(GOOD[:2], headers=HEADERS[:2]), entry="filed")
    assert "举办日期" in failed.value.errors[0].reason


def test_import_page_reports_rows_and_keeps_nothing(client, tree, django_capture_on_commit_callbacks):
    """The list goes to a worker (here eager); its page shows the refused rows, or the count imported."""
    admin = staff(Role.PROVINCE_ADMIN, tree["province"])
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("projects:project_import"), {"entry": "remote_filed", "file": sheet(GOOD, ["", *GOOD[1:]])}
        )
    page = client.get(response["Location"]).content.decode()
    assert "未导入" in page and "第 3 行" in page and "不能为空" in page
    assert not Project.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("projects:project_import"), {"entry": "remote_filed", "file": sheet(GOOD)})
    assert "已导入 1 个项目" in client.get(response["Location"]).content.decode() and Project.objects.count() == 1
    not_excel = client.post(
        reverse("projects:project_import"), {"entry": "filed", "file": SimpleUploadedFile("a.xlsx", b"<html>")}
    )
    assert "请上传 Excel" in " ".join(not_excel.context["form"].errors["file"])


def test_export_reimports_to_the_same_catalogue(client, tree):
    import_projects("fixtures/remote_filed_2021.xlsx", entry="remote_filed")
    admin = staff(Role.PROVINCE_ADMIN, tree["province"])
    client.force_login(admin)
    response = client.get(reverse("projects:project_export"), {"entry": "remote_filed"})
    exported = SimpleUploadedFile("export.xlsx", response.content)
    before = sorted(Project.objects.values_list("number_key", "credits", "leader"))
    assert import_projects(exported, entry="remote_filed") == 28
    assert sorted(Project.objects.values_list("number_key", "credits", "leader")) == before


@pytest.mark.parametrize("who", ["learner", "organiser", "unit_admin"])
def test_catalogue_pages_are_for_the_province_only(client, tree, who):
    user = {
        "learner": lambda: learner(unit=tree["unit_a"]),
        "organiser": lambda: staff(Role.ORGANISER, tree["unit_a"]),
        "unit_admin": lambda: staff(Role.UNIT_ADMIN, tree["unit_a"]),
    }[who]()
    client.force_login(user)
    for name in ("project_import", "project_export", "discipline_list", "discipline_new"):
        assert client.get(reverse(f"projects:{name}")).status_code == 404, name


def test_province_admin_edits_disciplines(client, tree):
    client.force_login(staff(Role.PROVINCE_ADMIN, tree["province"]))
    client.post(reverse("projects:discipline_new"), {"year": 2022, "code": "14", "name": "护理学"})
    parent = Discipline.objects.get(code="14")
    bad = client.post(reverse("projects:discipline_new"), {"year": 2022, "code": "03-02", "name": "x", "parent": parent.pk})
    assert "三级学科代码" in bad.content.decode()
    client.post(reverse("projects:discipline_new"), {"year": 2022, "code": "14-02", "name": "外科护理学", "parent": parent.pk})
    assert str(Discipline.objects.get(code="14-02")) == "护理学/外科护理学"


def test_public_query_by_every_field(client, tree):
    import_projects("fixtures/remote_filed_2021.xlsx", entry="remote_filed")
    ProjectFactory(name="心血管进展", leader="王主任", year=2026, holding_unit=tree["unit_a"])
    url = reverse("projects:public_search")

    def names(**query):
        return [p.name for p in client.get(url, query).context["page_obj"]]

    assert names(number="2021-03-05-129 （国）") == ["“围透析器”肾病患者的康复管理"]
    assert names(leader="王主任") == ["心血管进展"]
    assert names(year=2026) == ["心血管进展"]
    assert len(names(level="national")) == 20  # first page of 27
    assert names(name="口腔正畸", level="provincial") == ["基层口腔正畸继教公益培训班"]
    assert names(status="approved") == []
    empty = client.get(url, {"name": "不存在的项目"}).content.decode()
    assert "没有找到符合条件的项目" in empty


def test_public_query_shows_no_personal_data(client, tree):
    organiser = staff(Role.ORGANISER, tree["unit_a"], mobile="13912340000")
    ProjectFactory(name="心血管进展", leader="王主任", holding_unit=tree["unit_a"], entered_by=organiser)
    page = client.get(reverse("projects:public_search")).content.decode()
    assert "王主任" in page
    assert organiser.id_number not in page and "13912340000" not in page and organiser.name not in page


def test_reimport_never_touches_a_session_under_review_nor_changes_a_projects_nature(tree):
    from projects.models import SessionState

    import_projects(sheet(GOOD), entry="remote_filed")
    session = Session.objects.get()
    organiser = staff(Role.ORGANISER, tree["unit_a"])
    Session.objects.filter(pk=session.pk).update(
        state=SessionState.APPROVED, venue="原会场", organiser=organiser, unit=tree["unit_a"]
    )
    changed = [*GOOD[:5], "2021年3月29日-3月30日", "国家级I类5分"]
    import_projects(sheet(changed), entry="remote_filed")
    session.refresh_from_db()
    assert session.state == SessionState.APPROVED and session.venue == "原会场"
    assert Project.objects.get().credits == 5
    with pytest.raises(ImportFailed) as failed:
        import_projects(sheet(GOOD), entry="filed")
    assert "不能改为其他性质" in failed.value.errors[0].reason
