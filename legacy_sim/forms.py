"""The three 届出 the legacy system takes, as its own screens and columns define them.

Each form is keyed to a subject the system already knows: a taxpayer's 宛名番号 (異動届, 給与支払報告書) or a
corporation's 法人管理番号 (法人市民税申告書). Input names follow the system's own habits: `txt` + the column in
CamelCase, `sel`/`rdo`/`chk` for selects, radios and boxes, and a date as an era select plus three boxes
(`selSeiGengo`, `txtSeiYY`, `txtSeiMM`, `txtSeiDD`).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["atena_no", "kanri_no", "text", "kana", "digits", "amount", "signed_amount", "date", "code",
               "radio", "check"]
Check = Literal["my_number", "corporate_number", "my_or_corporate_number"]


def camel(column: str) -> str:
    return "".join(part.capitalize() for part in column.split("_"))


@dataclass(frozen=True)
class FieldDef:
    column: str
    label: str
    kind: Kind
    maxlen: int | None = None
    required: bool = False
    options: Mapping[str, str] | None = None  # code -> 名称
    lengths: tuple[int, ...] | None = None  # digits: the lengths the system takes
    check: Check | None = None
    date_name: str | None = None  # a date's part of the input names: "Sei" → selSeiGengo, txtSeiYY ...
    section: str = ""

    @property
    def camel(self) -> str:
        return camel(self.column)

    @property
    def input_name(self) -> str:
        if self.kind == "date":
            raise ValueError("a date has four inputs, see date_inputs")
        prefix = {"code": "sel", "radio": "rdo", "check": "chk"}.get(self.kind, "txt")
        return prefix + self.camel

    @property
    def date_inputs(self) -> tuple[str, str, str, str]:
        name = self.date_name or self.camel
        return f"sel{name}Gengo", f"txt{name}YY", f"txt{name}MM", f"txt{name}DD"

    @property
    def input_names(self) -> tuple[str, ...]:
        return self.date_inputs if self.kind == "date" else (self.input_name,)


@dataclass(frozen=True)
class FormDef:
    code: str  # the URL part: /ido/entry
    table: str
    title: str
    screen_prefix: str  # IDO → IDO0101 entry, IDO0102 duplicate, IDO0103 complete, IDO0201 inquiry
    receipt_letter: str
    fields: tuple[FieldDef, ...]
    duplicate_key: tuple[str, ...]  # columns: a second record with the same values gets the duplicate warning
    duplicate_words: str  # how the warning names those columns
    list_columns: tuple[str, ...]  # shown in each row of the inquiry's result list
    cross_checks: Callable[[dict[str, object]], list[str]] = field(default=lambda record: [])
    notice: str = ""

    @property
    def subject(self) -> FieldDef:
        return self.fields[0]

    def field(self, column: str) -> FieldDef:
        return next(f for f in self.fields if f.column == column)


ERA_NAMES = {"1": "明治", "2": "大正", "3": "昭和", "4": "平成", "5": "令和"}
UMU = {"1": "有", "2": "無"}
# 千葉市's 区 by their 区コード (全国地方公共団体コード 12101–12106).
KU_CODES = {"101": "中央区", "102": "花見川区", "103": "稲毛区", "104": "若葉区", "105": "緑区", "106": "美浜区"}


def _f(column: str, label: str, kind: Kind = "text", maxlen: int | None = None, **extra: object) -> FieldDef:
    return FieldDef(column, label, kind, maxlen, **extra)  # type: ignore[arg-type]


def _ido_checks(record: dict[str, object]) -> list[str]:
    errors = []
    nenzei, choshuzumi, michoshu = (record.get(c) for c in ("nenzei", "choshuzumi", "michoshu"))
    if None not in (nenzei, choshuzumi, michoshu) and michoshu != nenzei - choshuzumi:  # type: ignore[operator]
        errors.append("（ウ）未徴収税額が（ア）－（イ）と一致しません。")
    months = [record.get(c) for c in ("choshuzumi_kara", "choshuzumi_made", "ikkatsu_nonyu_tsuki", "shin_kaishi_tsuki")]
    if any(m is not None and not 1 <= int(str(m)) <= 12 for m in months):
        errors.append("月は1から12で入力してください。")
    hoho = record.get("choshu_hoho")
    if hoho == "2" and not record.get("ikkatsu_riyu"):
        errors.append("一括徴収の場合は一括徴収の理由を選択してください。")
    if hoho == "1" and not record.get("shin_shitei_no"):
        errors.append("特別徴収継続の場合は新勤務先の指定番号を入力してください。")
    return errors


IDO = FormDef(
    code="ido", table="ido_todoke", title="給与所得者異動届出書", screen_prefix="IDO", receipt_letter="I",
    fields=(
        _f("atena_no", "宛名番号", "atena_no", 10, required=True, section="給与所得者"),
        _f("shitei_no", "特別徴収義務者指定番号", "digits", 8, required=True, lengths=(8,), section="給与支払者"),
        _f("hojin_no", "法人番号", "digits", 13, required=True, lengths=(13,), check="corporate_number",
           section="給与支払者"),
        _f("jigyosho_mei", "名称", "text", 40, required=True, section="給与支払者"),
        _f("jigyosho_shozai", "所在地", "text", 60, section="給与支払者"),
        _f("daihyosha_shokushimei", "代表者の職氏名", "text", 30, section="給与支払者"),
        _f("renrakusha_shimei", "連絡者氏名", "text", 30, section="給与支払者"),
        _f("renrakusha_denwa", "連絡先電話", "text", 15, section="給与支払者"),
        _f("nendo_kubun", "区分", "code", section="届出", options={"1": "現年度", "2": "新年度"}),
        _f("teishutsu_ymd", "提出日", "date", date_name="Teishutsu", section="届出"),
        _f("kana_shimei", "カナ氏名", "kana", 30, required=True, section="給与所得者"),
        _f("shimei", "氏名", "text", 30, required=True, section="給与所得者"),
        _f("sei_ymd", "生年月日", "date", required=True, date_name="Sei", section="給与所得者"),
        _f("kojin_no", "個人番号", "digits", 12, lengths=(12,), check="my_number", section="給与所得者"),
        _f("jusho", "1月1日現在の住所", "text", 60, required=True, section="給与所得者"),
        _f("jukyusha_no", "受給者番号", "digits", 10, section="給与所得者"),
        _f("ido_go_jusho", "異動後の住所", "text", 60, section="給与所得者"),
        _f("nenzei", "（ア）特別徴収税額", "amount", 10, required=True, section="異動の内容"),
        _f("choshuzumi", "（イ）徴収済額", "amount", 10, required=True, section="異動の内容"),
        _f("michoshu", "（ウ）未徴収税額", "amount", 10, required=True, section="異動の内容"),
        _f("tsukiwari", "月割額（7月分以降）", "amount", 9, section="異動の内容"),
        _f("choshuzumi_kara", "徴収済月（から）", "digits", 2, lengths=(1, 2), section="異動の内容"),
        _f("choshuzumi_made", "徴収済月（まで）", "digits", 2, lengths=(1, 2), section="異動の内容"),
        _f("ido_ymd", "異動年月日", "date", required=True, date_name="Ido", section="異動の内容"),
        _f("ido_jiyu", "異動事由", "radio", required=True, section="異動の内容",
           options={"1": "退職", "2": "転勤", "3": "休職", "4": "死亡", "9": "その他"}),
        _f("choshu_hoho", "徴収方法", "code", required=True, section="異動の内容",
           options={"1": "特別徴収継続", "2": "一括徴収", "3": "普通徴収"}),
        _f("ikkatsu_riyu", "一括徴収の理由", "code", section="一括徴収",
           options={"1": "1月1日から4月30日の異動", "2": "本人の申出"}),
        _f("ikkatsu_yotei", "一括徴収予定額", "amount", 10, section="一括徴収"),
        _f("ikkatsu_nonyu_tsuki", "一括徴収の納入月", "digits", 2, lengths=(1, 2), section="一括徴収"),
        _f("futsu_riyu", "一括徴収しない理由", "code", section="一括徴収",
           options={"1": "申出なし", "2": "支払不足", "9": "その他"}),
        _f("shin_meisho", "新勤務先の名称", "text", 40, section="新勤務先"),
        _f("shin_shitei_no", "新勤務先の指定番号", "digits", 8, lengths=(8,), section="新勤務先"),
        _f("shin_shozai", "新勤務先の所在地", "text", 60, section="新勤務先"),
        _f("shin_tantosha", "新勤務先の担当者", "text", 30, section="新勤務先"),
        _f("shin_denwa", "新勤務先の電話", "text", 15, section="新勤務先"),
        _f("shin_kaishi_tsuki", "特別徴収開始月", "digits", 2, lengths=(1, 2), section="新勤務先"),
        _f("shin_tsukiwari", "新勤務先の月割額", "amount", 9, section="新勤務先"),
    ),
    duplicate_key=("shitei_no", "atena_no", "ido_ymd"), duplicate_words="指定番号・宛名番号・異動年月日",
    list_columns=("shitei_no", "kana_shimei", "sei_ymd", "ido_ymd", "ido_jiyu"),
    cross_checks=_ido_checks,
    notice="異動月の翌月10日までに受け付けたものから順に処理してください。",
)

_KYUYO_FIELDS: list[FieldDef] = [
    _f("atena_no", "宛名番号", "atena_no", 10, required=True, section="支払を受ける者"),
    _f("jusho", "住所又は居所", "text", 60, required=True, section="支払を受ける者"),
    _f("jukyusha_bango", "受給者番号", "text", 10, section="支払を受ける者"),
    _f("yakushoku", "役職名", "text", 20, section="支払を受ける者"),
    _f("kojin_no", "個人番号", "digits", 12, required=True, lengths=(12,), check="my_number",
       section="支払を受ける者"),
    _f("kana_shimei", "カナ氏名", "kana", 30, required=True, section="支払を受ける者"),
    _f("shimei", "氏名", "text", 30, required=True, section="支払を受ける者"),
    _f("sei_ymd", "生年月日", "date", required=True, date_name="Sei", section="支払を受ける者"),
    _f("shubetsu", "種別", "text", 10, section="支払金額等"),
    _f("shiharai_kingaku", "支払金額", "amount", 11, required=True, section="支払金額等"),
    _f("miharai_gaku", "支払金額 内未払額", "amount", 11, section="支払金額等"),
    _f("kyuyo_shotoku_kojogo", "給与所得控除後の金額", "amount", 11, section="支払金額等"),
    _f("shotoku_kojo_gokei", "所得控除の額の合計額", "amount", 11, section="支払金額等"),
    _f("gensen_choshu_zeigaku", "源泉徴収税額", "amount", 11, section="支払金額等"),
    _f("michoshu_gaku", "源泉徴収税額 内未徴収額", "amount", 11, section="支払金額等"),
    _f("haigusha_ari", "控除対象配偶者 有", "check", section="配偶者・扶養"),
    _f("haigusha_ju_ari", "控除対象配偶者 従有", "check", section="配偶者・扶養"),
    _f("haigusha_rojin", "老人控除対象配偶者", "check", section="配偶者・扶養"),
    _f("haigusha_kojo_gaku", "配偶者（特別）控除の額", "amount", 11, section="配偶者・扶養"),
]
for _column, _label in (("fuyo_tokutei_nin", "扶養 特定 人"), ("fuyo_tokutei_ju", "扶養 特定 従人"),
                        ("fuyo_rojin_uchi", "扶養 老人 内"), ("fuyo_rojin_nin", "扶養 老人 人"),
                        ("fuyo_rojin_ju", "扶養 老人 従人"), ("fuyo_sonota_nin", "扶養 その他 人"),
                        ("fuyo_sonota_ju", "扶養 その他 従人"), ("fuyo_tokushin_nin", "扶養 特親 人"),
                        ("fuyo_tokushin_ju", "扶養 特親 従人"), ("fuyo_16_miman", "16歳未満扶養親族の数"),
                        ("shogaisha_tokubetsu_uchi", "障害者 特別 内"), ("shogaisha_tokubetsu_nin", "障害者 特別 人"),
                        ("shogaisha_sonota_nin", "障害者 その他 人"), ("hikyojusha_shinzoku", "非居住者である親族の数")):
    _KYUYO_FIELDS.append(_f(_column, _label, "digits", 2, section="配偶者・扶養"))
_KYUYO_FIELDS += [
    _f("tokutei_shinzoku_kojo_gaku", "特定親族特別控除の額", "amount", 11, section="控除"),
    _f("shakai_hoken_gaku", "社会保険料等の金額", "amount", 11, section="控除"),
    _f("shokibo_kyosai_gaku", "内 小規模企業共済等掛金", "amount", 11, section="控除"),
    _f("seimei_hoken_kojo", "生命保険料の控除額", "amount", 7, section="控除"),
    _f("jishin_hoken_kojo", "地震保険料の控除額", "amount", 7, section="控除"),
    _f("jutaku_kojo_gaku", "住宅借入金等特別控除の額", "amount", 9, section="控除"),
    _f("tekiyo_1", "摘要 1行目", "text", 40, section="摘要"),
    _f("tekiyo_2", "摘要 2行目", "text", 40, section="摘要"),
    _f("tekiyo_3", "摘要 3行目", "text", 40, section="摘要"),
    _f("bikou", "備考", "text", 40, section="摘要"),
    _f("fuyo_5_igo_kojin_no", "5人目以降の控除対象扶養親族の個人番号", "digits", 12, lengths=(12,),
       check="my_number", section="摘要"),
    _f("miman_5_igo_kojin_no", "5人目以降の16歳未満扶養親族の個人番号", "digits", 12, lengths=(12,),
       check="my_number", section="摘要"),
    _f("shin_seimei_hokenryo", "新生命保険料の金額", "amount", 9, section="生命保険料の内訳"),
    _f("kyu_seimei_hokenryo", "旧生命保険料の金額", "amount", 9, section="生命保険料の内訳"),
    _f("kaigo_iryo_hokenryo", "介護医療保険料の金額", "amount", 9, section="生命保険料の内訳"),
    _f("shin_kojin_nenkin_hokenryo", "新個人年金保険料の金額", "amount", 9, section="生命保険料の内訳"),
    _f("kyu_kojin_nenkin_hokenryo", "旧個人年金保険料の金額", "amount", 9, section="生命保険料の内訳"),
    _f("jutaku_tekiyo_su", "住宅借入金等特別控除適用数", "digits", 1, section="住宅借入金等特別控除の内訳"),
    _f("jutaku_kanogaku", "住宅借入金等特別控除可能額", "amount", 9, section="住宅借入金等特別控除の内訳"),
    _f("jutaku_kyoju_ymd_1", "居住開始年月日（1回目）", "date", date_name="Kyoju1",
       section="住宅借入金等特別控除の内訳"),
    _f("jutaku_kubun_1", "住宅借入金等特別控除区分（1回目）", "text", 4, section="住宅借入金等特別控除の内訳"),
    _f("jutaku_zandaka_1", "住宅借入金等年末残高（1回目）", "amount", 11, section="住宅借入金等特別控除の内訳"),
    _f("jutaku_kyoju_ymd_2", "居住開始年月日（2回目）", "date", date_name="Kyoju2",
       section="住宅借入金等特別控除の内訳"),
    _f("jutaku_kubun_2", "住宅借入金等特別控除区分（2回目）", "text", 4, section="住宅借入金等特別控除の内訳"),
    _f("jutaku_zandaka_2", "住宅借入金等年末残高（2回目）", "amount", 11, section="住宅借入金等特別控除の内訳"),
    _f("haigusha_kana", "控除対象配偶者 カナ氏名", "kana", 30, section="控除対象配偶者"),
    _f("haigusha_shimei", "控除対象配偶者 氏名", "text", 30, section="控除対象配偶者"),
    _f("haigusha_hikyojusha", "控除対象配偶者 非居住者", "check", section="控除対象配偶者"),
    _f("haigusha_kojin_no", "控除対象配偶者 個人番号", "digits", 12, lengths=(12,), check="my_number",
       section="控除対象配偶者"),
    _f("haigusha_gokei_shotoku", "配偶者の合計所得", "amount", 11, section="控除対象配偶者"),
    _f("kokumin_nenkin_gaku", "国民年金保険料等の金額", "amount", 9, section="控除対象配偶者"),
    _f("kyu_choki_songai_gaku", "旧長期損害保険料の金額", "amount", 9, section="控除対象配偶者"),
    _f("kiso_kojo_gaku", "基礎控除の額", "amount", 9, section="控除対象配偶者"),
    _f("shotoku_chosei_kojo_gaku", "所得金額調整控除額", "amount", 9, section="控除対象配偶者"),
]
for _prefix, _what in (("fuyo", "控除対象扶養親族"), ("miman", "16歳未満の扶養親族")):
    for _n in range(1, 5):
        _section = f"{_what}{_n}"
        _KYUYO_FIELDS += [
            _f(f"{_prefix}_{_n}_kana", f"{_section} カナ氏名", "kana", 30, section=_section),
            _f(f"{_prefix}_{_n}_shimei", f"{_section} 氏名", "text", 30, section=_section),
            _f(f"{_prefix}_{_n}_hikyojusha", f"{_section} 非居住者", "check", section=_section),
            _f(f"{_prefix}_{_n}_kojin_no", f"{_section} 個人番号", "digits", 12, lengths=(12,), check="my_number",
               section=_section),
        ]
for _column, _label in (("miseinensha", "未成年者"), ("gaikokujin", "外国人"), ("shibo_taishoku", "死亡退職"),
                        ("saigaisha", "災害者"), ("otsuran", "乙欄"), ("honnin_tokubetsu_shogai", "本人 特別障害者"),
                        ("honnin_sonota_shogai", "本人 その他障害者"), ("kafu", "寡婦"), ("hitorioya", "ひとり親"),
                        ("kinro_gakusei", "勤労学生")):
    _KYUYO_FIELDS.append(_f(_column, _label, "check", section="本人の区分"))
_KYUYO_FIELDS += [
    _f("chuto_shutai", "中途就・退職", "code", options={"1": "就職", "2": "退職"}, section="本人の区分"),
    _f("chuto_shutai_ymd", "中途就・退職 年月日", "date", date_name="Chuto", section="本人の区分"),
    _f("shiharaisha_bango", "支払者 個人番号又は法人番号", "digits", 13, required=True, lengths=(12, 13),
       check="my_or_corporate_number", section="支払者"),
    _f("shiharaisha_jusho", "支払者 住所又は所在地", "text", 60, required=True, section="支払者"),
    _f("shiharaisha_shimei", "支払者 氏名又は名称", "text", 40, required=True, section="支払者"),
    _f("shiharaisha_denwa", "支払者 電話", "text", 15, section="支払者"),
]


def _kyuyo_checks(record: dict[str, object]) -> list[str]:
    errors = []
    pairs = (("miharai_gaku", "shiharai_kingaku", "未払額が支払金額を超えています。"),
             ("shokibo_kyosai_gaku", "shakai_hoken_gaku", "小規模企業共済等掛金が社会保険料等の金額を超えています。"),
             ("michoshu_gaku", "gensen_choshu_zeigaku", "未徴収額が源泉徴収税額を超えています。"))
    for part, whole, message in pairs:
        if record.get(part) is not None and (record.get(whole) is None or record[part] > record[whole]):  # type: ignore[operator]
            errors.append(message)
    return errors


KYUYO = FormDef(
    code="kyuyo", table="kyuyo_hokoku", title="給与支払報告書（個人別明細書）", screen_prefix="KYH",
    receipt_letter="K", fields=tuple(_KYUYO_FIELDS),
    duplicate_key=("atena_no", "shiharaisha_bango"), duplicate_words="宛名番号・支払者番号",
    list_columns=("kana_shimei", "sei_ymd", "shiharaisha_bango", "shiharai_kingaku"),
    cross_checks=_kyuyo_checks,
    notice="令和7年分。1月31日提出分から順に入力してください。",
)

_HOJIN_AMOUNTS = (
    ("hojinzei_gaku", "法人税法の規定によって計算した法人税額"), ("tokubetsu_kojo_gaku", "試験研究費の額等に係る法人税額の特別控除額"),
    ("kanpu_hojinzei_kojo", "還付法人税額等の控除額"), ("taishoku_nenkin_hojinzei", "退職年金等積立金に係る法人税額"),
    ("kazei_hyojun", "課税標準となる法人税額"), ("hojinzeiwari_gaku", "法人税割額"),
    ("bunkatsu_kazei_hyojun", "分割法人の課税標準"), ("bunkatsu_hojinzeiwari_gaku", "分割法人の法人税割額"),
    ("tokutei_kifukin_kojo", "特定寄附金税額控除額"), ("kojo_choka_kasan", "税額控除超過相当額等の加算額"),
    ("gaikoku_kankei_kojo", "外国関係会社等に係る控除対象所得税額等相当額の控除額"),
    ("gaikoku_hojinzei_kojo", "外国の法人税等の額の控除額"), ("kaso_keiri_kojo", "仮装経理に基づく法人税割額の控除額"),
    ("sashihiki_hojinzeiwari", "差引法人税割額"), ("kino_hojinzeiwari", "既に納付の確定した当期分の法人税割額"),
    ("sozei_joyaku_kojo", "租税条約の実施に係る法人税割額の控除額"),
)


def _hojin_checks(record: dict[str, object]) -> list[str]:
    errors = []
    parts = [record.get(c) for c in ("nofu_hojinzeiwari", "nofu_kintowari", "nofu_shichosonminzei")]
    if parts[2] is not None and (parts[0] or 0) + (parts[1] or 0) != parts[2]:  # type: ignore[operator]
        errors.append("納付すべき市町村民税額が法人税割額と均等割額の合計と一致しません。")
    wards = [record.get(f"ku_{n}_kintowari") for n in (1, 2, 3)]
    if record.get("kintowari_gaku") is not None and wards[0] is not None \
            and sum(w or 0 for w in wards) != record["kintowari_gaku"]:  # type: ignore[misc]
        errors.append("均等割額が区ごとの均等割額の合計と一致しません。")
    return errors


HOJIN = FormDef(
    code="hojin", table="hojin_shinkoku", title="法人市民税申告書（第20号様式）", screen_prefix="HJN",
    receipt_letter="H",
    fields=(
        _f("kanri_no", "法人管理番号", "kanri_no", 8, required=True, section="法人"),
        _f("teishutsu_ymd", "提出年月日", "date", required=True, date_name="Teishutsu", section="法人"),
        _f("hojin_no", "法人番号", "digits", 13, required=True, lengths=(13,), check="corporate_number",
           section="法人"),
        _f("jigyo_shumoku", "事業種目", "text", 20, section="法人"),
        _f("shozaichi", "所在地", "text", 60, required=True, section="法人"),
        _f("denwa", "電話", "text", 15, section="法人"),
        _f("hojin_mei_kana", "法人名カナ", "kana", 40, section="法人"),
        _f("hojin_mei", "法人名", "text", 40, required=True, section="法人"),
        _f("daihyosha_shimei", "代表者氏名", "text", 30, required=True, section="法人"),
        _f("shihonkin_gaku", "資本金の額又は出資金の額", "amount", 13, section="資本金等"),
        _f("shihonkin_junbikin_gassan", "資本金の額及び資本準備金の額の合算額", "amount", 13, section="資本金等"),
        _f("chusho_gaito_shinai", "中小法人等に該当しない", "check", section="資本金等"),
        _f("shihonkin_to_gaku", "資本金等の額", "amount", 13, section="資本金等"),
        _f("shinkoku_kubun", "申告区分", "radio", required=True, options={"1": "確定", "2": "中間", "3": "修正"},
           section="事業年度"),
        _f("jigyo_nendo_kaishi", "事業年度（自）", "date", required=True, date_name="NendoKaishi", section="事業年度"),
        _f("jigyo_nendo_shuryo", "事業年度（至）", "date", required=True, date_name="NendoShuryo", section="事業年度"),
        _f("chukan_kikan_kaishi", "中間申告の計算期間（自）", "date", date_name="ChukanKaishi", section="事業年度"),
        _f("chukan_kikan_shuryo", "中間申告の計算期間（至）", "date", date_name="ChukanShuryo", section="事業年度"),
        _f("shinkoku_kiso_ymd", "この申告の基礎（修正申告・更正・決定の日）", "date", date_name="Kiso",
           section="事業年度"),
        *(_f(column, label, "amount", 13, section="法人税割") for column, label in _HOJIN_AMOUNTS),
        _f("nofu_hojinzeiwari", "この申告により納付すべき法人税割額", "signed_amount", 13, section="法人税割"),
        _f("tsukisu", "事務所等を有していた月数", "digits", 2, required=True, section="均等割"),
        _f("kintowari_gaku", "均等割額", "amount", 9, section="均等割"),
        _f("kintowari_nengaku", "均等割の年額", "amount", 9, section="均等割"),
        _f("kino_kintowari", "既に納付の確定した当期分の均等割額", "amount", 9, section="均等割"),
        _f("nofu_kintowari", "この申告により納付すべき均等割額", "signed_amount", 9, section="均等割"),
        _f("nofu_shichosonminzei", "この申告により納付すべき市町村民税額", "signed_amount", 13, section="合計"),
        _f("mikomi_nofu", "うち見込納付額", "amount", 13, section="合計"),
        _f("sashihiki_nofu", "差引", "signed_amount", 13, section="合計"),
        _f("jugyoin_gokei", "従業者数の合計数", "digits", 7, required=True, section="従業者"),
        _f("shinai_jugyoin", "市内の従業者数", "digits", 7, required=True, section="従業者"),
        *(spec for n in (1, 2, 3) for spec in (
            _f(f"ku_{n}_mei", f"区の名称（{n}）", "code", options=KU_CODES, required=n == 1, section="区ごとの均等割"),
            _f(f"ku_{n}_jugyoin", f"区内の従業者数（{n}）", "digits", 5, required=n == 1, section="区ごとの均等割"),
            _f(f"ku_{n}_tsukisu", f"区内の月数（{n}）", "digits", 2, required=n == 1, section="区ごとの均等割"),
            _f(f"ku_{n}_kintowari", f"区の均等割額（{n}）", "amount", 9, required=n == 1, section="区ごとの均等割"))),
        _f("hojinzei_kakutei_gaku", "法人税の当期確定税額", "amount", 13, section="その他"),
        _f("kessan_kakutei_ymd", "決算確定の日", "date", date_name="Kessan", section="その他"),
        _f("kaisan_ymd", "解散の日", "date", date_name="Kaisan", section="その他"),
        _f("zanyo_bunpai_ymd", "残余財産の最後の分配又は引渡しの日", "date", date_name="Zanyo", section="その他"),
        _f("shinkokusho_shurui", "申告書の種類", "code", options={"1": "青色", "2": "その他"}, section="その他"),
        _f("kokugai_kanrensha", "国外関連者の有無", "code", options=UMU, section="その他"),
        _f("encho_umu", "申告期限の延長の処分の有無", "code", options=UMU, section="その他"),
        _f("kanpu_kinyu_kikan", "還付を受けようとする金融機関", "text", 40, section="その他"),
    ),
    duplicate_key=("kanri_no", "jigyo_nendo_shuryo", "shinkoku_kubun"), duplicate_words="法人・事業年度・申告区分",
    list_columns=("hojin_no", "hojin_mei", "jigyo_nendo_shuryo", "shinkoku_kubun"),
    cross_checks=_hojin_checks,
    notice="申告期限の延長がある法人は、見込納付額を確認してください。",
)

FORMS: dict[str, FormDef] = {form.code: form for form in (IDO, KYUYO, HOJIN)}
