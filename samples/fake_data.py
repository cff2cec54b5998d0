"""Fake but consistent contents for each form (Faker ja_JP), with the rules of ../shared/forms.md.

Each generator returns what a person would write (`written`) and its normalised ground truth (`truth`), and the
names of fields made wrong on purpose (`deliberately_invalid`), so the benchmark can tell a misread from a form
that was wrong on paper.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from faker import Faker

from ocr.wareki import date_to_wareki
from samples.population import (RARE_SURNAME_SHARE, RARE_SURNAMES, draw_employer, draw_person,  # noqa: F401
                                make_corporate_number, make_my_number, surname)


@dataclass
class FormContent:
    form_id: str
    written: dict[str, object]
    truth: dict[str, object]
    deliberately_invalid: list[str] = field(default_factory=list)


def _corrupt_digit(number: str, rng: random.Random, position: int | None = None) -> str:
    index = rng.randrange(len(number)) if position is None else position
    wrong = str((int(number[index]) + rng.randrange(1, 10)) % 10)
    return number[:index] + wrong + number[index + 1:]


def _random_date(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange((end - start).days + 1))


def ido_todoke(rng: random.Random, faker: Faker, invalid_share: float = 0.0) -> FormContent:
    person = draw_person(rng, faker, date(1950, 1, 1), date(2006, 12, 31))  # someone the city knows, mostly
    employer = draw_employer(rng)
    last_kanji, first_kanji = person.family_kanji, person.given_kanji
    last_kana, first_kana = person.kana.split(" ")
    birth = person.birth
    birth_era, birth_y, birth_m, birth_d = date_to_wareki(birth)
    ido_date = _random_date(rng, date(2025, 6, 1), date(2026, 5, 31))
    _, ido_y, ido_m, ido_d = date_to_wareki(ido_date)
    # 年税額 is split into 12 monthly amounts; June takes the 100円未満-free remainder (forms.md §2).
    monthly = rng.randrange(20, 600) * 100
    june = monthly + rng.randrange(0, 12) * 100
    nenzeigaku = june + monthly * 11
    months_collected = min(12, max(0, (ido_date.year - 2025) * 12 + ido_date.month - 6 + 1))
    choshuzumi = 0 if months_collected == 0 else june + (months_collected - 1) * monthly
    michoshu = nenzeigaku - choshuzumi
    my_number = person.my_number
    corp_number = employer.corporate_number
    shitei_bango = employer.shitei_no
    ido_jiyu = rng.choices(["退職", "転勤", "休職", "死亡", "その他"], weights=[70, 15, 8, 2, 5])[0]
    choshu_hoho = rng.choice(["特別徴収継続", "一括徴収", "普通徴収"])
    truth: dict[str, object] = {
        "shitei_bango": shitei_bango,
        "shiharaisha_hojin_bango": corp_number,
        "shiharaisha_name": employer.name,
        "shiharaisha_shozaichi": employer.address,
        "shotokusha_kana": f"{last_kana} {first_kana}",
        "shotokusha_name": f"{last_kanji}{first_kanji}",
        "seinengappi_era": birth_era,
        "seinengappi": birth.isoformat(),
        "my_number": my_number,
        "jusho": person.address,
        "nenzeigaku": str(nenzeigaku),
        "choshuzumi_gaku": str(choshuzumi),
        "michoshu_gaku": str(michoshu),
        "ido_nengappi": ido_date.isoformat(),
        "ido_jiyu": ido_jiyu,
        "choshu_hoho": choshu_hoho,
    }
    invalid: list[str] = []
    if rng.random() < invalid_share:
        truth["my_number"] = _corrupt_digit(my_number, rng, position=11)
        invalid.append("my_number")
    written = dict(truth)
    written["shotokusha_kana"] = f"{last_kana}\u3000{first_kana}"
    written["shotokusha_name"] = f"{last_kanji}\u3000{first_kanji}"
    written["seinengappi"] = (_year_text(birth_y), str(birth_m), str(birth_d))
    written["ido_nengappi"] = (_year_text(ido_y), str(ido_m), str(ido_d))
    return FormContent("ido_todoke", written, truth, invalid)


def _year_text(era_year: int) -> str:
    return "元" if era_year == 1 else str(era_year)
