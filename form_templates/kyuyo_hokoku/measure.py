"""Measure the official 令和7年分 給与所得の源泉徴収票 / 給与支払報告書 face and write its blank and field boxes.

    PYTHONPATH=. .venv/bin/python form_templates/kyuyo_hokoku/measure.py

Rasterises page 1 of `kyuyo_gensen_R7_nta_blank.pdf` (beside this file) at the template's dpi, keeps the left copy
(税務署提出用, 148.5 × 210 mm) as `blank.png`, finds the printed ruling by morphology (long horizontal and vertical
runs of ink) and takes every writing cell as a connected region between rulings. Each field below is named by a
point inside its cell (or the first and last cell of a row of cells); its box is the measured cell, cut where the
field shares the cell with a printed label. Dashed and dotted rulings (内 of the counts, the フリガナ / 氏名 line of the
dependants) are found by the share of inked pixels along a column or a row. The `fields:` block of template.yaml
is rewritten from the measurement; everything else there is kept.
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
PDF = HERE / "kyuyo_gensen_R7_nta_blank.pdf"
DPI = 200
COPY_WIDTH_MM = 148.5
MM = 25.4 / DPI


def px(mm: float) -> int:
    return int(round(mm / MM))


def rasterise() -> np.ndarray:
    import pypdfium2 as pdfium

    page = pdfium.PdfDocument(str(PDF))[0]
    image = np.array(page.render(scale=DPI / 72, grayscale=True).to_pil().convert("L"))
    return image[:, :px(COPY_WIDTH_MM)]


def ruling(blank: np.ndarray) -> np.ndarray:
    ink = (blank < 200).astype(np.uint8)
    horizontal = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, 25), np.uint8))
    vertical = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((25, 1), np.uint8))
    return ((horizontal | vertical) > 0).astype(np.uint8)


class Cells:
    def __init__(self, blank: np.ndarray):
        self.blank = blank
        free = 1 - cv2.dilate(ruling(blank), np.ones((3, 3), np.uint8))
        _, self.labels, self.stats, _ = cv2.connectedComponentsWithStats(free, connectivity=4)

    def at(self, x_mm: float, y_mm: float) -> tuple[float, float, float, float]:
        """The cell around a point, to the middle of its rulings (the dilation took 1 px each side)."""
        label = self.labels[px(y_mm), px(x_mm)]
        if label == 0:
            raise ValueError(f"({x_mm}, {y_mm}) mm lies on a ruling")
        x, y, w, h, _ = self.stats[label]
        return ((x - 1.5) * MM, (y - 1.5) * MM, (w + 3) * MM, (h + 3) * MM)

    def dashed_column(self, box, threshold: float = 0.25) -> float:
        """x of a dashed vertical ruling inside a box (内 of the counts)."""
        x, y, w, h = box
        sub = self.blank[px(y + 1):px(y + h - 1), px(x + 1):px(x + w - 1)] < 200
        share = sub.mean(axis=0)
        hits = np.where(share > threshold)[0]
        return x + 1 + float(hits.mean()) * MM

    def dotted_row(self, box, threshold: float = 0.25) -> float:
        """y of a dotted horizontal ruling inside a box (between フリガナ and 氏名)."""
        x, y, w, h = box
        sub = self.blank[px(y + 0.8):px(y + h - 0.8), px(x + 1):px(x + w - 1)] < 200
        share = sub.mean(axis=1)
        hits = np.where(share > threshold)[0]
        return y + 0.8 + float(hits.mean()) * MM


def r(v: float) -> float:
    return round(v, 2)


def measure(cells: Cells) -> list[dict]:
    fields: list[dict] = []

    def add(name, label, box, kind, **extra):
        fields.append({"name": name, "label": label, "box": [r(b) for b in box], "kind": kind, **extra})

    def cell(x, y):
        return cells.at(x, y)

    def span(first, last):
        x0, y0, _, h0 = cell(*first)
        x1, y1, w1, h1 = cell(*last)
        return (x0, y0, x1 + w1 - x0, max(y1 + h1, y0 + h0) - y0)

    def right_of(box, skip):
        x, y, w, h = box
        return (x + skip, y, w - skip, h)

    def band(box, top, bottom):
        x, y, w, h = box
        return (x, y + top, w, h - top - bottom)

    def inner_dividers(points):
        """x of the rulings between consecutive cells (their shared edge)."""
        return [r(cell(*p)[0]) for p in points[1:]]

    # 令和　年分: the year payroll software prints into the gap of the title.
    add("nenbun_nen", "年分（令和　年）", (44.4, 1.8, 6.3, 6.0), "digits", validators=["range:1:99"])

    # 支払を受ける者
    add("jusho", "支払を受ける者 住所又は居所", band(cell(50, 20), 4.0, 9.0), "text", content="address",
        required=True)
    add("jukyusha_bango", "受給者番号", right_of(cell(120, 10.4), 13.0), "text", content="code")
    add("my_number", "個人番号", span((102.5, 14.5), (143, 14.5)), "my_number", cells=12, required=True,
        validators=["my_number_check_digit"])
    add("yakushoku", "役職名", right_of(cell(120, 20), 11.0), "text")
    add("kana", "フリガナ", right_of(cell(120, 24.5), 10.5), "kana", required=True)
    add("shimei", "氏名", cell(120, 28.5), "text", content="person_name", required=True)

    # 種別 / 支払金額 / 給与所得控除後の金額 / 所得控除の額の合計額 / 源泉徴収税額
    add("shubetsu", "種別", cell(20, 39), "text", content="terms",
        vocabulary=["給料・賞与", "給与・賞与", "給料", "給与", "賞与", "給料・手当", "俸給", "役員報酬", "報酬", "賃金"])
    amount_rows = [
        ("shiharai_kingaku", "支払金額", [(38, 40), (47, 40), (58, 40)], "miharai_gaku", "支払金額 内 未払額"),
        ("kyuyo_shotoku_kojogo", "給与所得控除後の金額（調整控除後）", [(66, 40), (76, 40), (86, 40)], None, None),
        ("shotoku_kojo_gokei", "所得控除の額の合計額", [(94, 40), (103, 40), (113, 40)], None, None),
    ]
    for name, label, points, uchi_name, uchi_label in amount_rows:
        box = span(points[0], points[-1])
        if uchi_name:
            # 内 未払額 is written small in the top of the same columns, so the same dividers cut it
            add(uchi_name, uchi_label, (box[0] + 2.6, box[1] + 0.3, box[2] - 3.0, 2.6), "amount",
                dividers_mm=inner_dividers(points))
        add(name, label, band(box, 2.9, 0.0), "amount", dividers_mm=inner_dividers(points),
            **({"required": True} if name == "shiharai_kingaku" else {}))
    gensen_points = [(125, 40), (140, 40)]
    gensen_box = span(*gensen_points)
    add("michoshu_gaku", "源泉徴収税額 内 未徴収額", (gensen_box[0] + 2.6, gensen_box[1] + 0.3, 13.5, 2.6), "amount")
    add("gensen_choshu_zeigaku", "源泉徴収税額", band(gensen_box, 2.9, 0.0), "amount",
        dividers_mm=inner_dividers(gensen_points))

    # 控除対象配偶者の有無等 / 配偶者（特別）控除の額 / 控除対象扶養親族等の数 / 16歳未満 / 障害者 / 非居住者
    add("haigusha_ari", "控除対象配偶者 有", cell(7.5, 58), "checkbox")
    add("haigusha_ju_ari", "控除対象配偶者 従有", cell(14, 58), "checkbox")
    add("haigusha_rojin", "老人控除対象配偶者", band(cell(20.5, 57), 2.0, 0.0), "checkbox")
    points = [(28, 57), (40, 57)]
    add("haigusha_kojo_gaku", "配偶者（特別）控除の額", band(span(*points), 2.6, 0.0), "amount",
        dividers_mm=inner_dividers(points), validators=["max_amount:480000"])
    counts = [
        ("fuyo_tokutei_nin", "控除対象扶養親族等の数 特定 人", (50, 57)),
        ("fuyo_tokutei_ju", "控除対象扶養親族等の数 特定 従人", (57, 57)),
        ("fuyo_rojin_ju", "控除対象扶養親族等の数 老人 従人", (77, 57)),
        ("fuyo_sonota_nin", "控除対象扶養親族等の数 その他 人", (83.5, 57)),
        ("fuyo_sonota_ju", "控除対象扶養親族等の数 その他 従人", (90.4, 57)),
        ("fuyo_tokushin_nin", "控除対象扶養親族等の数 特親 人", (97, 57)),
        ("fuyo_tokushin_ju", "控除対象扶養親族等の数 特親 従人", (104, 57)),
        ("fuyo_16_miman", "16歳未満扶養親族の数", (111, 57)),
        ("shogaisha_sonota_nin", "障害者の数 その他 人", (132.5, 57)),
        ("hikyojusha_shinzoku", "非居住者である親族の数", (140.5, 57)),
    ]
    split_counts = [
        ("fuyo_rojin_uchi", "fuyo_rojin_nin", "控除対象扶養親族等の数 老人", (67, 57)),
        ("shogaisha_tokubetsu_uchi", "shogaisha_tokubetsu_nin", "障害者の数 特別", (122, 57)),
    ]
    count_fields = {}
    for name, label, point in counts:
        count_fields[name] = (label, band(cell(*point), 2.4, 0.0))
    for uchi, nin, label, point in split_counts:
        x, y, w, h = band(cell(*point), 2.4, 0.0)
        dash = cells.dashed_column(cell(*point))
        count_fields[uchi] = (f"{label} 内", (x, y, dash - x, h))
        count_fields[nin] = (f"{label} 人", (dash, y, x + w - dash, h))
    order = ["fuyo_tokutei_nin", "fuyo_tokutei_ju", "fuyo_rojin_uchi", "fuyo_rojin_nin", "fuyo_rojin_ju",
             "fuyo_sonota_nin", "fuyo_sonota_ju", "fuyo_tokushin_nin", "fuyo_tokushin_ju", "fuyo_16_miman",
             "shogaisha_tokubetsu_uchi", "shogaisha_tokubetsu_nin", "shogaisha_sonota_nin", "hikyojusha_shinzoku"]
    for name in order:
        label, box = count_fields[name]
        add(name, label, box, "digits", validators=["range:0:20"])

    # 特定親族特別控除の額 / 社会保険料等の金額 / 生命保険料の控除額 / 地震保険料の控除額 / 住宅借入金等特別控除の額
    points = [(8, 70), (18, 70), (28, 70)]
    add("tokutei_shinzoku_kojo_gaku", "特定親族特別控除の額", band(span(points[0], points[-1]), 2.4, 0.0), "amount",
        dividers_mm=inner_dividers(points))
    points = [(40, 70), (55, 70)]
    box = span(*points)
    add("shokibo_kyosai_gaku", "社会保険料等の金額 内 小規模企業共済等掛金", (box[0] + 2.6, box[1] + 0.3, 11.5, 2.6),
        "amount")
    add("shakai_hoken_gaku", "社会保険料等の金額", band(box, 2.9, 0.0), "amount", dividers_mm=inner_dividers(points))
    for name, label, points, extra in [
        ("seimei_hoken_kojo", "生命保険料の控除額", [(70, 70), (84, 70)], ["max_amount:120000"]),
        ("jishin_hoken_kojo", "地震保険料の控除額", [(97, 70), (111, 70)], ["max_amount:50000"]),
        ("jutaku_kojo_gaku", "住宅借入金等特別控除の額", [(124, 70), (138, 70)], []),
    ]:
        add(name, label, band(span(*points), 2.4, 0.0), "amount", dividers_mm=inner_dividers(points),
            **({"validators": extra} if extra else {}))

    # (摘要): one block; payroll software prints it in lines.
    tekiyo = cell(70, 82)
    x, y, w, h = tekiyo
    add("tekiyo_1", "摘要 1行目", (x + 0.5, y + 3.6, w - 1.0, 4.4), "text")
    add("tekiyo_2", "摘要 2行目", (x + 0.5, y + 8.2, w - 1.0, 4.4), "text")
    add("tekiyo_3", "摘要 3行目", (x + 0.5, y + 12.6, w - 1.0, 4.0), "text")

    # 生命保険料の金額の内訳 (円 printed at the top right of each cell)
    for name, label, point in [
        ("shin_seimei_hokenryo", "新生命保険料の金額", (33, 94)),
        ("kyu_seimei_hokenryo", "旧生命保険料の金額", (59, 94)),
        ("kaigo_iryo_hokenryo", "介護医療保険料の金額", (85, 94)),
        ("shin_kojin_nenkin_hokenryo", "新個人年金保険料の金額", (111, 94)),
        ("kyu_kojin_nenkin_hokenryo", "旧個人年金保険料の金額", (137, 94)),
    ]:
        add(name, label, band(cell(*point), 1.6, 0.0), "amount")

    # 住宅借入金等特別控除の額の内訳
    add("jutaku_tekiyo_su", "住宅借入金等特別控除適用数", cell(33, 100), "digits", validators=["range:0:9"])
    add("jutaku_kanogaku", "住宅借入金等特別控除可能額", band(cell(33, 106), 1.6, 0.0), "amount")
    for n, y in ((1, 100), (2, 106)):
        points = [(57, y), (67, y), (75, y)]
        box = span(points[0], points[-1])
        add(f"jutaku_kyoju_{n}", f"居住開始年月日（{n}回目）", band(box, 1.6, 0.0), "date_wareki",
            era="令和", dividers_mm=inner_dividers(points))
        add(f"jutaku_kubun_{n}", f"住宅借入金等特別控除区分（{n}回目）", cell(99, y), "text")
        add(f"jutaku_zandaka_{n}", f"住宅借入金等年末残高（{n}回目）", band(cell(132, y), 1.6, 0.0), "amount")

    # (源泉・特別)控除対象配偶者: (フリガナ) over 氏名 (dotted line between), 区分, 個人番号
    name_cell = cell(40, 112)
    dotted = cells.dotted_row(name_cell)
    x, y, w, h = name_cell
    add("haigusha_kana", "控除対象配偶者 フリガナ", (x, y, w, dotted - y), "kana")
    add("haigusha_shimei", "控除対象配偶者 氏名", (x, dotted, w, y + h - dotted), "text", content="person_name")
    add("haigusha_kubun", "控除対象配偶者 区分（非居住者）", cell(64, 112), "checkbox")
    add("haigusha_my_number", "控除対象配偶者 個人番号", span((24.5, 118.5), (66, 118.5)), "my_number", cells=12,
        validators=["my_number_check_digit"])
    add("haigusha_gokei_shotoku", "配偶者の合計所得", band(cell(87, 115), 5.0, 0.6), "amount",
        validators=["max_amount:10000000"])
    add("kokumin_nenkin_gaku", "国民年金保険料等の金額", band(cell(112, 112), 1.6, 0.0), "amount")
    add("kyu_choki_songai_gaku", "旧長期損害保険料の金額", band(cell(138, 112), 1.6, 0.0), "amount")
    add("kiso_kojo_gaku", "基礎控除の額", band(cell(112, 118), 1.6, 0.0), "amount")
    add("shotoku_chosei_kojo_gaku", "所得金額調整控除額", band(cell(138, 118), 1.6, 0.0), "amount",
        validators=["max_amount:150000"])

    # 控除対象扶養親族 1–4: (フリガナ), 氏名, 個人番号 with 区分; 16歳未満の扶養親族 1–4: (フリガナ), 氏名 with 区分
    for n, row_top in enumerate((121.0, 132.7, 144.4, 156.0), start=1):
        name_cell = cell(40, row_top + 3)
        dotted = cells.dotted_row(name_cell)
        x, y, w, h = name_cell
        add(f"fuyo_{n}_kana", f"控除対象扶養親族{n} フリガナ", (x, y, w, dotted - y), "kana")
        add(f"fuyo_{n}_shimei", f"控除対象扶養親族{n} 氏名", (x, dotted, w, y + h - dotted), "text",
            content="person_name")
        add(f"fuyo_{n}_kubun", f"控除対象扶養親族{n} 区分（非居住者）", cell(64, row_top + 3), "checkbox")
        add(f"fuyo_{n}_my_number", f"控除対象扶養親族{n} 個人番号",
            span((24.5, row_top + 9.2), (66, row_top + 9.2)), "my_number", cells=12,
            validators=["my_number_check_digit"])
    for n, row_top in enumerate((121.0, 132.7, 144.4, 156.0), start=1):
        name_cell = cell(100, row_top + 3)
        dotted = cells.dotted_row(name_cell)
        x, y, w, h = name_cell
        add(f"miman_{n}_kana", f"16歳未満の扶養親族{n} フリガナ", (x, y, w, dotted - y), "kana")
        add(f"miman_{n}_shimei", f"16歳未満の扶養親族{n} 氏名", (x, dotted, w, y + h - dotted), "text",
            content="person_name")
        add(f"miman_{n}_kubun", f"16歳未満の扶養親族{n} 区分（非居住者）", cell(124, row_top + 3), "checkbox")
    x, y, w, h = cell(136, 130)
    add("bikou", "（備考）", (x + 0.3, y + 3.4, w - 0.6, 7.0), "text")

    # 未成年者 … 勤労学生, 中途就・退職, 受給者生年月日
    for name, label, point in [
        ("miseinensha", "未成年者", (8, 182.5)), ("gaikokujin", "外国人", (15.5, 182.5)),
        ("shibo_taishoku", "死亡退職", (22, 182.5)), ("saigaisha", "災害者", (28.5, 182.5)),
        ("otsuran", "乙欄", (34.5, 182.5)), ("honnin_tokubetsu_shogai", "本人が障害者 特別", (40.5, 182.5)),
        ("honnin_sonota_shogai", "本人が障害者 その他", (47, 182.5)), ("kafu", "寡婦", (53.3, 182.5)),
        ("hitorioya", "ひとり親", (59.6, 182.5)), ("kinro_gakusei", "勤労学生", (65.8, 182.5)),
    ]:
        add(name, label, cell(*point), "checkbox")
    add("chuto_shutai", "中途就・退職 区分", span((78, 182.5), (84, 182.5)), "choice", options=["就職", "退職"],
        option_labels=["", ""])
    points = [(90, 182.5), (96.5, 182.5), (102.5, 182.5)]
    add("chuto_shutai_nengappi", "中途就・退職 年月日", span(points[0], points[-1]), "date_wareki", era="令和",
        dividers_mm=inner_dividers(points))
    add("seinengappi_era", "受給者生年月日 元号", cell(116, 182.5), "text", content="terms",
        vocabulary=["明治", "大正", "昭和", "平成", "令和"], required=True)
    points = [(129.8, 182.5), (135.8, 182.5), (142, 182.5)]
    add("seinengappi", "受給者生年月日", span(points[0], points[-1]), "date_wareki", era_field="seinengappi_era",
        dividers_mm=inner_dividers(points), required=True, validators=["birth_date"])

    # 支払者
    add("shiharaisha_bango", "支払者 個人番号又は法人番号", span((29.5, 189), (74.5, 189)), "digits", cells=13,
        required=True, validators=["my_or_corporate_number_check_digit"])
    add("shiharaisha_jusho", "支払者 住所（居所）又は所在地", cell(80, 196), "text", content="address", required=True)
    x, y, w, h = cell(80, 202.5)
    add("shiharaisha_shimei", "支払者 氏名又は名称", (x, y, 100.4 - x, h), "text", content="organisation_name",
        required=True)
    add("shiharaisha_denwa", "支払者 電話", (105.2, y, x + w - 105.2, h), "phone")
    add("seiri_ran_1", "整理欄 1", cell(45, 207.3), "text")
    add("seiri_ran_2", "整理欄 2", cell(80, 207.3), "text")
    return fields


def write_fields(fields: list[dict]) -> None:
    path = HERE / "template.yaml"
    text = path.read_text(encoding="utf-8")
    lines = "\n".join("  - " + json.dumps(f, ensure_ascii=False) for f in fields)
    new_text, count = re.subn(r"(?ms)^fields:\n.*?(?=^\S)", "fields:\n" + lines + "\n\n", text)
    if count != 1:
        raise SystemExit("template.yaml has no fields: block followed by another top-level key")
    path.write_text(new_text, encoding="utf-8")


def main() -> None:
    blank = rasterise()
    cv2.imwrite(str(HERE / "blank.png"), blank)
    fields = measure(Cells(blank))
    write_fields(fields)
    digest = hashlib.sha256(PDF.read_bytes()).hexdigest()
    print(f"{len(fields)} fields; blank {blank.shape[1]}×{blank.shape[0]} px; pdf sha256 {digest}")


if __name__ == "__main__":
    main()
