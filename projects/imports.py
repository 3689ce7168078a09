"""Projects in and out of Excel with django-import-export.

The province's lists (declared, filed, remote-filed) have the columns of seed
004's table. An import is all or nothing: a dry run first, and if any row is
refused the whole file is, each refusal named with its row and reason.
"""

import difflib
import logging
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import tablib
from django.db import transaction
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from cme_portal import punctuation
from cme_portal.accounts.models import Organisation, OrgKind
from cme_portal.errors import DomainError
from cme_portal.exports import restore_cell, xlsx_bytes

from . import numbers
from .models import CreditClass, Discipline, Entry, Level, Project, Session, SessionState

log = logging.getLogger("cme.projects")

COLUMNS = {
    "number": "项目编号",
    "name": "项目名称",
    "sponsor": "主办单位",
    "leader": "项目负责人",
    "co_organiser": "协办单位",
    "dates": "举办日期",
    "award": "学分",
    "year": "项目年份",
    "discipline": "学科代码",
    "unit": "举办单位",
}

_LEVELS = {"国家级": Level.NATIONAL, "省级": Level.PROVINCIAL, "市级": Level.CITY, "区级": Level.DISTRICT}
_AWARD_RE = re.compile(r"^(?P<level>国家级|省级|市级|区级)?\s*(?P<cls>II|Ⅱ|I|Ⅰ)类\s*(?P<credits>\d+(\.\d+)?)\s*分$")
_DATES_RE = re.compile(
    r"^(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日\s*[-–—至~]\s*(?:(?P<y2>\d{4})年)?(?:(?P<m2>\d{1,2})月)?(?P<d2>\d{1,2})日$"
)


@dataclass
class RowError:
    row: int  # as Excel numbers it: the header is row 1
    reason: str


class ImportFailed(Exception):
    def __init__(self, errors):
        super().__init__(f"{len(errors)} rows refused")
        self.errors = errors


# The longest each text column may be (the catalogue's fields).
LENGTHS = {"number": 64, "name": 200, "sponsor": 200, "leader": 50, "co_organiser": 200, "unit": 100}


def _year(value):
    """The 项目年份 cell as a year between 1990 and 2100, None when blank; DomainError otherwise."""
    text = str(value or "").strip()
    if not text:
        return None
    if text.endswith(".0"):  # Excel stores numbers as floats
        text = text[:-2]
    if not text.isdigit() or not 1990 <= int(text) <= 2100:
        raise DomainError(_("项目年份“%(text)s”应为 1990 至 2100 之间的四位年份。") % {"text": value}, code="year")
    return int(text)


def parse_award(text):
    """国家级I类4分 → (level or None, class, credits)."""
    match = _AWARD_RE.match(re.sub(r"\s+", "", str(text or "")).replace("Ⅰ", "I").replace("Ⅱ", "II"))
    if not match:
        raise DomainError(_("学分“%(text)s”应写成“国家级I类4分”的形式。") % {"text": text}, code="award")
    cls = CreditClass.II if match["cls"] == "II" else CreditClass.I
    return _LEVELS.get(match["level"] or ""), cls, Decimal(match["credits"])


def parse_dates(text):
    """2021年3月27日-3月28日 → (date(2021, 3, 27), date(2021, 3, 28))."""
    if isinstance(text, date):
        return text, text
    match = _DATES_RE.match(re.sub(r"\s+", "", str(text or "")))
    if not match:
        raise DomainError(_("举办日期“%(text)s”应写成“2021年3月27日-3月28日”的形式。") % {"text": text}, code="dates")
    try:
        start = date(int(match["y"]), int(match["m"]), int(match["d"]))
        end = date(int(match["y2"] or match["y"]), int(match["m2"] or match["m"]), int(match["d2"]))
    except ValueError:
        raise DomainError(_("举办日期“%(text)s”不是存在的日期。") % {"text": text}, code="dates") from None
    if end < start:
        raise DomainError(_("举办日期“%(text)s”的结束早于开始。") % {"text": text}, code="dates")
    return start, end


class ProjectResource(resources.ModelResource):
    number = fields.Field(attribute="number", column_name=COLUMNS["number"])
    name = fields.Field(attribute="name", column_name=COLUMNS["name"])
    sponsor = fields.Field(attribute="sponsor", column_name=COLUMNS["sponsor"])
    leader = fields.Field(attribute="leader", column_name=COLUMNS["leader"])
    co_organiser = fields.Field(attribute="co_organiser", column_name=COLUMNS["co_organiser"])
    year = fields.Field(attribute="year", column_name=COLUMNS["year"], widget=widgets.IntegerWidget())
    holding_unit = fields.Field(
        attribute="holding_unit", column_name=COLUMNS["unit"], widget=widgets.ForeignKeyWidget(Organisation, "name")
    )
    level = fields.Field(attribute="level", column_name="级别")
    credit_class = fields.Field(attribute="credit_class", column_name="学分类别")
    credits = fields.Field(attribute="credits", column_name="项目学分", widget=widgets.DecimalWidget())
    number_key = fields.Field(attribute="number_key", column_name="number_key")

    class Meta:
        model = Project
        import_id_fields = ["number_key"]
        fields = [
            "number",
            "name",
            "sponsor",
            "leader",
            "co_organiser",
            "year",
            "holding_unit",
            "level",
            "credit_class",
            "credits",
            "number_key",
        ]
        skip_unchanged = False  # a re-import with new dates must reach the filed session

    def __init__(self, *, entry, user=None, progress=None, offset=0):
        super().__init__()
        self.entry = entry
        self.user = user
        self.row_sessions = {}
        self.progress, self.offset, self.seen = progress, offset, 0
        self.units = None

    def before_import_row(self, row, row_number=None, **kwargs):
        """Turn a row of the province's table into the project's fields; raise with the reason."""
        self.seen += 1
        if self.progress and self.seen % PROGRESS_EVERY == 0:
            self.progress(self.offset + self.seen)
        for key in ("number", "name", "leader"):
            if not str(row.get(COLUMNS[key]) or "").strip():
                raise DomainError(_("“%(column)s”不能为空。") % {"column": COLUMNS[key]}, code="required")
        for key in ("sponsor", "co_organiser"):  # optional: a blank cell is an empty name, never a missing value
            row[COLUMNS[key]] = str(row.get(COLUMNS[key]) or "").strip()
        for key, limit in LENGTHS.items():
            if len(str(row.get(COLUMNS[key]) or "").strip()) > limit:
                raise DomainError(
                    _("“%(column)s”最多 %(limit)s 个字。") % {"column": COLUMNS[key], "limit": limit}, code="too_long"
                )
        parsed = numbers.parse(str(row[COLUMNS["number"]]))
        level, credit_class, credits = parse_award(row.get(COLUMNS["award"]))
        start, end = parse_dates(row.get(COLUMNS["dates"]))
        year = _year(row.get(COLUMNS["year"])) or parsed.year or start.year
        discipline_code = str(row.get(COLUMNS["discipline"]) or "").strip()
        numbers.check_agrees(parsed, year=year, discipline_code=discipline_code)
        if level is None:
            level = Level.NATIONAL if parsed.kind == numbers.NATIONAL else Level.PROVINCIAL
        if parsed.kind == numbers.NATIONAL and level != Level.NATIONAL:
            raise DomainError(_("国家级编号的项目，学分级别应为国家级。"), code="level")
        unit_name = str(row.get(COLUMNS["unit"]) or "").strip()
        if unit_name:
            matches = Organisation.objects.filter(name=unit_name, kind=OrgKind.UNIT).count()
            if matches == 0:
                raise DomainError(_("举办单位“%(name)s”不在机构列表中。") % {"name": unit_name}, code="unit")
            if matches > 1:
                raise DomainError(
                    _("有多个名为“%(name)s”的单位，请在后台为其设置不同的名称后再导入。") % {"name": unit_name},
                    code="unit_ambiguous",
                )
        if credits <= 0 or credits > 25:
            raise DomainError(_("学分应在 0 到 25 分之间。"), code="credits")
        row.update(
            {
                COLUMNS["number"]: parsed.typed,
                "number_key": parsed.canonical,
                COLUMNS["year"]: year,
                "级别": level,
                "学分类别": credit_class,
                "项目学分": credits,
                COLUMNS["unit"]: unit_name or None,
            }
        )
        self.row_sessions[parsed.canonical] = (start, end, credits, discipline_code)

    def before_save_instance(self, instance, row, **kwargs):
        if instance.pk and instance.entry == Entry.DECLARED and self.entry == Entry.NATIONAL_LIST:
            return  # an organiser entered this national project already: it is on the list, and stays theirs
        if instance.pk and instance.entry != self.entry:
            raise DomainError(
                _("项目编号 %(number)s 已作为“%(entry)s”在项目库中，不能改为其他性质。")
                % {"number": instance.number, "entry": instance.get_entry_display()},
                code="entry_changed",
            )
        instance.entry = self.entry
        if self.user and not instance.entered_by_id:
            instance.entered_by = self.user
        code = self.row_sessions[instance.number_key][3]
        if code:
            instance.discipline = Discipline.objects.filter(year=instance.year, code=code).first()
        if self.entry == Entry.REMOTE_FILED and not instance.co_organiser_unit_id:
            if self.units is None:  # read the tree's units once per import, not once per row
                self.units = list(Organisation.objects.filter(kind=OrgKind.UNIT).values_list("pk", "name"))
            instance.co_organiser_unit, instance.co_organiser_candidates = match_unit(instance.co_organiser, self.units)

    def after_save_instance(self, instance, row, **kwargs):
        if kwargs.get("dry_run"):
            return
        start, end, credits, _code = self.row_sessions[instance.number_key]
        # A listed project is held as listed: its session is on file, not under review. A
        # session that an organiser applied for is never touched by a re-import.
        fields = {
            "venue": instance.co_organiser or instance.sponsor or "—",
            "start_date": start,
            "end_date": end,
            "credits": credits,
            "hours": credits * 3,
            "unit": instance.holding_unit,
        }
        session = Session.objects.filter(project=instance, sequence=1).first()
        if session is None:
            Session.objects.create(project=instance, sequence=1, state=SessionState.FILED, **fields)
        elif session.state == SessionState.FILED:
            Session.objects.filter(pk=session.pk).update(**fields)


def match_unit(name, units):
    """(the unit named exactly ``name``, []) or (None, ids of up to three ``units`` (pk, name) with close names to confirm)."""
    name = (name or "").strip()
    if not name:
        return None, []
    exact = list(Organisation.objects.filter(name=name, kind=OrgKind.UNIT)[:2])
    if len(exact) == 1:
        return exact[0], []
    scored = sorted(
        ((difflib.SequenceMatcher(None, name, other).ratio(), pk) for pk, other in units if pk not in {u.pk for u in exact}),
        reverse=True,
    )
    close = [u.pk for u in exact] + [pk for score, pk in scored if score >= 0.6]
    return None, close[:3]


def _load(source):
    data = source.read() if hasattr(source, "read") else open(source, "rb").read()
    try:
        dataset = tablib.Dataset().load(data, format="xlsx")
    except Exception:
        raise ImportFailed([RowError(0, _("无法读取文件：请上传 Excel（.xlsx）文件。"))]) from None
    # Our own exports quote cells that begin with a formula character; the quote is not part of the value.
    restored = tablib.Dataset(headers=dataset.headers)
    for row in dataset:
        restored.append([restore_cell(cell) for cell in row])
    return restored


PROGRESS_EVERY = 200


def import_projects(source, *, entry=Entry.DECLARED, user=None, progress=None):
    """Import an Excel list of projects; return how many rows were imported.

    Raises ImportFailed listing every refused row (with its Excel row number and
    reason); nothing is imported then. ``progress(done, total)`` is told how far the
    check and the import have gone (two passes over the rows: total is twice the rows).
    """
    dataset = _load(source)
    # Seed 004's own list heads its credits column "I类学分": the same column as 学分.
    headers = list(dataset.headers or [])
    if COLUMNS["award"] not in headers and "I类学分" in headers:
        headers[headers.index("I类学分")] = COLUMNS["award"]
        dataset.headers = headers
    total = 2 * dataset.height
    report = (lambda done: progress(done, total)) if progress else None
    if progress:
        progress(0, total)
    missing = [COLUMNS[k] for k in ("number", "name", "leader", "dates", "award") if COLUMNS[k] not in (dataset.headers or [])]
    if missing:
        raise ImportFailed([RowError(1, _("缺少列：%(columns)s。") % {"columns": punctuation.mark("、").join(missing)})])
    # Columns the resource fills from each row (before_import_row) must exist in the sheet.
    for header in ("number_key", "级别", "学分类别", "项目学分", COLUMNS["year"], COLUMNS["discipline"], COLUMNS["unit"]):
        if header not in dataset.headers:
            dataset.append_col([""] * dataset.height, header=header)
    seen, errors = {}, []
    for index, row in enumerate(dataset.dict, start=2):
        try:
            key = numbers.canonical(str(row.get(COLUMNS["number"]) or ""))
        except Exception:
            key = ""
        if key and key in seen:
            errors.append(RowError(index, _("项目编号与第 %(row)s 行重复。") % {"row": seen[key]}))
        seen.setdefault(key, index)

    resource = ProjectResource(entry=entry, user=user, progress=report)
    with transaction.atomic():
        result = resource.import_data(dataset, dry_run=True, raise_errors=False, use_transactions=True)
    for error in result.base_errors:
        errors.append(RowError(0, str(error.error)))
    for number, row_errors in result.row_errors():
        for error in row_errors:
            if isinstance(error.error, DomainError):
                reason = str(error.error.message)
            else:  # never a database's or Python's words on the page: those go to the log
                log.warning("import_row_failed", extra={"row": number + 1, "error": repr(error.error)})
                reason = _("这一行无法导入，请核对各列的内容和格式。")
            errors.append(RowError(number + 1, reason))
    for invalid in result.invalid_rows:
        log.warning("import_row_invalid", extra={"row": invalid.number + 1, "fields": sorted(invalid.error_dict)})
        errors.append(RowError(invalid.number + 1, _("这一行无法导入，请核对各列的内容和格式。")))
    if errors:
        raise ImportFailed(sorted(errors, key=lambda e: e.row))
    resource = ProjectResource(entry=entry, user=user, progress=report, offset=dataset.height)
    with transaction.atomic():
        result = resource.import_data(dataset, dry_run=False, raise_errors=True, use_transactions=True)
    if progress:
        progress(total, total)
    return result.totals.get("new", 0) + result.totals.get("update", 0) + result.totals.get("skip", 0)


def export_projects(queryset):
    """The projects as an Excel file in the import's own columns (so it can be edited and re-imported)."""
    headers = [
        COLUMNS[k]
        for k in ("number", "name", "sponsor", "leader", "co_organiser", "dates", "award", "year", "discipline", "unit")
    ]
    dataset = tablib.Dataset(headers=headers)
    firsts = {s.project_id: s for s in Session.objects.filter(project__in=queryset, sequence=1)}
    for project in queryset:
        session = firsts.get(project.pk)
        dates = ""
        if session:
            s, e = session.start_date, session.end_date
            dates = f"{s.year}年{s.month}月{s.day}日-" + (f"{e.year}年" if e.year != s.year else "") + f"{e.month}月{e.day}日"
        award = f"{project.get_level_display()}{project.credit_class}类{project.credits.normalize():f}分"
        dataset.append(
            [
                project.number,
                project.name,
                project.sponsor,
                project.leader,
                project.co_organiser,
                dates,
                award,
                project.year,
                project.discipline.code if project.discipline_id else "",
                project.holding_unit.name if project.holding_unit_id else "",
            ]
        )
    return xlsx_bytes(dataset)
