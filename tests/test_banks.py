"""Refund accounts against the Zengin bank and branch data, and stray punctuation in every free-text field."""
from __future__ import annotations

import random

import numpy as np
import pytest

from ocr.banks import check_bank_account
from ocr.plausibility import implausible_characters, stray_punctuation


@pytest.mark.parametrize("account,bank_known,branch_known", [
    ("りそな銀行新宿支店 普通 1234567", True, True),
    ("三菱UFJ銀行本店 普通 1234567", True, True),
    ("千葉信用金庫幕張支店 普通 1234567", True, True),  # Zengin writes it 千葉信金
    ("千葉信金中央支店 普通 1234567", True, True),
    ("り)そな銀行新宿支店 普通 1234567", False, None),  # read at 0.9932 and accepted before
    ("京葉信用金庫調布支店 普通 1234567", False, None),  # no such 信用金庫 (京葉銀行 is a bank)
    ("千葉銀行柏市支店 普通 1234567", True, False),  # 柏支店 is the branch
])
def test_accounts_are_checked_against_the_zengin_data(account, bank_known, branch_known):
    checked = check_bank_account(account)
    assert (checked.bank_known, checked.branch_known) == (bank_known, branch_known)


def test_stray_punctuation_is_flagged_in_any_free_text():
    assert stray_punctuation("り)そな銀行") == [")"]
    assert stray_punctuation("合同会社佐々木運輸()") == ["()"]  # paired, but nothing inside
    assert stray_punctuation("(株)佐藤商事") == []
    assert stray_punctuation("佐藤商事「本店」") == []
    assert stray_punctuation("千葉銀行#柏支店") == ["#"]
    assert implausible_characters("り)そな銀行", "organisation_name") == [")"]


def test_a_misread_bank_name_on_the_page_goes_to_review():
    """The refund account written 「り)そな銀行…」 on a real rendered 法人申告書 and read by the engine is not
    accepted: no Zengin institution starts so, and the bracket has no pair."""
    from ocr.read import read_fields
    from ocr.recognize import make_recognizer
    from ocr.templates import load_template
    from samples.render import choose_fill_style, fill_form, render_blank

    template = load_template("hojin_shinkoku")
    spec = next(s for s in template.fields if s.content == "bank_account")
    rng = random.Random(3)
    blank = render_blank(template)
    written = {spec.name: "り)そな銀行新宿支店 普通 1234567"}
    page = np.asarray(fill_form(blank, template, written, choose_fill_style("printed", rng), rng))
    reading = read_fields(page, template, make_recognizer())[spec.name]
    assert reading.status == "review"
    assert {"bank_not_in_zengin_data", "unlikely_character"} & set(reading.reasons), reading
    # The same page with the bank's real name is not held back by either check.
    written = {spec.name: "りそな銀行新宿支店 普通 1234567"}
    page = np.asarray(fill_form(blank, template, written, choose_fill_style("printed", rng), rng))
    reading = read_fields(page, template, make_recognizer())[spec.name]
    assert not {"bank_not_in_zengin_data", "branch_not_in_zengin_data", "unlikely_character"} & set(reading.reasons)
