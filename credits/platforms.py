"""Credits that arrive by data feed from distance-learning platforms (seed 004).

One platform record gives one credit however often it is imported: the
(platform, record number) pair is unique in the database. The import takes
the good rows, skips rows already held, and refuses bad rows with a reason.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import tablib
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from cme_portal.accounts.models import User
from cme_portal.accounts.validators import normalise_document_number
from projects import numbers

from .ledger import next_revisions
from .models import Category, CreditLevel, CreditRecord, PlatformRecord, RecordStatus, Source

COLUMNS = ["记录号", "证件号", "姓名", "项目编号", "项目名称", "学分", "学时", "学分类别", "完成日期"]


@dataclass
class PlatformImportReport:
    imported: int = 0
    skipped: list = field(default_factory=list)  # (row, reason)
    refused: list = field(default_factory=list)  # (row, reason)


def _read(upload):
    data = upload.read()
    try:
        if data[:2] == b"PK":
            return tablib.Dataset().load(data, format="xlsx")
        return tablib.Dataset().load(data.decode("utf-8-sig"), format="csv")
    except Exception:
        return None


def _as_date(value):
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return datetime.strptime(str(value).strip().replace("/", "-"), "%Y-%m-%d").date()


def _row_problem(row):
    missing = [c for c in COLUMNS[:6] + ["完成日期"] if not str(row.get(c) or "").strip()]
    if missing:
        return _("缺少：%(columns)s") % {"columns": "、".join(missing)}
    return None


def import_platform_file(upload, platform, imported_by):
    """Import one platform file; return a PlatformImportReport (imported count, skipped and refused rows)."""
    report = PlatformImportReport()
    dataset = _read(upload)
    if dataset is None or not dataset.headers:
        report.refused.append((0, _("无法读取文件：请上传 Excel（.xlsx）或 UTF-8 编码的 CSV 文件。")))
        return report
    missing = [c for c in COLUMNS if c not in dataset.headers and c not in ("学时",)]
    if missing:
        report.refused.append((1, _("缺少列：%(columns)s。") % {"columns": "、".join(missing)}))
        return report
    id_numbers = {normalise_document_number(str(row.get("证件号") or "")) for row in dataset.dict}
    learners = {u.id_number: u for u in User.objects.filter(id_number__in=id_numbers)}
    for index, row in enumerate(dataset.dict, start=2):
        problem = _row_problem(row)
        if problem:
            report.refused.append((index, problem))
            continue
        learner = learners.get(normalise_document_number(str(row["证件号"])))
        if learner is None:
            report.refused.append((index, _("证件号 %(number)s 未在平台注册") % {"number": row["证件号"]}))
            continue
        if learner.name != str(row["姓名"]).strip():
            report.refused.append((index, _("姓名“%(name)s”与证件号登记的姓名不一致") % {"name": row["姓名"]}))
            continue
        try:
            credits = Decimal(str(row["学分"]).strip())
            hours = Decimal(str(row.get("学时") or 0).strip() or 0)
            finished = _as_date(row["完成日期"])
        except (InvalidOperation, ValueError):
            report.refused.append((index, _("学分、学时或完成日期（如 2026-05-01）格式不正确")))
            continue
        if not (credits.is_finite() and hours.is_finite()):  # NaN would raise in a comparison, Infinity overflow
            report.refused.append((index, _("学分、学时或完成日期（如 2026-05-01）格式不正确")))
            continue
        if not Decimal("0") < credits <= Decimal("25"):
            report.refused.append((index, _("学分应大于 0，且不超过 25 分")))
            continue
        if not Decimal("0") <= hours < Decimal("10000"):
            report.refused.append((index, _("学时应在 0 到 9999 之间")))
            continue
        given_class = str(row["学分类别"]).strip().upper().replace("Ⅱ", "II").replace("Ⅰ", "I")
        credit_class = {"I": "I", "1": "I", "II": "II", "2": "II"}.get(given_class)
        if credit_class is None:
            report.refused.append((index, _("学分类别应为 I 或 II")))
            continue
        record_id = str(row["记录号"]).strip()
        key = numbers.canonical(str(row["项目编号"]))
        if PlatformRecord.objects.filter(platform=platform, record_id=record_id).exists():
            report.skipped.append((index, _("记录 %(id)s 已导入") % {"id": record_id}))
            continue
        if CreditRecord.objects.filter(
            learner=learner, activity_key=key, status=RecordStatus.EFFECTIVE, reversed_by__isnull=True
        ).exists():
            report.skipped.append((index, _("学员已有该项目的学分")))
            continue
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
                    level=CreditLevel.NATIONAL if numbers.canonical(key).endswith("(国)") else CreditLevel.PROVINCIAL,
                    category=Category.PLATFORM,
                    credits=credits,
                    hours=hours,
                    source=Source.PLATFORM,
                    activity_number=str(row["项目编号"]).strip(),
                    activity_key=key,
                    activity_name=str(row["项目名称"]).strip(),
                    issuer=platform,
                    start_date=finished,
                    end_date=finished,
                    platform_record=source,
                    created_by=imported_by,
                )
        except IntegrityError:
            report.skipped.append((index, _("记录 %(id)s 已导入") % {"id": record_id}))
            continue
        report.imported += 1
    return report
