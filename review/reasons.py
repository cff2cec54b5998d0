"""Every reason a field can be held for people, in Japanese words that say what is wrong and what to do; and a
failed rule between fields spelled out: its formula with the numbers read, and which field is likely wrong.

A code that has no sentence here is a bug (tests/test_review_day.py enumerates the codes the code base emits).
"""
from __future__ import annotations

from collections.abc import Mapping

from ocr.rules import Call, Name, Number, ParsedRule, Sum, evaluate
from ocr.templates import Template
from ocr.validate import rule_number

# code → the sentence a reviewer reads. Short enough for one line; the crop shows the rest.
REASON_SENTENCES: dict[str, str] = {
    "low_confidence": "読取の確信度が低い値です。画像と見比べてください。",
    "ambiguous_mark": "丸印・チェックがあいまいです。どれに印があるか画像で確かめてください。",
    "required_missing": "必須の項目が空欄です。記入があれば入力し、なければ差し戻してください。",
    "check_digit": "チェックディジット（最後の桁）が合いません。1桁ずつ画像と見比べてください。",
    "wrong_length": "桁数が違います。落ちた桁・余分な桁がないか確かめてください。",
    "not_digits": "数字以外の文字が入っています。数字だけを入力してください。",
    "implausible_amount": "金額が通常の範囲を超えています。桁を確かめ、正しければ Shift+Enter で確定してください。",
    "out_of_range": "値が想定の範囲外です。正しければ Shift+Enter で確定してください。",
    "date_out_of_range": "日付が想定の範囲外（未来の生年月日など）です。元号と年を確かめてください。",
    "bad_date": "日付として読めません（13月・31日のない月など）。画像の日付を入力してください。",
    "era_missing": "元号が分かりません。元号欄の印を確かめてください。",
    "not_kana": "カタカナ以外の文字があります。フリガナはカタカナで入力してください。",
    "small_kana_suspicious": "小さい「ャ・ッ」などが不自然です。大きい字か小さい字か画像で確かめてください。",
    "kana_separator_guessed": "姓と名の区切りを推定しました。区切りの位置を確かめてください。",
    "kana_separator_missing": "フリガナに姓と名の区切り（空白1つ）がありません。姓と名の間に空白を入れてください。",
    "known_misread": "誤読しやすい文字（地名の1文字違いなど）を補正しました。補正が正しいか確かめてください。",
    "name_kana_mismatch": "氏名とフリガナの読みが合いません。どちらが誤読か画像で確かめてください。",
    "variant_possible": "異体字（髙・﨑など）で書かれている可能性があります。画像のとおりの字にしてください。",
    "not_an_option": "選択肢にない値です。用紙で印の付いた選択肢を選んでください。",
    "not_checkbox": "チェックとして読めません。印があれば 1、なければ 0 を入力してください。",
    "not_phone": "電話番号として読めません。正しく書かれていれば監督者が「記載どおり確定」できます。",
    "phone_grouping_unsure": "電話番号の区切り（市外局番）が分かりません。ハイフンの位置を確かめてください。",
    "blind_mismatch": "ベリファイで1人目の入力が読取値と違いました。2人目の確認者が読取値を見ずに入力します。",
    "blind_conflict": "ベリファイで2人の入力と読取値が食い違いました。入力者以外の監督者が判断します。",
    "audit_sample": "抜き取り検査です。読取値を見ずに画像のとおり入力してください。",
    "suffix_mismatch": "印刷済みの末尾（000 など）と合いません。千円単位の欄か確かめてください。",
    "digit_grouping_mismatch": "桁区切り（カンマ）の位置が桁数と合いません。桁の落ち・重なりを確かめてください。",
    "text_beyond_box": "枠の外まで書かれています。枠の外の文字まで画像で確かめてください。",
    "kana_cut_short": "フリガナが途中で切れている可能性があります。最後の文字まで確かめてください。",
    "unlikely_character": "この欄では使わない文字（英字・記号・カタカナに似た漢字など）があります。画像のとおりに直してください。",
    "place_not_in_postal_data": "郵便番号データにない地名です。都道府県・市区町村・町名を画像と見比べてください。",
    "chinese_variant": "中国語の字体で読み取られた文字があります。日本の字体に直してください。",
    "second_reading_differs": "長い行を分けて読み直すと結果が違いました。どちらが正しいか画像で確かめてください。",
    "name_cut_short": "氏名の最後の文字が欠けた可能性があります（フリガナより短い）。画像で確かめてください。",
    "near_miss_character": "読取に近い別の文字があり、桁の落ち・重なりの可能性があります。1桁ずつ確かめてください。",
    "account_number_length": "口座番号が7桁ではありません（または種目・番号が読めません）。画像で確かめてください。",
    "kana_lookalike_of_reading": "フリガナが氏名の読みと似た文字1字だけ違います（プとブなど）。画像で確かめてください。",
    "cross_field": "項目間の計算が合いません。関係する項目を画像と見比べてください。",
    "unknown_validator": "様式定義に未知の検査名があります。値を確かめ、システム担当に連絡してください。",
    "confirmed_as_written": "監督者が用紙の記載どおりとして確定しました。",
    "seal_over_field": "印影（押印・受付印）が欄に重なっています。印の下の記入を画像で確かめてください。",
    "ink_from_outside_box": "枠の外から線（印影など）が入り込んでいます。チェックの有無を画像で確かめてください。",
    "reading_shorter_than_ink": "書かれた文字の数より読み取った桁が少ない可能性があります（13日→3日など）。1桁ずつ確かめてください。",
    "bank_not_in_zengin_data": "全銀データにない金融機関名です。金融機関名を画像と見比べてください。",
    "branch_not_in_zengin_data": "その金融機関の支店として全銀データにない支店名です。支店名を画像と見比べてください。",
}

RELATION_WORDS = {"=": "＝", "<=": "≦", ">=": "≧"}
FUNCTION_WORDS = {
    "kyuyo_shotoku": "別表第五の給与所得",
    "income_adjustment_cap": "所得金額調整控除の上限",
    "remainder": "余り",
    "floor_to": "切捨て",
    "kintowari_annual": "均等割の年額",
    "kintowari": "均等割額",
    "monthly_share": "年額×月数÷12",
    "tax_at_rate": "税率による税額",
    "apportion": "従業者数による分割",
    "tokucho_order": "特別徴収の月順（6月分＝0）",
    "tokucho_monthly": "年税額÷12の月割額",
    "tokucho_collected": "月割額の合計",
    "month_of": "月",
}


def base_code(reason: str) -> str:
    return reason.split(":", 1)[0]


def sentence(reason: str) -> str:
    """The Japanese sentence for a reason code (`cross_field:<rule>` gives the general one; see `explain`)."""
    found = REASON_SENTENCES.get(base_code(reason))
    if found is not None:
        return found
    return f"要確認の理由があります（{reason}）。画像と見比べてください。"


def explain(reason: str, field_name: str, template: Template | None, values: Mapping[str, object] | None = None,
            confidences: Mapping[str, float] | None = None,
            other_reasons: Mapping[str, list[str]] | None = None) -> str:
    """The sentence for `reason` on `field_name`; a failed rule between fields as its formula with the numbers read
    and the field most likely wrong."""
    if base_code(reason) == "cross_field" and template is not None and values is not None:
        rule_name = reason.split(":", 1)[1] if ":" in reason else ""
        rule = next((r for r in template.cross_field_rules if r.name == rule_name), None)
        if rule is not None:
            blocks = _explain_blocks(rule, template, values)
            if blocks or rule.parsed() is None:
                return blocks or f"{rule.message}。"
            return _explain_rule(rule.message, rule.parsed(), template, values, confidences or {},
                                 other_reasons or {}, rule.blank_as_zero)
    return sentence(reason)


def _explain_blocks(rule, template: Template, values: Mapping[str, object]) -> str:
    """A rule's `requires`/`forbids` that do not hold, in words: which fields are missing, which should be blank."""
    missing = [_label(template, n) for n in rule.requires if values.get(n) in (None, "", False)]
    present = [_label(template, n) for n in rule.forbids if values.get(n) not in (None, "", False)]
    if not (missing or present):
        return ""
    parts = [f"{rule.message}。"]
    if missing:
        parts.append(f"未記入：{'、'.join(missing)}。")
    if present:
        parts.append(f"記入されているが不要：{'、'.join(present)}。")
    return "".join(parts)


def _label(template: Template, name: str) -> str:
    try:
        return template.field(name).label
    except KeyError:
        return name


def _yen(number: int | None) -> str:
    return "（空欄）" if number is None else f"{number:,}"


def _formula(node, template: Template, numbers: Mapping[str, int | None]) -> str:
    if isinstance(node, Number):
        return f"{node.value:,}"
    if isinstance(node, Name):
        if node.name in template.parameters:
            return f"{node.name}（{template.parameters[node.name]}）"
        return f"{_label(template, node.name)}［{_yen(numbers.get(node.name))}］"
    if isinstance(node, Call):
        arguments = "、".join(_formula(argument, template, numbers) for argument in node.arguments)
        return f"{FUNCTION_WORDS.get(node.function, node.function)}（{arguments}）"
    if isinstance(node, Sum):
        parts = []
        for index, (sign, term) in enumerate(node.terms):
            text = _formula(term, template, numbers)
            parts.append(("− " if sign < 0 else "") + text if index == 0 else ("− " if sign < 0 else "＋ ") + text)
        return " ".join(parts)
    return str(node)


def _explain_rule(message: str, parsed: ParsedRule, template: Template, values: Mapping[str, object],
                  confidences: Mapping[str, float], other_reasons: Mapping[str, list[str]],
                  blank_as_zero: list[str]) -> str:
    numbers: dict[str, int | None] = {name: rule_number(values.get(name)) for name in parsed.names()}
    for name in blank_as_zero:
        if values.get(name) in (None, ""):
            numbers[name] = 0

    def lookup(name: str) -> int | None:
        return numbers.get(name) if name in numbers else template.parameters.get(name)

    left_side = parsed.left if parsed.left is not None else Name(parsed.target)
    left = lookup(parsed.target) if parsed.left is None else evaluate(parsed.left, lookup)
    right = evaluate(parsed.expression, lookup)
    formula = (f"{_formula(left_side, template, numbers)} {RELATION_WORDS[parsed.relation]} "
               f"{_formula(parsed.expression, template, numbers)}")
    sides = f"左辺 {_yen(left)}／右辺 {_yen(right)}"
    suspect = likely_wrong(parsed, values, confidences, other_reasons)
    if suspect is None:
        blame = "どの項目の誤りかは決められません。関係する項目をすべて確かめてください。"
    else:
        name, why = suspect
        blame = f"誤りの可能性が高い項目：{_label(template, name)}（{why}）。"
    return f"{message}。式：{formula}（{sides}）。{blame}"


def likely_wrong(parsed: ParsedRule, values: Mapping[str, object], confidences: Mapping[str, float],
                 other_reasons: Mapping[str, list[str]]) -> tuple[str, str] | None:
    """The field of a failed rule most likely misread, with why: the only one held for another reason too, else
    the one the engine was least sure of (when it is clearly less sure than the rest)."""
    names = [name for name in parsed.names() if name in values and values.get(name) not in (None, "")]
    if len(names) == 1:
        return names[0], "式の中で値が読まれた唯一の項目"
    held = [name for name in names if any(base_code(r) != "cross_field" for r in other_reasons.get(name, []))]
    if len(held) == 1:
        return held[0], "ほかの理由でも要確認"
    scored = sorted((confidences.get(name, 1.0), name) for name in (held or names))
    if len(scored) >= 2 and scored[0][0] < scored[1][0]:
        return scored[0][1], f"読取の確信度が最も低い {scored[0][0]:.2f}"
    return None
