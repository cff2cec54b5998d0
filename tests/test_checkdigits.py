import pytest

from ocr.checkdigits import (
    corporate_number_check_digit,
    is_valid_corporate_number,
    is_valid_my_number,
    mask_my_number,
    my_number_check_digit,
)


@pytest.mark.parametrize("number", ["123456789018", "987654321093"])
def test_my_number_worked_examples(number):
    assert my_number_check_digit(number[:11]) == int(number[-1])
    assert is_valid_my_number(number)


def test_my_number_remainder_zero_or_one_gives_zero():
    assert my_number_check_digit("00000000000") == 0  # R = 0
    bases_with_r1 = [f"{i:011d}" for i in range(200) if _weighted_sum(f"{i:011d}") % 11 == 1]
    assert bases_with_r1 and all(my_number_check_digit(b) == 0 for b in bases_with_r1)


def _weighted_sum(base11: str) -> int:
    weights_left_to_right = [6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2]
    return sum(int(d) * w for d, w in zip(base11, weights_left_to_right))


@pytest.mark.parametrize("number", ["123456789018", "987654321093"])
def test_every_single_digit_change_fails_my_number(number):
    for position in range(12):
        for digit in "0123456789":
            if digit == number[position]:
                continue
            changed = number[:position] + digit + number[position + 1:]
            assert not is_valid_my_number(changed), changed


@pytest.mark.parametrize("bad", ["12345678901", "1234567890180", "12345678901a", "１２３４５６７８９０１８", ""])
def test_my_number_wrong_shape_is_invalid(bad):
    assert not is_valid_my_number(bad)


def test_check_digit_refuses_wrong_base():
    with pytest.raises(ValueError):
        my_number_check_digit("1234567890")
    with pytest.raises(ValueError):
        corporate_number_check_digit("12345678901a")


@pytest.mark.parametrize("number", ["7000012050002", "7123456789012"])
def test_corporate_number_worked_examples(number):
    assert corporate_number_check_digit(number[1:]) == int(number[0])
    assert is_valid_corporate_number(number)


def test_corporate_number_detects_single_changes_except_zero_nine():
    number = "7000012050002"
    undetected = []
    for position in range(13):
        for digit in "0123456789":
            if digit == number[position]:
                continue
            changed = number[:position] + digit + number[position + 1:]
            if is_valid_corporate_number(changed):
                undetected.append((number[position], digit))
    # mod 9 cannot see 0<->9 (forms.md §4); every other single change is caught.
    assert undetected and all({a, b} == {"0", "9"} for a, b in undetected)


@pytest.mark.parametrize("bad", ["700001205000", "70000120500021", "0000012050002", "7000012O50002"])
def test_corporate_number_wrong_shape_or_digit(bad):
    assert not is_valid_corporate_number(bad)


def test_mask_my_number():
    assert mask_my_number("123456789018") == "********9018"
    assert mask_my_number("9018") == "****"
    assert mask_my_number("") == ""
