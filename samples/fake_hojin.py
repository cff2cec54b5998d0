"""Fake but consistent 法人市民税 申告書 (第20号様式) contents: the arithmetic of ../shared/forms.md §3.

`hojin_shinkoku(rng, faker, invalid_share)` gives what a company's software or its accountant writes (`written`)
and the read-result normal form of it (`truth`): amounts as plain digit strings ("-" for a refund), dates ISO,
choices as option values, the checkbox as a bool. Lines left blank on the form are absent from both.
Amounts on the per-digit table lines are written as their full value; the renderer leaves out the pre-printed
000/00 itself.
"""
from __future__ import annotations

import calendar
import math
import random
from datetime import date, timedelta
from faker import Faker

from ocr.tax_rules import apportion, floor_to, kintowari, kintowari_annual, tax_at_rate
from ocr.templates import load_template
from ocr.wareki import date_to_wareki
from samples.addresses import at_a_real_place
from samples.fake_data import FormContent, _corrupt_digit, surname
from samples.population import draw_corporation

TRADES = ("建設業", "製造業", "卸売業", "小売業", "不動産業", "運輸業", "サービス業", "飲食業", "情報通信業",
          "医療・福祉", "設備工事業", "印刷業")
# (written name, Zengin name): a refund account names a real institution and one of its real branches.
BANKS = (("千葉銀行", "千葉"), ("京葉銀行", "京葉"), ("千葉興業銀行", "千葉興業"), ("みずほ銀行", "みずほ"),
         ("三井住友銀行", "三井住友"), ("三菱UFJ銀行", "三菱ＵＦＪ"), ("りそな銀行", "りそな"), ("千葉信用金庫", "千葉信金"))


def _bank_and_branch(rng) -> str:
    from zengin_code import Bank

    written, zengin_name = rng.choice(BANKS)
    bank = next(b for b in Bank.all.values() if b.name == zengin_name)
    branches = sorted(b.name for b in bank.branches.values() if len(b.name) <= 6 and not b.name.endswith(("出張所", "営業部")))
    branch = rng.choice(branches)
    return f"{written}{branch}" if branch.endswith("本店") else f"{written}{branch}支店"


CAPITALS = (1_000_000, 3_000_000, 5_000_000, 9_000_000, 10_000_000, 20_000_000, 30_000_000, 50_000_000,
            80_000_000, 100_000_000, 300_000_000)
CHIBA_WARDS = ("中央区", "花見川区", "稲毛区", "若葉区", "緑区", "美浜区")
CAPITAL_WEIGHTS = (12, 18, 10, 6, 22, 8, 8, 6, 3, 5, 2)


def hojin_shinkoku(rng: random.Random, faker: Faker, invalid_share: float = 0.0) -> FormContent:

    rate = load_template("hojin_shinkoku").parameters["hojinzeiwari_rate"]
    kubun = rng.choices(["確定", "中間", "修正"], weights=[70, 15, 15])[0]
    truth: dict[str, object] = {}

    # ---- who
    corporation = draw_corporation(rng, faker)  # a corporation the city knows, mostly
    name = corporation.name
    rep_last, _ = surname(rng, faker)
    rep_first, _, _ = faker.first_name_pair()
    gokei = max(1, int(math.exp(rng.uniform(0, 6.2))))
    bunkatsu = gokei >= 2 and rng.random() < 0.3
    shinai = rng.randint(1, gokei - 1) if bunkatsu else gokei
    if bunkatsu and rng.random() < 0.5:
        shozaichi = at_a_real_place(faker.address())  # the head office elsewhere, a branch in the city
    else:
        shozaichi = corporation.address
    phone = (f"043-{rng.randint(200, 299)}-{rng.randint(0, 9999):04d}" if rng.random() < 0.7
             else faker.phone_number())
    corporate_number = corporation.corporate_number
    truth.update({
        "hojin_bango": corporate_number, "jigyo_shumoku": rng.choice(TRADES), "shozaichi": shozaichi,
        "denwa": phone, "hojin_mei_kana": corporation.kana, "hojin_mei": name,
        "daihyosha_shimei": f"{rep_last}{rep_first}", "shinkoku_kubun": kubun,
    })

    # ---- capital (資本金等の額 for 均等割 = max(資本金等の額, 資本金 + 資本準備金), forms.md §3)
    capital = rng.choices(CAPITALS, weights=CAPITAL_WEIGHTS)[0]
    reserve = 0 if rng.random() < 0.6 else int(round(capital * rng.uniform(0.1, 1.0), -5))
    gassan = capital + reserve
    shihonkin_to = max(capital // 2, gassan + rng.choice([0, 0, 1, -1]) * int(round(capital * rng.uniform(0, 0.3), -3)))
    truth.update({"shihonkin_gaku": str(capital), "shihonkin_junbikin_gassan": str(gassan),
                  "shihonkin_to_gaku": str(shihonkin_to),
                  "chusho_gaito_shinai": capital <= 100_000_000 and rng.random() < 0.05})

    # ---- the year and the dates
    end_year, end_month = rng.choice([(y, m) for y in (2024, 2025, 2026) for m in range(1, 13)
                                      if date(2024, 3, 1) <= date(y, m, 1) <= date(2026, 6, 1)])
    fy_end = date(end_year, end_month, calendar.monthrange(end_year, end_month)[1])
    fy_start = _add_months(fy_end + timedelta(days=1), -12)
    encho = kubun != "中間" and rng.random() < 0.12
    kessan = fy_end + timedelta(days=rng.randint(70, 85) if encho else rng.randint(40, 56))
    teishutsu = kessan + timedelta(days=rng.randint(1, 5))
    truth.update({"jigyo_nendo_kaishi": fy_start.isoformat(), "jigyo_nendo_shuryo": fy_end.isoformat()})
    if kubun == "中間":
        chukan_end = _add_months(fy_start, 6) - timedelta(days=1)
        truth.update({"chukan_kikan_kaishi": fy_start.isoformat(), "chukan_kikan_shuryo": chukan_end.isoformat()})
        teishutsu = chukan_end + timedelta(days=rng.randint(20, 60))
    else:
        truth["kessan_kakutei_bi"] = kessan.isoformat()
    if kubun == "修正":
        kiso = teishutsu + timedelta(days=rng.randint(30, 150))
        truth["shinkoku_kiso_bi"] = kiso.isoformat()
        teishutsu = kiso + timedelta(days=rng.randint(0, 7))
    truth["teishutsu_nengappi"] = teishutsu.isoformat()
    if kubun == "確定" and rng.random() < 0.02:
        truth["kaisan_bi"] = (fy_end - timedelta(days=rng.randint(0, 60))).isoformat()
        if rng.random() < 0.5:
            truth["zanyo_zaisan_bunpai_bi"] = (fy_end + timedelta(days=rng.randint(1, 30))).isoformat()

    # ---- 法人税割
    amounts: dict[str, int] = {}
    profitable = rng.random() < 0.7
    if profitable:
        hojinzei = round(math.exp(rng.uniform(math.log(60_000), math.log(60_000_000))))
        if kubun == "中間":
            hojinzei //= 2
        amounts["hojinzei_gaku"] = hojinzei
        if rng.random() < 0.08:
            amounts["tokubetsu_kojo_gaku"] = rng.randint(1, max(1, hojinzei // 5))
        if rng.random() < 0.04:
            amounts["kanpu_hojinzei_kojo"] = rng.randint(1, max(1, hojinzei // 3))
        if rng.random() < 0.01:
            amounts["taishoku_nenkin_hojinzei"] = rng.randint(1, 50_000)
        kazei = floor_to(hojinzei + amounts.get("tokubetsu_kojo_gaku", 0) - amounts.get("kanpu_hojinzei_kojo", 0)
                         + amounts.get("taishoku_nenkin_hojinzei", 0), 1000)
        amounts["kazei_hyojun"] = kazei
        amounts["hojinzeiwari_gaku"] = tax_at_rate(kazei, rate)
        base_tax = amounts["hojinzeiwari_gaku"]
        if bunkatsu:
            amounts["bunkatsu_kazei_hyojun"] = apportion(kazei, shinai, gokei)
            amounts["bunkatsu_hojinzeiwari_gaku"] = base_tax = tax_at_rate(amounts["bunkatsu_kazei_hyojun"], rate)
        tax = base_tax
        for field, share, sign, most in (("tokutei_kifukin_kojo", 0.03, -1, 0.2), ("kojo_choka_kasan", 0.01, 1, 0.1),
                                         ("gaikoku_kankei_kojo", 0.01, -1, 0.1),
                                         ("gaikoku_hojinzei_kojo", 0.03, -1, 0.3), ("kaso_keiri_kojo", 0.01, -1, 0.2)):
            if base_tax >= 1000 and rng.random() < share:
                amounts[field] = floor_to(rng.randint(100, int(base_tax * most) + 100), 100)
                tax += sign * amounts[field]
        amounts["sashihiki_hojinzeiwari"] = floor_to(tax, 100)
    sashihiki = amounts.get("sashihiki_hojinzeiwari", 0)
    # A 確定 return after an 予定/中間 one (or a 修正 of an earlier return) takes off what is already due.
    prepaid = kubun == "修正" or (kubun == "確定" and rng.random() < 0.35)
    if prepaid:
        earlier = sashihiki if sashihiki else round(math.exp(rng.uniform(math.log(20_000), math.log(2_000_000))))
        factor = rng.uniform(0.6, 1.25) if kubun == "修正" else rng.uniform(0.3, 0.8)
        amounts["kino_hojinzeiwari"] = floor_to(int(earlier * factor), 100)
    if sashihiki and rng.random() < 0.01:
        amounts["sozei_joyaku_kojo"] = floor_to(rng.randint(100, max(100, sashihiki // 10)), 100)
    if any(k in amounts for k in ("sashihiki_hojinzeiwari", "kino_hojinzeiwari", "sozei_joyaku_kojo")):
        amounts["nofu_hojinzeiwari"] = (sashihiki - amounts.get("kino_hojinzeiwari", 0)
                                        - amounts.get("sozei_joyaku_kojo", 0))

    # ---- 均等割: 千葉市 is a 政令指定都市, so 均等割 is computed per 区 (区内の従業者数 and 月数) and added up;
    # a corporation in one 区 also writes the 年額 of the 「円×月/12」 line.
    months = 6 if kubun == "中間" else (12 if rng.random() < 0.9 else rng.randint(1, 11))
    capital_for_rate = max(shihonkin_to, gassan)
    ward_count = rng.choices([1, 2, 3], weights=[80, 15, 5])[0] if shinai >= 3 else 1
    wards = rng.sample(CHIBA_WARDS, ward_count)
    cuts = sorted(rng.sample(range(1, shinai), ward_count - 1)) if ward_count > 1 else []
    ward_people = [b - a for a, b in zip([0] + cuts, cuts + [shinai])]
    ward_months = [months] + [rng.randint(1, months) if rng.random() < 0.3 else months for _ in wards[1:]]
    for n, (ward, people, ward_month) in enumerate(zip(wards, ward_people, ward_months), start=1):
        truth.update({f"ku_{n}_mei": ward, f"ku_{n}_jugyoin": str(people), f"ku_{n}_tsukisu": str(ward_month)})
        amounts[f"ku_{n}_kintowari"] = kintowari(capital_for_rate, people, ward_month)
    amounts["kintowari_gaku"] = sum(kintowari(capital_for_rate, p, m) for p, m in zip(ward_people, ward_months))
    if ward_count == 1:
        amounts["kintowari_nengaku"] = kintowari_annual(capital_for_rate, shinai)
    if kubun == "修正":
        amounts["kino_kintowari"] = amounts["kintowari_gaku"]
    elif prepaid:
        amounts["kino_kintowari"] = sum(kintowari(capital_for_rate, p, min(m, 6))
                                        for p, m in zip(ward_people, ward_months))
    amounts["nofu_kintowari"] = amounts["kintowari_gaku"] - amounts.get("kino_kintowari", 0)
    amounts["nofu_shichosonminzei"] = amounts.get("nofu_hojinzeiwari", 0) + amounts["nofu_kintowari"]
    if encho and amounts["nofu_shichosonminzei"] > 0 and rng.random() < 0.7:
        amounts["mikomi_nofu"] = floor_to(int(amounts["nofu_shichosonminzei"] * rng.uniform(0.8, 1.0)), 100)
        amounts["sashihiki_nofu"] = amounts["nofu_shichosonminzei"] - amounts["mikomi_nofu"]
    if profitable and kubun != "中間":
        amounts["hojinzei_kakutei_gaku"] = amounts["hojinzei_gaku"]
    truth.update({name: str(value) for name, value in amounts.items()})
    truth.update({"tsukisu": str(months), "jugyoin_gokei": str(gokei), "shinai_jugyoin": str(shinai)})

    # ---- other
    truth["shinkokusho_shurui"] = "青色" if rng.random() < 0.85 else "その他"
    truth["kokugai_kanrensha"] = "有" if rng.random() < 0.1 else "無"
    truth["encho_umu"] = "有" if encho else "無"
    if amounts["nofu_shichosonminzei"] < 0:
        truth["kanpu_kinyu_kikan"] = f"{_bank_and_branch(rng)} 普通 {rng.randint(1000000, 9999999)}"

    invalid: list[str] = []
    if rng.random() < invalid_share:
        truth["hojin_bango"] = _corrupt_digit(corporate_number, rng, position=0)
        invalid.append("hojin_bango")

    written: dict[str, object] = dict(truth)
    written["daihyosha_shimei"] = f"{rep_last}\u3000{rep_first}"
    for spec in load_template("hojin_shinkoku").fields:
        if spec.kind == "date_wareki" and spec.name in truth:
            _, year, month, day = date_to_wareki(date.fromisoformat(str(truth[spec.name])))
            written[spec.name] = ("元" if year == 1 else str(year), str(month), str(day))
    return FormContent("hojin_shinkoku", written, truth, invalid)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))
