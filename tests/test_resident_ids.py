"""Resident ID numbers by the standard (GB 11643 / GB/T 2260), not by one library's region table.

A card stays valid for life under the region code it was issued with; python-stdnum's table is not a
list of every county code ever issued (110114 昌平区 and 110115 大兴区 are missing from it), so the
full code is a note for reviewers, never a refusal. Only the province-level first two digits, the
birth date and the check digit refuse a number.
"""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from stdnum.cn import ric

from cme_portal.accounts.models import DocumentType, Sex
from cme_portal.accounts.validators import PROVINCE_CODES, region_note, validate_document

from . import factories


def with_check(body):
    return body + ric.calc_check_digit(body + "0")


# One real county-level code per province-level division (GB/T 2260), capitals' districts mostly.
PROVINCES = {
    "11": "110105", "12": "120101", "13": "130102", "14": "140105", "15": "150102",
    "21": "210102", "22": "220102", "23": "230102", "31": "310101", "32": "320102",
    "33": "330106", "34": "340102", "35": "350102", "36": "360102", "37": "370102",
    "41": "410102", "42": "420102", "43": "430102", "44": "440103", "45": "450102",
    "46": "460105", "50": "500101", "51": "510104", "52": "520102", "53": "530102",
    "54": "540102", "61": "610102", "62": "620102", "63": "630102", "64": "640104",
    "65": "650102", "71": "710000", "81": "810101", "82": "820001",
}  # fmt: skip

# Real codes the issue names (refused before) and codes python-stdnum 2.2 lacks.
ISSUED_BUT_UNLISTED = ["330106", "330203", "110114", "110115"]


def test_the_corpus_covers_every_province_level_code():
    assert set(PROVINCES) == PROVINCE_CODES == {code[:2] for code in PROVINCES.values()}


@pytest.mark.parametrize("region", sorted(PROVINCES.values()) + ISSUED_BUT_UNLISTED)
@pytest.mark.parametrize("birth, sex", [(date(1949, 10, 1), Sex.MALE), (date(2001, 2, 28), Sex.FEMALE)])
def test_a_real_shaped_number_from_every_province_is_accepted(region, birth, sex):
    number = with_check(f"{region}{birth:%Y%m%d}12{1 if sex == Sex.MALE else 2}")

    facts = validate_document(DocumentType.RESIDENT_ID, number)

    assert (facts.number, facts.birth_date, facts.sex) == (number, birth, sex)


@pytest.mark.parametrize("prefix", ["810000", "820000", "830000"])
def test_residence_permits_of_hong_kong_macao_and_taiwan(prefix):
    number = with_check(f"{prefix}19900101001")

    assert validate_document(DocumentType.HMT_RESIDENCE_PERMIT, number).birth_date == date(1990, 1, 1)
    with pytest.raises(ValidationError) as refused:
        validate_document(DocumentType.RESIDENT_ID, number)
    assert "港澳台居民居住证" in refused.value.messages[0]


@pytest.mark.parametrize(
    "number, id_type, message",
    [
        (with_check("00010519491231002"), DocumentType.RESIDENT_ID, "省级行政区代码"),
        (with_check("19010519491231002"), DocumentType.RESIDENT_ID, "省级行政区代码"),
        (with_check("24010519491231002"), DocumentType.RESIDENT_ID, "省级行政区代码"),
        (with_check("55010519491231002"), DocumentType.RESIDENT_ID, "省级行政区代码"),
        (with_check("70010519491231002"), DocumentType.RESIDENT_ID, "省级行政区代码"),
        (with_check("83010119491231002"), DocumentType.RESIDENT_ID, "省级行政区代码"),
        (with_check("99999919800101001"), DocumentType.RESIDENT_ID, "省级行政区代码"),
        ("330106198505200110", DocumentType.RESIDENT_ID, "校验位"),
        (with_check("33010619850230001"), DocumentType.RESIDENT_ID, "出生日期"),
        (with_check("33010618991231001"), DocumentType.RESIDENT_ID, "出生日期"),
        (with_check("33010620991231001"), DocumentType.RESIDENT_ID, "出生日期"),
        ("33010619850520011", DocumentType.RESIDENT_ID, "18 位"),
        ("3301061985052001101", DocumentType.RESIDENT_ID, "18 位"),
        ("33010619850520011Y", DocumentType.RESIDENT_ID, "18 位"),
        (with_check("11010519491231002"), DocumentType.HMT_RESIDENCE_PERMIT, "810000"),
        ("810000199001010010", DocumentType.HMT_RESIDENCE_PERMIT, "校验位"),
    ],
)
def test_invalid_numbers_are_refused_with_the_part_that_is_wrong(number, id_type, message):
    with pytest.raises(ValidationError) as refused:
        validate_document(id_type, number)
    assert message in refused.value.messages[0]


def test_full_width_and_other_script_digits_are_read_as_ascii():
    number = with_check("33020319850520011")
    typed = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in number[:9]) + "".join(
        chr(0x0660 + int(c)) if c.isdigit() else c for c in number[9:]
    )

    assert validate_document(DocumentType.RESIDENT_ID, typed).number == number


def test_an_unknown_county_code_is_a_note_never_a_refusal():
    assert "110114" in region_note(with_check("11011419850520011"))
    assert region_note(with_check("11010519850520011")) == ""
    assert region_note(with_check("81000019900101001")) == ""
    assert region_note("E12345678") == ""


def test_reviewers_see_the_note_and_the_learner_does_not(client, tree, cast):
    person = factories.learner(unit=tree["unit_a"], id_number=with_check("11011419850520011"))
    entry = factories.credit_entry(person)
    url = reverse("credits:entry_detail", args=[entry.pk])

    client.force_login(cast["unit_admin"])
    assert "不在本平台的行政区划表中" in client.get(url).content.decode()
    client.force_login(person)
    assert "不在本平台的行政区划表中" not in client.get(url).content.decode()
