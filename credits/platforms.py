"""Credits that arrive by data feed from distance-learning platforms (seed 004).

One service, ``import_records``, holds the rules of a feed; the province's file import and the platforms'
API (``cme_portal/api``) both call it. One platform record gives one credit however often it is sent: the
(platform, record number) pair is unique in the database. Good records are imported, records already held
are skipped, bad records are refused with a code and a reason; each record is written in its own savepoint,
so nothing of a refused record is half-written and one bad record never stops the others.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import tablib
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cme_portal import punctuation
from cme_portal.accounts.models import User
from cme_portal.accounts.validators import normalise_document_number
from projects import numbers

from .ledger import next_revisions
from .models import Category, CreditLevel, CreditRecord, PlatformRecord, RecordStatus, Source

COLUMNS = ["记录号", "证件号", "姓名", "项目编号", "项目名称", "学分", "学时", "学分类别", "完成日期"]
# The feed's fields by their API names, in the file's column order.
FIELDS = ["record_id", "id_number", "name", "project_number", "project_name", "credits", "hours", "credit_class", "finished_on"]
COLUMN_OF = dict(zip(FIELDS, COLUMNS))
REQUIRED = [f for f in FIELDS if f != "hours"]
# What the ledger's columns hold (PlatformRecord.record_id, CreditRecord.activity_number / activity_name).
LIMITS = {"record_id": 64, "project_number": 64, "project_name": 200, "id_number": 32, "name": 50}


class Outcome(models.TextChoices):
    IMPORTED = "imported", gettext_lazy("已导入")
    SKIPPED = "skipped", gettext_lazy("已跳过")
    REFUSED = "refused", gettext_lazy("已拒绝")


class FeedCode(models.TextChoices):
    """Why a record was skipped or refused: codes a platform's system can rely on."""

    IMPORTED = "imported", gettext_lazy("已导入")
    ALREADY_IMPORTED = "already_imported", gettext_lazy("记录已导入")
    ALREADY_CREDITED = "already_credited", gettext_lazy("学员已有该项目的学分")
    MISSING = "missing", gettext_lazy("缺少必填项")
    TOO_LONG = "too_long", gettext_lazy("内容过长")
    UNKNOWN_LEARNER = "unknown_learner", gettext_lazy("证件号未注册")
    NAME_MISMATCH = "name_mismatch", gettext_lazy("姓名与证件号不一致")
    BAD_FORMAT = "bad_format", gettext_lazy("格式不正确")
    CREDITS_RANGE = "credits_range", gettext_lazy("学分超出范围")
    BAD_CLASS = "bad_class", gettext_lazy("学分类别不正确")
    FUTURE_DATE = "future_date", gettext_lazy("完成日期晚于今天")


@dataclass
class RecordResult:
    """What became of one record: ``ref`` is the caller's (a row number, an index in a batch)."""

    ref: object
    record_id: str
    status: str
    code: str
    message: str


@dataclass
class PlatformImportReport:
    imported: int = 0
    skipped: list = field(default_factory=list)  # (row, reason)
    refused: list = field(default_factory=list)  # (row, reason)


def _as_date(value):
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return datetime.strptime(str(value).strip().replace("/", "-"), "%Y-%m-%d").date()


def _text(record, name):
    value = record.get(name)
    return "" if value is None else str(value).strip()


def _printable(record, name):
    return not any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in _text(record, name))


class _Refused(Exception):
    def __init__(self, code, message):
        self.code, self.message = code, message


def _check(record, learners):
    """The record's values ready for the ledger, or _Refused with the first reason it cannot be taken."""
    missing = [COLUMN_OF[f] for f in REQUIRED if not _text(record, f)]
    if missing:
        raise _Refused(FeedCode.MISSING, _("缺少：%(columns)s") % {"columns": punctuation.mark("、").join(missing)})
    controls = [COLUMN_OF[f] for f in FIELDS if not _printable(record, f)]
    if controls:
        # A database refuses NUL and lone surrogates; nobody types the other control characters.
        raise _Refused(
            FeedCode.BAD_FORMAT, _("含有无法识别的控制字符：%(columns)s") % {"columns": punctuation.mark("、").join(controls)}
        )
    long = [COLUMN_OF[f] for f, limit in LIMITS.items() if len(_text(record, f)) > limit]
    if long:
        raise _Refused(FeedCode.TOO_LONG, _("内容过长：%(columns)s") % {"columns": punctuation.mark("、").join(long)})
    learner = learners.get(normalise_document_number(_text(record, "id_number")))
    if learner is None:
        raise _Refused(FeedCode.UNKNOWN_LEARNER, _("证件号 %(number)s 未在平台注册") % {"number": _text(record, "id_number")})
    if learner.name != _text(record, "name"):
        raise _Refused(FeedCode.NAME_MISMATCH, _("姓名“%(name)s”与证件号登记的姓名不一致") % {"name": _text(record, "name")})
    try:
        credits = Decimal(_text(record, "credits"))
        hours = Decimal(_text(record, "hours") or 0)
        finished = _as_date(record["finished_on"])
        if not (credits.is_finite() and hours.is_finite()):
            raise ValueError
    except (InvalidOperation, ValueError, TypeError):
        raise _Refused(FeedCode.BAD_FORMAT, _("学分、学时或完成日期（如 2026-05-01）格式不正确"))
    if not Decimal("0") < credits <= Decimal("25"):
        raise _Refused(FeedCode.CREDITS_RANGE, _("学分应大于 0，且不超过 25 分"))
    if not Decimal("0") <= hours <= Decimal("9999"):
        raise _Refused(FeedCode.BAD_FORMAT, _("学时应在 0 至 9999 之间"))
    if finished > date.today() or finished.year < 1990:
        raise _Refused(FeedCode.FUTURE_DATE, _("完成日期应在 1990 年之后，且不晚于今天"))
    given_class = _text(record, "credit_class").upper().replace("Ⅱ", "II").replace("Ⅰ", "I")
    credit_class = {"I": "I", "1": "I", "II": "II", "2": "II"}.get(given_class)
    if credit_class is None:
        raise _Refused(FeedCode.BAD_CLASS, _("学分类别应为 I 或 II"))
    return learner, credits.quantize(Decimal("0.1")), hours.quantize(Decimal("0.1")), finished, credit_class


def import_records(*, platform, records, imported_by):
    """Import a platform's ``records`` (pairs of a caller's reference and a dict keyed by FIELDS) as credits.

    ``platform`` is the platform's name in the catalogue. Returns one RecordResult per record, in order:
    imported, skipped (the platform's record id, or the learner's credit for the activity, is already held)
    or refused with a FeedCode and a reason. Raises nothing for a bad record.
    """
    records = list(records)
    # Looked up in two queries; a value no database can hold (control characters) is refused below, not sent.
    # Full-width and other scripts' digits read as ASCII, as every number field does (issue 16).
    id_numbers = {
        normalise_document_number(_text(record, "id_number")) for _ref, record in records if _printable(record, "id_number")
    }
    learners = {u.id_number: u for u in User.objects.filter(id_number__in=id_numbers)}
    # The batch's record ids already held, in one query (the unique constraint still decides under a race).
    held = set(
        PlatformRecord.objects.filter(
            platform=platform,
            record_id__in=[_text(record, "record_id") for _ref, record in records if _printable(record, "record_id")],
        ).values_list("record_id", flat=True)
    )
    results = []
    for ref, record in records:
        record_id = _text(record, "record_id")
        try:
            learner, credits, hours, finished, credit_class = _check(record, learners)
        except _Refused as refused:
            results.append(RecordResult(ref, record_id, Outcome.REFUSED, refused.code, refused.message))
            continue
        if record_id in held:
            results.append(_skipped(ref, record_id))
            continue
        result = _import_one(ref, record, platform, imported_by, learner, credits, hours, finished, credit_class)
        if result.status == Outcome.IMPORTED:
            held.add(record_id)
        results.append(result)
    return results


def _skipped(ref, record_id):
    return RecordResult(ref, record_id, Outcome.SKIPPED, FeedCode.ALREADY_IMPORTED, _("记录 %(id)s 已导入") % {"id": record_id})


def _import_one(ref, record, platform, imported_by, learner, credits, hours, finished, credit_class):
    record_id = _text(record, "record_id")
    number = _text(record, "project_number")
    key = numbers.canonical(number)
    if PlatformRecord.objects.filter(platform=platform, record_id=record_id).exists():
        return RecordResult(
            ref, record_id, Outcome.SKIPPED, FeedCode.ALREADY_IMPORTED, _("记录 %(id)s 已导入") % {"id": record_id}
        )
    if CreditRecord.objects.filter(
        learner=learner, activity_key=key, status=RecordStatus.EFFECTIVE, reversed_by__isnull=True
    ).exists():
        return RecordResult(ref, record_id, Outcome.SKIPPED, FeedCode.ALREADY_CREDITED, _("学员已有该项目的学分"))
    try:
        with transaction.atomic():
            source = PlatformRecord.objects.create(
                platform=platform, record_id=record_id, learner=learner, imported_by=imported_by
            )
            CreditRecord.objects.create(
                revision=next_revisions([learner.pk], key)[learner.pk],
                learner=learner,
                year=finished.year,
                credit_class=credit_class,
                level=CreditLevel.NATIONAL if key.endswith("(国)") else CreditLevel.PROVINCIAL,
                category=Category.PLATFORM,
                credits=credits,
                hours=hours,
                source=Source.PLATFORM,
                activity_number=number,
                activity_key=key,
                activity_name=_text(record, "project_name"),
                issuer=platform,
                start_date=finished,
                end_date=finished,
                platform_record=source,
                created_by=imported_by,
            )
    except IntegrityError:
        # Another import took the same record (or activity) between the check and the write.
        return RecordResult(
            ref, record_id, Outcome.SKIPPED, FeedCode.ALREADY_IMPORTED, _("记录 %(id)s 已导入") % {"id": record_id}
        )
    return RecordResult(ref, record_id, Outcome.IMPORTED, FeedCode.IMPORTED, _("已导入"))


def _read(upload):
    data = upload.read()
    try:
        if data[:2] == b"PK":
            return tablib.Dataset().load(data, format="xlsx")
        return tablib.Dataset().load(data.decode("utf-8-sig"), format="csv")
    except Exception:
        return None


def import_platform_file(upload, platform, imported_by, progress=None, chunk=500):
    """Import one platform file (Excel or CSV, COLUMNS) through ``import_records``; return a PlatformImportReport.

    Rows go to ``import_records`` ``chunk`` at a time; ``progress(done, total)`` is told after each chunk
    (the background import's page, ``credits.jobs``)."""
    report = PlatformImportReport()
    dataset = _read(upload)
    if dataset is None or not dataset.headers:
        report.refused.append((0, _("无法读取文件：请上传 Excel（.xlsx）或 UTF-8 编码的 CSV 文件。")))
        return report
    missing = [c for c in COLUMNS if c not in dataset.headers and c not in ("学时",)]
    if missing:
        report.refused.append((1, _("缺少列：%(columns)s。") % {"columns": punctuation.mark("、").join(missing)}))
        return report
    rows = [(index, {name: row.get(COLUMN_OF[name]) for name in FIELDS}) for index, row in enumerate(dataset.dict, start=2)]
    for start in range(0, len(rows), chunk):
        for result in import_records(platform=platform, records=rows[start : start + chunk], imported_by=imported_by):
            if result.status == Outcome.IMPORTED:
                report.imported += 1
            else:
                (report.skipped if result.status == Outcome.SKIPPED else report.refused).append((result.ref, result.message))
        if progress is not None:
            progress(min(start + chunk, len(rows)), len(rows))
    return report
