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

from ocr.tax_rules import tokucho_collected, tokucho_monthly
from ocr.wareki import date_to_wareki
from samples.addresses import at_a_real_place
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


TITLES = ("代表取締役", "代表取締役", "代表取締役社長", "取締役社長", "代表社員", "理事長", "代表理事")


def _phone(rng: random.Random) -> str:
    return f"043-{rng.randint(200, 299)}-{rng.randint(0, 9999):04d}" if rng.random() < 0.75 \
        else f"0{rng.randint(3, 9)}{rng.randint(0, 9)}-{rng.randint(200, 999)}-{rng.randint(0, 9999):04d}"


def _name_pair(rng: random.Random, faker: Faker) -> tuple[str, str]:
    family, _ = surname(rng, faker)
    given, _, _ = faker.first_name_pair()
    return family, given


def _collect_how(rng: random.Random, jiyu: str, month: int) -> tuple[str, str | None, str | None]:
    """徴収方法 and its reason as the law and the sheets have it (forms.md §2): a 退職 between 1月1日 and 4月30日
    is collected at once (一括徴収) unless the last pay is too small; 6月–12月 only when the person asks."""
    early = 1 <= month <= 4
    late = 6 <= month <= 12
    if jiyu == "転勤" and rng.random() < 0.9:
        return "特別徴収継続", None, None
    if jiyu == "退職":
        if early:
            return (("一括徴収", "1月1日から4月30日の異動", None) if rng.random() < 0.85
                    else ("普通徴収", None, "支払不足"))
        if late:
            return rng.choices([("一括徴収", "本人の申出", None), ("普通徴収", None, "申出なし"),
                                ("特別徴収継続", None, None)], weights=[20, 60, 20])[0]
        return rng.choice([("普通徴収", None, "その他"), ("特別徴収継続", None, None)])
    if late and rng.random() < 0.15:
        return "一括徴収", "本人の申出", None
    return "普通徴収", None, "申出なし" if late else ("支払不足" if early else "その他")


def ido_todoke(rng: random.Random, faker: Faker, invalid_share: float = 0.0) -> FormContent:
    person = draw_person(rng, faker, date(1950, 1, 1), date(2006, 12, 31))  # someone the city knows, mostly
    employer = draw_employer(rng)
    last_kanji, first_kanji = person.family_kanji, person.given_kanji
    last_kana, first_kana = person.kana.split(" ")
    birth = person.birth
    birth_era, birth_y, birth_m, birth_d = date_to_wareki(birth)
    ido_date = _random_date(rng, date(2025, 6, 1), date(2026, 5, 31))
    _, ido_y, ido_m, ido_d = date_to_wareki(ido_date)
    teishutsu = ido_date + timedelta(days=rng.randint(1, 40))
    _, tei_y, tei_m, tei_d = date_to_wareki(teishutsu)
    # 年税額 is split into 12 monthly amounts; June takes the 100円未満 remainder (地方税法321条の5, forms.md §2).
    monthly = rng.randrange(20, 600) * 100
    june = monthly + rng.randrange(0, 12) * 100
    nenzeigaku = june + monthly * 11
    # Collected from 6月分 through the month of the change (a May change leaves 5月分 to collect).
    last_collected = 4 if ido_date.month == 5 else ido_date.month
    choshuzumi = tokucho_collected(nenzeigaku, 6, last_collected)
    michoshu = nenzeigaku - choshuzumi
    my_number = person.my_number
    corp_number = employer.corporate_number
    ido_jiyu = rng.choices(["退職", "転勤", "休職", "死亡", "その他"], weights=[70, 15, 8, 2, 5])[0]
    choshu_hoho, ikkatsu_riyu, futsu_riyu = _collect_how(rng, ido_jiyu, ido_date.month)
    rep_family, rep_given = _name_pair(rng, faker)
    contact_family, contact_given = _name_pair(rng, faker)
    title = rng.choice(TITLES)
    truth: dict[str, object] = {
        "shitei_bango": employer.shitei_no,
        "shiharaisha_hojin_bango": corp_number,
        "shiharaisha_name": employer.name,
        "daihyosha_shokushimei": f"{title}{rep_family}{rep_given}",
        "shiharaisha_shozaichi": employer.address,
        "renrakusha_shimei": f"{contact_family}{contact_given}",
        "renrakusha_denwa": _phone(rng),
        "nendo_kubun": "現年度",
        "teishutsu_nengappi": teishutsu.isoformat(),
        "shotokusha_kana": f"{last_kana} {first_kana}",
        "shotokusha_name": f"{last_kanji}{first_kanji}",
        "seinengappi_era": birth_era,
        "seinengappi": birth.isoformat(),
        "my_number": my_number,
        "jusho": person.address,
        "nenzeigaku": str(nenzeigaku),
        "choshuzumi_gaku": str(choshuzumi),
        "michoshu_gaku": str(michoshu),
        "tsukiwari_gaku": str(tokucho_monthly(nenzeigaku)),
        "choshuzumi_kara": "6",
        "choshuzumi_made": str(last_collected),
        "ido_nengappi": ido_date.isoformat(),
        "ido_jiyu": ido_jiyu,
        "choshu_hoho": choshu_hoho,
    }
    if rng.random() < 0.4:
        truth["jukyusha_bango"] = str(rng.randint(1, 99999))
    if choshu_hoho != "特別徴収継続" and rng.random() < 0.5:
        truth["ido_go_jusho"] = at_a_real_place(faker.address())
    if choshu_hoho == "一括徴収":
        truth.update({"ikkatsu_riyu": ikkatsu_riyu, "ikkatsu_yotei_gaku": str(michoshu),
                      "ikkatsu_nonyu_tsuki": str(last_collected)})
    elif choshu_hoho == "普通徴収":
        truth["futsu_riyu"] = futsu_riyu
    else:
        new_employer = draw_employer(rng)
        while new_employer.shitei_no == employer.shitei_no:
            new_employer = draw_employer(rng)
        tantosha_family, tantosha_given = _name_pair(rng, faker)
        truth.update({
            "shin_kinmusaki_name": new_employer.name, "shin_shitei_bango": new_employer.shitei_no,
            "shin_kinmusaki_shozaichi": new_employer.address, "shin_tantosha": f"{tantosha_family}{tantosha_given}",
            "shin_denwa": _phone(rng), "shin_kaishi_tsuki": str(last_collected % 12 + 1),
            "shin_tsukiwari_gaku": str(tokucho_monthly(nenzeigaku)),
        })
    invalid: list[str] = []
    if rng.random() < invalid_share:
        truth["my_number"] = _corrupt_digit(my_number, rng, position=11)
        invalid.append("my_number")
    written = dict(truth)
    written["shotokusha_kana"] = f"{last_kana}\u3000{first_kana}"
    written["shotokusha_name"] = f"{last_kanji}\u3000{first_kanji}"
    written["daihyosha_shokushimei"] = f"{title}\u3000{rep_family}\u3000{rep_given}"
    written["renrakusha_shimei"] = f"{contact_family}\u3000{contact_given}"
    if "shin_tantosha" in truth:
        written["shin_tantosha"] = f"{tantosha_family}\u3000{tantosha_given}"
    written["seinengappi"] = (_year_text(birth_y), str(birth_m), str(birth_d))
    written["ido_nengappi"] = (_year_text(ido_y), str(ido_m), str(ido_d))
    written["teishutsu_nengappi"] = (_year_text(tei_y), str(tei_m), str(tei_d))
    return FormContent("ido_todoke", written, truth, invalid)


def _year_text(era_year: int) -> str:
    return "元" if era_year == 1 else str(era_year)
