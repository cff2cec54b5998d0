"""The 異動届入力 screen's inputs (the legacy names) and the server-side checks the old system makes on 登録.

Messages are the system's own; the robot reads them from the page. Over-long text is cut without a word, as
many old systems do: the robot must check lengths itself.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from legacy_sim import wareki
from legacy_sim.checkdigits import corporate_number_ok, my_number_ok
from legacy_sim.records import IdoRecord

IDO_JIYU = {"1": "退職", "2": "転勤", "3": "休職", "4": "死亡", "9": "その他"}
CHOSHU_HOHO = {"1": "特別徴収継続", "2": "一括徴収", "3": "普通徴収"}
ERA_OPTIONS = [(era.code, era.name) for era in wareki.ERAS]

MAX_LENGTHS = {
    "txtShiteiNo": 8, "txtHojinNo": 13, "txtJigyoshoMei": 40, "txtJigyoshoShozai": 60,
    "txtKanaShimei": 30, "txtShimei": 30, "txtKojinNo": 12, "txtJusho": 60,
    "txtNenzei": 10, "txtChoshuzumi": 10, "txtMichoshu": 10,
    "txtSeiYY": 2, "txtSeiMM": 2, "txtSeiDD": 2, "txtIdoYY": 2, "txtIdoMM": 2, "txtIdoDD": 2,
}
# Every input the screen posts back; the duplicate warning page carries them all in hidden fields.
INPUT_NAMES = (
    "txtShiteiNo", "txtHojinNo", "txtJigyoshoMei", "txtJigyoshoShozai", "txtKanaShimei", "txtShimei",
    "selSeiGengo", "txtSeiYY", "txtSeiMM", "txtSeiDD", "txtKojinNo", "txtJusho",
    "txtNenzei", "txtChoshuzumi", "txtMichoshu", "selIdoGengo", "txtIdoYY", "txtIdoMM", "txtIdoDD",
    "rdoIdoJiyu", "selChoshuHoho",
)

_DIGITS = re.compile(r"[0-9]+")
_HANKAKU_KANA = re.compile(r"[\uFF66-\uFF9F]+(?: [\uFF66-\uFF9F]+)*")


@dataclass
class EntryCheck:
    record: IdoRecord | None
    errors: list[str] = field(default_factory=list)


def _text(form: Mapping[str, str], name: str) -> str:
    value = form.get(name, "").strip()
    limit = MAX_LENGTHS.get(name)
    return value[:limit] if limit else value


def is_hankaku_kana(value: str) -> bool:
    return bool(_HANKAKU_KANA.fullmatch(value))


def wareki_date(form: Mapping[str, str], era_name: str, prefix: str) -> str | None:
    """Encoded GYYMMDD from the era select and the YY/MM/DD boxes, or None when they make no real day."""
    era_code = form.get(era_name, "")
    parts = [form.get(f"{prefix}{part}", "").strip() for part in ("YY", "MM", "DD")]
    if not all(_DIGITS.fullmatch(part) and len(part) <= 2 for part in parts):
        return None
    year, month, day = (int(part) for part in parts)
    if wareki.to_western(era_code, year, month, day) is None:
        return None
    return wareki.encode(era_code, year, month, day)


def _amount(form: Mapping[str, str], name: str, label: str, errors: list[str]) -> int | None:
    value = form.get(name, "").strip()
    if not value:
        errors.append(f"{label}を入力してください。")
    elif "," in value or "，" in value:
        errors.append(f"{label}はカンマを付けずに半角数字で入力してください。")
    elif not _DIGITS.fullmatch(value) or len(value) > MAX_LENGTHS[name]:
        errors.append(f"{label}は半角数字で入力してください。")
    else:
        return int(value)
    return None


def check_entry(form: Mapping[str, str]) -> EntryCheck:
    errors: list[str] = []
    shitei_no = _text(form, "txtShiteiNo")
    if not shitei_no:
        errors.append("指定番号を入力してください。")
    elif not (_DIGITS.fullmatch(shitei_no) and len(shitei_no) == 8):
        errors.append("指定番号は半角数字8桁で入力してください。")

    hojin_no = form.get("txtHojinNo", "").strip()
    if not hojin_no:
        errors.append("法人番号を入力してください。")
    elif not (_DIGITS.fullmatch(hojin_no) and len(hojin_no) == 13):
        errors.append("法人番号は半角数字13桁で入力してください。")
    elif not corporate_number_ok(hojin_no):
        errors.append("法人番号が正しくありません。")

    jigyosho_mei = _text(form, "txtJigyoshoMei")
    if not jigyosho_mei:
        errors.append("給与支払者の名称を入力してください。")

    kana = form.get("txtKanaShimei", "").strip()
    if not kana:
        errors.append("カナ氏名を入力してください。")
    elif not is_hankaku_kana(kana):
        errors.append("カナ氏名は半角カナで入力してください。")
    kana = kana[:MAX_LENGTHS["txtKanaShimei"]]

    shimei = _text(form, "txtShimei")
    if not shimei:
        errors.append("氏名を入力してください。")

    sei_ymd = wareki_date(form, "selSeiGengo", "txtSei")
    if sei_ymd is None:
        errors.append("生年月日が正しくありません。")

    kojin_no = form.get("txtKojinNo", "").strip()
    if kojin_no and not (_DIGITS.fullmatch(kojin_no) and len(kojin_no) == 12):
        errors.append("個人番号は半角数字12桁で入力してください。")
    elif kojin_no and not my_number_ok(kojin_no):
        errors.append("個人番号が正しくありません。")

    jusho = _text(form, "txtJusho")
    if not jusho:
        errors.append("住所を入力してください。")

    nenzei = _amount(form, "txtNenzei", "（ア）特別徴収税額", errors)
    choshuzumi = _amount(form, "txtChoshuzumi", "（イ）徴収済額", errors)
    michoshu = _amount(form, "txtMichoshu", "（ウ）未徴収税額", errors)
    if None not in (nenzei, choshuzumi, michoshu) and michoshu != nenzei - choshuzumi:  # type: ignore[operator]
        errors.append("（ウ）未徴収税額が（ア）－（イ）と一致しません。")

    ido_ymd = wareki_date(form, "selIdoGengo", "txtIdo")
    if ido_ymd is None:
        errors.append("異動年月日が正しくありません。")

    ido_jiyu = form.get("rdoIdoJiyu", "")
    if ido_jiyu not in IDO_JIYU:
        errors.append("異動事由を選択してください。")
    choshu_hoho = form.get("selChoshuHoho", "")
    if choshu_hoho not in CHOSHU_HOHO:
        errors.append("徴収方法を選択してください。")

    if errors:
        return EntryCheck(None, errors)
    return EntryCheck(IdoRecord(
        shitei_no=shitei_no, hojin_no=hojin_no, jigyosho_mei=jigyosho_mei,
        jigyosho_shozai=_text(form, "txtJigyoshoShozai"), kana_shimei=kana, shimei=shimei,
        sei_ymd=sei_ymd or "", kojin_no=kojin_no, jusho=jusho, nenzei=nenzei or 0, choshuzumi=choshuzumi or 0,
        michoshu=michoshu or 0, ido_ymd=ido_ymd or "", ido_jiyu=ido_jiyu, choshu_hoho=choshu_hoho,
    ))
