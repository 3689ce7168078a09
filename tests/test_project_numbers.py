import pytest

from cme_portal.errors import DomainError
from projects import numbers


@pytest.mark.parametrize(
    "typed", ["2021-03-05-129（国）", "2021-03-05-129 (国)", "2021-03-05-129(国)", " 2021-03-05-129 （国） "]
)
def test_bracket_widths_and_spaces_are_one_number(typed):
    parsed = numbers.parse(typed)
    assert parsed.canonical == "2021-03-05-129(国)"
    assert parsed.kind == numbers.NATIONAL
    assert (parsed.year, parsed.second, parsed.third) == (2021, "03", "03-05")
    assert parsed.typed == typed.strip()  # shown as the person typed it


def test_national_number_needs_two_digit_codes():
    with pytest.raises(DomainError) as refused:
        numbers.parse("2021-3-5-129(国)")
    assert refused.value.code == "number_format"
    assert "2021-03-05-129（国）" in refused.value.message


def test_provincial_and_free_forms():
    assert numbers.parse("2020480301016 (省)").kind == numbers.PROVINCIAL
    free = numbers.parse("口继教字2021-032")
    assert free.kind == numbers.OTHER and free.year == 2021 and free.canonical == "口继教字2021-032"


def test_year_and_discipline_must_agree_with_the_project():
    parsed = numbers.parse("2021-03-05-129（国）")
    numbers.check_agrees(parsed, year=2021, discipline_code="03-05")
    numbers.check_agrees(parsed, year=2021, discipline_code="03")
    with pytest.raises(DomainError, match="年份"):
        numbers.check_agrees(parsed, year=2022)
    with pytest.raises(DomainError, match="学科代码"):
        numbers.check_agrees(parsed, year=2021, discipline_code="14-02")


def test_national_number_missing_its_mark_is_recognised():
    assert numbers.looks_national_without_mark("2021-03-05-129")
    assert not numbers.looks_national_without_mark("2021-03-05-129（国）")
