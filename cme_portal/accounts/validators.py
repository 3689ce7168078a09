"""Document and mobile numbers: normalise, validate, and read what they carry.

Resident ID numbers (GB 11643) are checked for length, birth date and the ISO 7064
MOD 11-2 check digit (python-stdnum), and for a region whose first two digits are a
province-level code of GB/T 2260. The full six-digit code is never a reason to refuse:
a card stays valid for life under the code it was issued with, and no table (stdnum's
included) lists every county code ever issued, so an unknown one is only a note for
reviewers (``region_note``). Each refusal says which part is wrong, so the person knows
what to look at on their card.
"""

import re
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum.cn import ric
from stdnum.exceptions import InvalidComponent

from cme_portal.digits import ascii_code

from .models import DocumentType, Sex

HMT_PREFIXES = {"810000": "香港", "820000": "澳门", "830000": "台湾"}

# GB/T 2260 province-level codes: the first two digits of every resident ID number.
PROVINCE_CODES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)

_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
_PASSPORT_RE = re.compile(r"^[A-Z0-9]{5,17}$")
_HK_MACAO_PERMIT_RE = re.compile(r"^[HM]\d{8}(\d{2})?$")
_TAIWAN_PERMIT_RE = re.compile(r"^\d{8}(\d{2})?$")
_MILITARY_ID_RE = re.compile(r"^[\u4e00-\u9fa5]{1,4}字第?\d{4,8}号?$|^[A-Z0-9]{6,12}$")


@dataclass(frozen=True)
class DocumentFacts:
    """What a document number tells about its holder (None where it tells nothing)."""

    number: str
    birth_date: date | None = None
    sex: str | None = None


def normalise_document_number(number):
    """ASCII digits, upper case, no spaces: the form every document number is stored and matched in."""
    return re.sub(r"\s+", "", ascii_code(number or "")).upper()


def normalise_mobile(number):
    """ASCII digits; strip spaces, dashes and a +86 / 0086 prefix."""
    number = re.sub(r"[\s-]+", "", ascii_code(number or ""))
    for prefix in ("+86", "0086"):
        if number.startswith(prefix):
            number = number[len(prefix) :]
    return number


def validate_mobile(number):
    """Return the normalised mainland mobile number, or raise ValidationError."""
    number = normalise_mobile(number)
    if not _MOBILE_RE.match(number):
        raise ValidationError(_("手机号码应为 11 位数字，以 1 开头，例如 13812345678。"), code="mobile")
    return number


def _eighteen_digit_facts(number, *, hmt):
    """Shared checks for resident ID cards and HK/Macao/Taiwan residence permits."""
    if len(number) != 18 or not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise ValidationError(_("证件号应为 18 位：17 位数字加 1 位数字或 X。"), code="id_format")
    prefix = number[:6]
    if hmt and prefix not in HMT_PREFIXES:
        raise ValidationError(_("港澳台居民居住证号码应以 810000、820000 或 830000 开头。"), code="id_region")
    if not hmt and prefix in HMT_PREFIXES:
        raise ValidationError(_("以 81、82、83 开头的是港澳台居民居住证，请把证件类型选为“港澳台居民居住证”。"), code="id_region")
    try:
        birth = ric.get_birth_date(number)
    except InvalidComponent:
        raise ValidationError(_("证件号中的出生日期（第 7–14 位）不是一个存在的日期，请核对。"), code="id_birth_date")
    if birth > date.today() or birth.year < 1900:
        raise ValidationError(_("证件号中的出生日期（第 7–14 位）不在合理范围内，请核对。"), code="id_birth_date")
    if not hmt and prefix[:2] not in PROVINCE_CODES:
        raise ValidationError(_("证件号前 2 位应为省级行政区代码（如 11 北京、33 浙江、44 广东），请核对。"), code="id_region")
    if ric.calc_check_digit(number) != number[17]:  # it ignores the last character
        raise ValidationError(_("证件号校验位（最后一位）不正确，请逐位核对后重新输入。"), code="id_checksum")
    sex = Sex.MALE if int(number[16]) % 2 else Sex.FEMALE
    return DocumentFacts(number=number, birth_date=birth, sex=sex)


def region_note(number):
    """A note for reviewers when an 18-digit resident ID's six-digit region code is not in
    python-stdnum's table (a county renamed or merged since the card was issued, or a typo);
    empty when the code is known or the number is no resident ID. Never a refusal."""
    number = normalise_document_number(number)
    if len(number) != 18 or not number[:17].isdigit() or number[:6] in HMT_PREFIXES:
        return ""
    try:
        ric.get_birth_place(number)
    except InvalidComponent:
        return _("地区代码 %(code)s 不在本平台的行政区划表中（可能是已调整的区县代码），请与证件原件核对。") % {
            "code": number[:6]
        }
    return ""


def validate_document(id_type, number):
    """Validate ``number`` as a document of ``id_type``; return its DocumentFacts.

    Raises ValidationError with a message that names the faulty part.
    """
    number = normalise_document_number(number)
    if not number:
        raise ValidationError(_("请输入证件号。"), code="required")
    if id_type == DocumentType.RESIDENT_ID:
        return _eighteen_digit_facts(number, hmt=False)
    if id_type == DocumentType.HMT_RESIDENCE_PERMIT:
        return _eighteen_digit_facts(number, hmt=True)
    checks = {
        DocumentType.PASSPORT: (_PASSPORT_RE, _("护照号码应为 5–17 位字母或数字，例如 E12345678。")),
        DocumentType.HK_MACAO_PERMIT: (
            _HK_MACAO_PERMIT_RE,
            _("港澳居民来往内地通行证号码应为 H 或 M 加 8 位或 10 位数字，例如 H12345678。"),
        ),
        DocumentType.TAIWAN_PERMIT: (_TAIWAN_PERMIT_RE, _("台湾居民来往大陆通行证号码应为 8 位或 10 位数字。")),
        DocumentType.MILITARY_ID: (_MILITARY_ID_RE, _("军官证号码格式不正确，例如 南字第20051234号。")),
    }
    if id_type not in checks:
        raise ValidationError(_("请选择证件类型。"), code="id_type")
    pattern, message = checks[id_type]
    if not pattern.match(number):
        raise ValidationError(message, code="id_format")
    return DocumentFacts(number=number)


def mask_id_number(number):
    """110105********002X: enough to recognise, not enough to reuse."""
    if not number:
        return ""
    if len(number) < 12:
        # Short documents (passports, permits): hide all but two characters at each end.
        keep = 1 if len(number) <= 6 else 2
        return number[:keep] + "*" * (len(number) - 2 * keep) + number[-keep:]
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_mobile(number):
    return f"{number[:3]}****{number[-4:]}" if number and len(number) == 11 else (number or "")


def mask_name(name):
    """张*, 欧*明: the first and last characters stay, the rest is hidden."""
    if not name:
        return ""
    if len(name) == 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def canonical_personnel_number(value):
    """人员编号 as compared (seed 004): full-width characters folded, spaces dropped, letters upper-case."""
    import unicodedata

    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", value or "")).upper()
