"""Project numbers: one parser and normaliser for every match and uniqueness check.

People type 2021-03-05-129（国）, 2021-03-05-129 (国) or 2021-03-05-129(国);
they are one number. The canonical form (NFKC, no spaces, upper case) is
stored beside the number as typed, which is what the portal shows.
"""

import re
import unicodedata
from dataclasses import dataclass

from django.utils.translation import gettext as _

from cme_portal.errors import DomainError

NATIONAL = "national"
PROVINCIAL = "provincial"
OTHER = "other"

_NATIONAL_RE = re.compile(r"^(?P<year>\d{4})-(?P<second>\d{2})-(?P<third>\d{2})-(?P<serial>\d{3})\(国\)$")
_PROVINCIAL_RE = re.compile(r"^(?P<year>\d{4})\d{5,12}\(省\)$")
_YEAR_RE = re.compile(r"(?<!\d)(?P<year>(19|20)\d{2})(?!\d)")


@dataclass(frozen=True)
class ProjectNumber:
    typed: str
    canonical: str
    kind: str
    year: int | None = None
    second: str = ""  # second-level discipline code, e.g. "03"
    third: str = ""  # third-level, e.g. "03-05"

    def __str__(self):
        return self.typed


def canonical(raw):
    """Full-width to half-width, spaces removed, upper case: the form numbers are matched in."""
    text = unicodedata.normalize("NFKC", raw or "")
    return re.sub(r"\s+", "", text).upper()


def parse(raw):
    """Parse a project number as typed; return a ProjectNumber.

    Raises DomainError for an empty number or a national number (one that says
    国) that is not YYYY-AA-BB-NNN（国）.
    """
    typed = (raw or "").strip()
    key = canonical(typed)
    if not key:
        raise DomainError(_("请填写项目编号。"), code="number_required", field="number")
    match = _NATIONAL_RE.match(key)
    if match:
        return ProjectNumber(typed, key, NATIONAL, int(match["year"]), match["second"], f"{match['second']}-{match['third']}")
    if "(国" in key or key.endswith("国)"):
        raise DomainError(
            _("国家级项目编号应为“年份-二级学科-三级学科-序号（国）”，每段数字位数固定，例如 2021-03-05-129（国）。"),
            code="number_format",
            field="number",
        )
    match = _PROVINCIAL_RE.match(key)
    if match:
        return ProjectNumber(typed, key, PROVINCIAL, int(match["year"]))
    year = _YEAR_RE.search(key)
    return ProjectNumber(typed, key, OTHER, int(year["year"]) if year else None)


def looks_national_without_mark(raw):
    """2021-03-05-129 with its （国） left off: learners do this (seed 004 warns against it)."""
    return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}-\d{3}", canonical(raw)))


def check_agrees(number, *, year=None, discipline_code=""):
    """Raise DomainError when a national number's year or discipline codes disagree with the project's."""
    if number.kind != NATIONAL:
        return
    if year and number.year != int(year):
        raise DomainError(
            _("项目编号中的年份 %(number_year)s 与项目年份 %(year)s 不一致。") % {"number_year": number.year, "year": year},
            code="number_year",
            field="number",
        )
    if discipline_code:
        expected = number.third if "-" in discipline_code else number.second
        if discipline_code != expected:
            raise DomainError(
                _("项目编号中的学科代码 %(code)s 与所选学科（%(discipline)s）不一致。")
                % {"code": expected, "discipline": discipline_code},
                code="number_discipline",
                field="number",
            )
