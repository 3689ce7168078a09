"""A province's published national list of 20,000 rows, imported as the worker imports it (W9).

Writes an Excel file in seed 004's columns, then runs the import task's body once (the check pass and
the import pass, all or nothing, with progress written to the cache), and prints:

    BENCH catalogue rows=20000 import_s=<seconds> rows_per_s=<n> progress_updates=<n>
"""

import io
import os
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cme_portal.settings")
django.setup()

import openpyxl
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from bench.database import prepare
from cme_portal.accounts.models import Organisation, OrgKind, Role, RoleAssignment, User
from projects import services
from projects.models import Entry, ImportState, Project

ROWS = int(os.environ.get("BENCH_CATALOGUE_ROWS", "20000"))


def sheet(rows):
    book = openpyxl.Workbook(write_only=True)
    page = book.create_sheet()
    page.append(["序号", "项目编号", "项目名称", "主办单位", "项目负责人", "协办单位", "举办日期", "学分"])
    for n in range(1, rows + 1):
        # A unique national number per row: second- and third-level discipline, then a three-digit serial.
        discipline = f"{1 + n % 24:02d}-{1 + (n // 24) % 9:02d}"
        serial = f"{n // 216 + 1:03d}"
        page.append(
            [
                n,
                f"2026-{discipline}-{serial}（国）",
                f"国家级继续教育项目{n}",
                "中华医学会",
                "负责人",
                "",
                "2026年5月10日-5月12日",
                "国家级I类4分",
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return SimpleUploadedFile("national-2026.xlsx", buffer.getvalue())


def main():
    prepare()
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM projects_session WHERE project_id IN (SELECT id FROM projects_project WHERE entry = %s)",
            [Entry.NATIONAL_LIST],
        )
    Project.objects.filter(entry=Entry.NATIONAL_LIST).delete()
    province, _ = Organisation.objects.get_or_create(name="基准省", parent=None, defaults={"kind": OrgKind.PROVINCE})
    admin, _ = User.objects.get_or_create(id_number="BENCHCATALOGUE", defaults={"name": "省继教办"})
    RoleAssignment.objects.get_or_create(user=admin, role=Role.PROVINCE_ADMIN, org=province)
    upload = sheet(ROWS)
    job = services.request_catalogue_import(admin, upload, entry=Entry.NATIONAL_LIST)
    updates = []
    original = services.cache.set
    services.cache.set = lambda key, value, *a, **k: (updates.append(value), original(key, value, *a, **k))[1]
    started = time.perf_counter()
    state = services.run_catalogue_import(job.pk)
    seconds = time.perf_counter() - started
    services.cache.set = original
    assert state == ImportState.DONE, job.errors
    assert Project.objects.filter(entry=Entry.NATIONAL_LIST).count() == ROWS
    print(
        f"BENCH catalogue rows={ROWS} import_s={seconds:.1f} rows_per_s={ROWS / seconds:.0f} progress_updates={len(updates)}",
        flush=True,
    )


if __name__ == "__main__":
    main()
