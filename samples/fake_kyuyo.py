"""Fake but consistent 給与支払報告書（個人別明細書）, 令和7年分 (facts: ../shared/forms.md §1).

The numbers are computed the way an employer's payroll software does 年末調整: 支払金額 → 給与所得控除後の金額 by
所得税法別表第五 (`ocr.tax_rules.kyuyo_shotoku`), minus 所得金額調整控除 where it applies; 所得控除の額の合計額 as the
sum of the deductions; 源泉徴収税額 = 年税額 × 102.1 %, 100円未満切捨. Employees who left during the year, and 乙欄
employees, get no 年末調整: those two amounts stay blank and 源泉徴収税額 is the sum of monthly withholdings.

Deduction amounts for 令和7年分 are general knowledge [K], not from a cited source:
基礎控除 by 合計所得 (≤132万 95万, ≤336万 88万, ≤489万 68万, ≤655万 63万, else 58万), 扶養控除 一般 38万 / 特定 63万 /
老人 48万 (同居老親等 58万), 障害者 27万 / 特別 40万 / 同居特別 75万, 寡婦 27万, ひとり親 35万, 勤労学生 27万.

Ground truth is in the read-result contract's normal form: amounts and digits as ASCII digit strings, dates ISO,
choices as option values, checkboxes true/false, every empty field None (and every unticked box False).
"""
from __future__ import annotations

import random
from datetime import date

from faker import Faker

from ocr.tax_rules import floor_to, income_adjustment_cap, income_tax, kyuyo_shotoku
from ocr.wareki import date_to_wareki
from samples.addresses import at_a_real_place
from samples.fake_data import (FormContent, _corrupt_digit, _random_date, _year_text, make_corporate_number,
                               make_my_number, surname)
from samples.population import draw_person

FORM_ID = "kyuyo_hokoku"
NENBUN = 2025
YEAR_END = date(NENBUN, 12, 31)
JUTAKU_KUBUN = ["住", "認", "増", "震", "特", "特特", "特特特"]
YAKUSHOKU = ["課長", "部長", "係長", "主任", "営業部長", "店長", "工場長"]


def _age(birth: date, on: date = YEAR_END) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _birth_for_age(rng: random.Random, low: int, high: int) -> date:
    """A birth date giving an age in [low, high] on 12月31日 of the 年分."""
    return _random_date(rng, date(NENBUN - high, 1, 1), date(NENBUN - low, 12, 31))


def _phone(rng: random.Random) -> str:
    area = rng.choice(["03", "06", "043", "047", "045", "0476", "090", "080", "070"])
    rest = 10 - len(area) if area not in ("090", "080", "070") else 8
    middle = rest - 4
    digits = "".join(str(rng.randrange(10)) for _ in range(rest))
    return f"{area}-{digits[:middle]}-{digits[middle:]}"


def _person(rng: random.Random, faker: Faker, family: tuple[str, str] | None = None) -> tuple[str, str]:
    """(kanji name, kana name) in contract form: 「鈴木拓真」, 「スズキ タクマ」."""
    family = family or surname(rng, faker)
    first_kanji, first_kana, _ = faker.first_name_pair()
    return family[0] + first_kanji, f"{family[1]} {first_kana}"


def basic_deduction(total_income: int) -> int:
    for upper, amount in ((1_320_000, 950_000), (3_360_000, 880_000), (4_890_000, 680_000), (6_550_000, 630_000),
                          (23_500_000, 580_000), (24_000_000, 480_000), (24_500_000, 320_000),
                          (25_000_000, 160_000)):
        if total_income <= upper:
            return amount
    return 0


def spouse_deduction(employee_income: int, spouse_income: int, elderly: bool) -> int:
    """配偶者控除 (配偶者の合計所得 ≤ 58万) or 配偶者特別控除 (≤ 133万), by the employee's 合計所得."""
    if employee_income > 10_000_000 or spouse_income > 1_330_000:
        return 0
    tier = 0 if employee_income <= 9_000_000 else 1 if employee_income <= 9_500_000 else 2
    if spouse_income <= 580_000:
        return ((480_000, 320_000, 160_000) if elderly else (380_000, 260_000, 130_000))[tier]
    for upper, amounts in ((950_000, (380_000, 260_000, 130_000)), (1_000_000, (360_000, 240_000, 120_000)),
                           (1_050_000, (310_000, 210_000, 110_000)), (1_100_000, (260_000, 180_000, 90_000)),
                           (1_150_000, (210_000, 140_000, 70_000)), (1_200_000, (160_000, 110_000, 60_000)),
                           (1_250_000, (110_000, 80_000, 40_000)), (1_300_000, (60_000, 40_000, 20_000)),
                           (1_330_000, (30_000, 20_000, 10_000))):
        if spouse_income <= upper:
            return amounts[tier]
    return 0


def _life_insurance(rng: random.Random) -> tuple[dict[str, int], int]:
    """Premiums paid per kind (生命保険料の金額の内訳) and the 生命保険料の控除額 they give (≤ 120,000)."""
    def new_rule(p: int) -> int:
        return p if p <= 20_000 else p // 2 + 10_000 if p <= 40_000 else p // 4 + 20_000 if p <= 80_000 else 40_000

    def old_rule(p: int) -> int:
        return p if p <= 25_000 else p // 2 + 12_500 if p <= 50_000 else p // 4 + 25_000 if p <= 100_000 else 50_000

    premiums: dict[str, int] = {}
    total = 0
    for new_name, old_name in (("shin_seimei_hokenryo", "kyu_seimei_hokenryo"),
                               ("shin_kojin_nenkin_hokenryo", "kyu_kojin_nenkin_hokenryo")):
        if rng.random() < 0.55:
            if rng.random() < 0.7:
                premiums[new_name] = rng.randrange(12, 200) * 1_000 + rng.choice([0, 240, 600, 960])
                total += new_rule(premiums[new_name])
            else:
                premiums[old_name] = rng.randrange(12, 200) * 1_000 + rng.choice([0, 360, 720])
                total += min(50_000, old_rule(premiums[old_name]))
    if rng.random() < 0.35:
        premiums["kaigo_iryo_hokenryo"] = rng.randrange(10, 90) * 1_000 + rng.choice([0, 480])
        total += new_rule(premiums["kaigo_iryo_hokenryo"])
    return premiums, min(total, 120_000)


def kyuyo_hokoku(rng: random.Random, faker: Faker, invalid_share: float = 0.0) -> FormContent:
    t: dict[str, object] = {}          # truth in contract form, filled as we go
    dates: dict[str, date] = {}        # date fields, written as 年 月 日 parts
    tekiyo: list[str] = []

    # ---- the employee
    kind = rng.choices(["regular", "retired", "joined", "otsu", "part"], weights=[66, 14, 10, 3, 7])[0]
    low, high = (16, 19) if kind == "part" and rng.random() < 0.5 else (20, 70)
    person = draw_person(rng, faker, date(NENBUN - high, 1, 1), date(NENBUN - low, 12, 31))  # a taxpayer the city knows
    family = (person.family_kanji, person.kana.split(" ")[0])
    name, kana, birth = person.name, person.kana, person.birth
    t.update(jusho=person.address, my_number=person.my_number, kana=kana, shimei=name,
             seinengappi_era=date_to_wareki(birth)[0])
    dates["seinengappi"] = birth
    t["jukyusha_bango"] = f"{rng.randrange(1, 99999):05d}" if rng.random() < 0.4 else None
    t["yakushoku"] = rng.choice(YAKUSHOKU) if kind == "regular" and rng.random() < 0.25 else None
    t["shubetsu"] = rng.choices(["給料・賞与", "給料", "給与・賞与", "賞与"], weights=[70, 15, 12, 3])[0]

    # ---- pay
    months = 12
    if kind == "retired":
        left = _random_date(rng, date(NENBUN, 1, 31), date(NENBUN, 12, 15))
        months = left.month
        t["chuto_shutai"], dates["chuto_shutai_nengappi"] = "退職", left
        t["shibo_taishoku"] = rng.random() < 0.05
        tekiyo.append("普F")
    elif kind == "joined":
        joined = _random_date(rng, date(NENBUN, 2, 1), date(NENBUN, 10, 1))
        months = 13 - joined.month
        t["chuto_shutai"], dates["chuto_shutai_nengappi"] = "就職", joined
    monthly = rng.choice([rng.randrange(180, 420), rng.randrange(250, 900)]) * 1_000 + rng.randrange(0, 1000)
    if kind == "part":
        monthly = rng.randrange(40, 125) * 1_000 + rng.randrange(0, 1000)
    bonus = 0 if kind in ("part", "otsu") else rng.choice([0, 1, 2, 2, 3]) * monthly // 2
    payment = monthly * months + (bonus * months // 12)
    previous = None
    if kind == "joined" and rng.random() < 0.7:  # 前職分 is added in and noted in 摘要
        previous = (monthly * (12 - months) * rng.randrange(80, 110) // 100, faker.company(),
                    date(NENBUN, 12 - months, 28))
        payment += previous[0]
    t["shiharai_kingaku"] = str(payment)
    t["miharai_gaku"] = str(monthly // 1000 * 1000) if rng.random() < 0.03 else None

    shakai = payment * rng.randrange(140, 161) // 1000 if kind != "part" else payment * rng.randrange(0, 150) // 1000
    t["shakai_hoken_gaku"] = str(shakai) if shakai else None
    shokibo = 0
    if shakai and rng.random() < 0.05:
        shokibo = min(shakai, rng.choice([5_000, 10_000, 20_000, 30_000]) * 12)
    t["shokibo_kyosai_gaku"] = str(shokibo) if shokibo else None
    kokumin_nenkin = min(shakai, rng.randrange(1, 13) * 17_510) if shakai and rng.random() < 0.06 else 0

    # ---- family
    nencho = kind in ("regular", "joined", "part")
    married = _age(birth) >= 24 and rng.random() < 0.55
    dependants: list[dict] = []  # ages 16+ (控除対象扶養親族) and under 16
    if kind != "part":
        for _ in range(rng.choices([0, 1, 2, 3, 4, 5], weights=[40, 22, 20, 10, 5, 3])[0]):
            category = rng.choices(["miman", "tokutei", "sonota", "rojin", "tokushin"], weights=[45, 20, 20, 15, 6])[0]
            age = {"miman": (0, 15), "tokutei": (19, 22), "sonota": (16, 18), "rojin": (70, 95),
                   "tokushin": (19, 22)}[category]
            dependants.append({"category": category, "birth": _birth_for_age(rng, *age),
                               "dokyo": category == "rojin" and rng.random() < 0.5,
                               "shogai": rng.choices([None, "ippan", "tokubetsu", "dokyo_tokubetsu"],
                                                     weights=[94, 3, 2, 1])[0],
                               "hikyojusha": category != "miman" and rng.random() < 0.02})
    over16 = [d for d in dependants if d["category"] != "miman"][:5]
    under16 = [d for d in dependants if d["category"] == "miman"][:5]
    for i, d in enumerate(over16, start=1):
        d["name"], d["kana"] = _person(rng, faker, family)
        d["my_number"] = make_my_number(rng)
        if i <= 4:
            t[f"fuyo_{i}_kana"], t[f"fuyo_{i}_shimei"] = d["kana"], d["name"]
            t[f"fuyo_{i}_my_number"], t[f"fuyo_{i}_kubun"] = d["my_number"], d["hikyojusha"]
        else:  # the face has four rows: the fifth is noted in 摘要
            tekiyo.append(f"(5)控除対象扶養親族 {d['name']}")
    for i, d in enumerate(under16, start=1):
        d["name"], d["kana"] = _person(rng, faker, family)
        d["my_number"] = make_my_number(rng)
        if i <= 4:  # the face has no 個人番号 line for those under 16 (struck through)
            t[f"miman_{i}_kana"], t[f"miman_{i}_shimei"] = d["kana"], d["name"]
            t[f"miman_{i}_kubun"] = False
        else:
            tekiyo.append(f"(5)16歳未満扶養親族 {d['name']}")

    def count(n: int) -> str | None:
        return str(n) if n else None

    by_cat = {c: [d for d in over16 if d["category"] == c] for c in ("tokutei", "rojin", "sonota", "tokushin")}
    # 令和7年分: a 特定親族 (19–22, 合計所得 58万超123万以下) gives 特定親族特別控除 by the relative's income [K].
    for d in by_cat["tokushin"]:
        d["kojo"] = rng.choice([630_000, 610_000, 510_000, 410_000, 310_000, 210_000, 110_000, 60_000, 30_000])
    tokushin_kojo = sum(d["kojo"] for d in by_cat["tokushin"])
    t["fuyo_tokushin_nin"] = count(len(by_cat["tokushin"]))
    t["fuyo_tokutei_nin"] = count(len(by_cat["tokutei"]))
    t["fuyo_rojin_nin"] = count(len(by_cat["rojin"]))
    t["fuyo_rojin_uchi"] = count(sum(d["dokyo"] for d in by_cat["rojin"]))
    t["fuyo_sonota_nin"] = count(len(by_cat["sonota"]))
    t["fuyo_16_miman"] = count(len(under16))
    disabled = [d for d in over16 + under16 if d["shogai"]]
    special = [d for d in disabled if d["shogai"] != "ippan"]
    t["shogaisha_tokubetsu_nin"] = count(len(special))
    t["shogaisha_tokubetsu_uchi"] = count(sum(d["shogai"] == "dokyo_tokubetsu" for d in special))
    t["shogaisha_sonota_nin"] = count(len(disabled) - len(special))
    t["hikyojusha_shinzoku"] = count(sum(d["hikyojusha"] for d in over16))

    # ---- the employee's own circumstances
    t["miseinensha"] = _age(birth) < 18
    t["gaikokujin"] = rng.random() < 0.02
    t["saigaisha"] = rng.random() < 0.005
    t["otsuran"] = kind == "otsu"
    own = rng.choices([None, "sonota", "tokubetsu"], weights=[96, 3, 1])[0]
    t["honnin_tokubetsu_shogai"] = own == "tokubetsu"
    t["honnin_sonota_shogai"] = own == "sonota"
    t["kafu"] = not married and _age(birth) >= 40 and rng.random() < 0.03 and not under16
    t["hitorioya"] = not married and bool(under16) and rng.random() < 0.6
    t["kinro_gakusei"] = kind == "part" and _age(birth) <= 22 and payment <= 1_500_000 and rng.random() < 0.5
    if kind == "otsu":
        tekiyo.append("普B")

    # ---- 年末調整
    shotoku = kyuyo_shotoku(payment, NENBUN)
    adjustment = 0
    if payment > 8_500_000 and (own == "tokubetsu" or special or any(_age(d["birth"]) < 23 for d in dependants)):
        adjustment = income_adjustment_cap(payment)
    shotoku_after = shotoku - adjustment
    spouse_income = 0
    spouse_kojo = 0
    if married:
        spouse_birth = _birth_for_age(rng, max(20, _age(birth) - 8), min(90, _age(birth) + 8))
        spouse_income = rng.choice([0, 0, rng.randrange(10, 58) * 10_000, rng.randrange(58, 140) * 10_000])
        spouse_elderly = _age(spouse_birth) >= 70
        spouse_kojo = spouse_deduction(shotoku_after, spouse_income, spouse_elderly)
        if spouse_kojo:
            s_name, s_kana = _person(rng, faker, family)
            t.update(haigusha_kana=s_kana, haigusha_shimei=s_name, haigusha_my_number=make_my_number(rng),
                     haigusha_kubun=False)
            t["haigusha_gokei_shotoku"] = str(spouse_income) if spouse_income else None
            deductible = spouse_income <= 580_000
            t["haigusha_ari"] = deductible and not t["otsuran"]
            t["haigusha_ju_ari"] = deductible and bool(t["otsuran"])
            t["haigusha_rojin"] = deductible and spouse_elderly
    fuyo_kojo = sum({"tokutei": 630_000, "sonota": 380_000}.get(d["category"], 0) for d in over16)
    fuyo_kojo += sum(580_000 if d["dokyo"] else 480_000 for d in by_cat["rojin"])
    shogai_kojo = sum({"ippan": 270_000, "tokubetsu": 400_000, "dokyo_tokubetsu": 750_000}[d["shogai"]]
                      for d in disabled)
    shogai_kojo += {None: 0, "sonota": 270_000, "tokubetsu": 400_000}[own]
    jinteki = (270_000 * t["kafu"] + 350_000 * t["hitorioya"] + 270_000 * t["kinro_gakusei"])
    kiso = basic_deduction(shotoku_after)
    premiums, seimei = _life_insurance(rng) if nencho else ({}, 0)
    jishin = min(50_000, rng.randrange(5, 60) * 1_000) if nencho and rng.random() < 0.3 else 0
    for name_ in ("shin_seimei_hokenryo", "kyu_seimei_hokenryo", "kaigo_iryo_hokenryo",
                  "shin_kojin_nenkin_hokenryo", "kyu_kojin_nenkin_hokenryo"):
        t[name_] = str(premiums[name_]) if name_ in premiums else None
    t["kyu_choki_songai_gaku"] = str(rng.randrange(5, 15) * 1_000) if jishin and rng.random() < 0.1 else None
    t["kokumin_nenkin_gaku"] = str(kokumin_nenkin) if kokumin_nenkin else None

    jutaku_kanou = 0
    if nencho and kind == "regular" and rng.random() < 0.2:
        zandaka = rng.randrange(800, 4500) * 10_000 + rng.randrange(0, 10_000)
        jutaku_kanou = min(zandaka * 7 // 1000 // 100 * 100, 350_000)
        started = _random_date(rng, date(2019, 5, 1), date(2024, 12, 31))  # 年月日 cells only: 令和 assumed
        t.update(jutaku_tekiyo_su="1", jutaku_kanogaku=str(jutaku_kanou), jutaku_zandaka_1=str(zandaka),
                 jutaku_kubun_1=rng.choices(JUTAKU_KUBUN, weights=[60, 15, 5, 3, 10, 5, 2])[0])
        dates["jutaku_kyoju_1"] = started

    if nencho:
        kojo = shakai + seimei + jishin + spouse_kojo + fuyo_kojo + shogai_kojo + jinteki + kiso + tokushin_kojo
        t["tokutei_shinzoku_kojo_gaku"] = str(tokushin_kojo) if tokushin_kojo else None
        taxable = floor_to(max(0, shotoku_after - kojo), 1000)
        tax = income_tax(taxable)
        jutaku_applied = min(tax, jutaku_kanou)
        gensen = floor_to((tax - jutaku_applied) * 1021 // 1000, 100)
        t.update(kyuyo_shotoku_kojogo=str(shotoku_after), shotoku_kojo_gokei=str(kojo),
                 seimei_hoken_kojo=str(seimei) if seimei else None, jishin_hoken_kojo=str(jishin) if jishin else None,
                 haigusha_kojo_gaku=str(spouse_kojo) if spouse_kojo else None,
                 jutaku_kojo_gaku=str(jutaku_applied) if jutaku_applied else None,
                 shotoku_chosei_kojo_gaku=str(adjustment) if adjustment else None,
                 kiso_kojo_gaku=str(kiso) if kiso != 580_000 else None)
    else:
        gensen = payment * rng.randrange(15, 60) // 1000 + rng.randrange(1, 100)
    t["gensen_choshu_zeigaku"] = str(gensen) if gensen else None
    t["michoshu_gaku"] = str(gensen // 3) if gensen and rng.random() < 0.02 else None

    if previous is not None:
        pay, company, left = previous
        tekiyo.insert(0, f"前職分 支払金額{pay:,}円 社会保険料{pay * 15 // 100:,}円 源泉徴収税額{pay * 3 // 100:,}円")
        _, ly, lm, ld = date_to_wareki(left)
        tekiyo.insert(1, f"{company} 令和{ly}年{lm}月{ld}日退職")

    # ---- the employer
    if rng.random() < 0.2:  # an individual employer: a 12-digit 個人番号, 右詰め in the 13 cells
        owner, _ = _person(rng, faker)
        t["shiharaisha_bango"] = make_my_number(rng)
        t["shiharaisha_shimei"] = f"{faker.last_name()}商店 {owner}"
    else:
        t["shiharaisha_bango"] = make_corporate_number(rng)
        t["shiharaisha_shimei"] = faker.company()
    t["shiharaisha_jusho"] = at_a_real_place(faker.address())
    t["shiharaisha_denwa"] = _phone(rng) if rng.random() < 0.9 else None

    lines = _tekiyo_lines(tekiyo)
    t["tekiyo_1"], t["tekiyo_2"], t["tekiyo_3"] = lines
    t["nenbun_nen"] = "7"
    for field_name, day in dates.items():
        t[field_name] = day.isoformat()

    invalid: list[str] = []
    if rng.random() < invalid_share:
        candidates = ["my_number", "shiharaisha_bango"] + [n for n in t if n.endswith("_my_number") and t[n]]
        target = rng.choice(candidates)
        number = str(t[target])
        position = 0 if target == "shiharaisha_bango" and len(number) == 13 else len(number) - 1
        t[target] = _corrupt_digit(number, rng, position=position)
        invalid.append(target)

    truth = _complete(t)
    written: dict[str, object] = {name_: value for name_, value in truth.items() if value not in (None, False)}
    for field_name, value in truth.items():
        if field_name.endswith("kana") and isinstance(value, str):
            written[field_name] = value.replace(" ", "\u3000")
    for field_name, day in dates.items():
        _, year, month, day_ = date_to_wareki(day)
        written[field_name] = (_year_text(year), str(month), str(day_))
    return FormContent(FORM_ID, written, truth, invalid)


def _tekiyo_lines(parts: list[str]) -> tuple[str | None, str | None, str | None]:
    """Up to three lines of 摘要, about 30 characters each."""
    lines: list[str] = []
    for part in parts:
        if lines and len(lines[-1]) + len(part) + 1 <= 30:
            lines[-1] += " " + part
        else:
            lines.append(part)
    lines = lines[:3] + [None] * (3 - len(lines[:3]))
    return (lines[0], lines[1], lines[2])


def _complete(t: dict[str, object]) -> dict[str, object]:
    """Every field of the template: None when left empty, False for an unticked box."""
    from ocr.templates import load_template

    template = load_template(FORM_ID)
    truth: dict[str, object] = {}
    for spec in template.fields:
        value = t.get(spec.name)
        truth[spec.name] = bool(value) if spec.kind == "checkbox" else value
    unknown = set(t) - set(truth)
    if unknown:
        raise KeyError(f"{FORM_ID}: generated values for fields the template lacks: {sorted(unknown)}")
    return truth
