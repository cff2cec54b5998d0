"""One batch's report as tables (lists of rows with Japanese-first headings), ready for any output format."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ledger.as_written import AsWritten, confirmed_as_written
from ledger.privacy import mask_personal_numbers
from ledger.report_queries import BatchFacts, load_batch_facts, reason_category
from ledger.states import FormState, utc_now
from review.fields import reason_label
from reporting.hours import HOUR, HoursResult, batch_hours
from reporting.hours_config import HoursModelConfig

JST = ZoneInfo("Asia/Tokyo")
Row = dict[str, Any]

STATE_LABELS = {
    FormState.RECEIVED.value: "受付", FormState.READ.value: "読取済", FormState.NEEDS_REVIEW.value: "要確認",
    FormState.READY.value: "入力待ち", FormState.ENTERING.value: "入力中", FormState.ENTERED.value: "入力済",
    FormState.ENTRY_FAILED.value: "入力失敗", FormState.QUARANTINED.value: "隔離",
}
OUTCOME_LABELS = {
    FormState.ENTERED.value: "入力済 / entered", FormState.ENTRY_FAILED.value: "入力失敗 / failed",
    FormState.NEEDS_REVIEW.value: "差し戻し / back to review", FormState.READY.value: "再試行待ち / claim released",
}
STAGE_LABELS = {"archive": "保管 / archive", "intake": "取込・読取 / intake and reading",
                "review": "確認 / review", "enter": "入力 / robot entry"}


def _jst(moment: datetime | None) -> str:
    return moment.astimezone(JST).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def _hours(seconds: float) -> float:
    return round(seconds / HOUR, 2)


@dataclass
class BatchReport:
    facts: BatchFacts
    hours: HoursResult
    config: HoursModelConfig
    generated_at: datetime
    as_written: list[AsWritten] = field(default_factory=list)

    @property
    def batch_id(self) -> int:
        return self.facts.batch_id

    # ---- tables --------------------------------------------------------------------------------------------------

    def summary_rows(self) -> list[Row]:
        s, review, totals = self.facts.summary, self.facts.review, self.hours.totals
        entries = Counter(event.outcome for event in self.facts.entry_events)
        rows = [
            ("バッチ / batch", self.batch_id, ""),
            ("ラベル / label", self.facts.label, ""),
            ("開始 / started (JST)", _jst(self.facts.created_at), ""),
            ("取込完了 / intake finished (JST)", _jst(self.facts.finished_at), ""),
            ("帳票 / forms", s.forms_total, "枚 pages"),
            ("項目 / fields", s.fields_total, "項目"),
            ("読取項目 / fields read (not blank)", s.fields_total - s.fields_empty, "項目"),
            ("自動確定 / accepted", s.fields_accepted, "項目"),
            ("要確認 / flagged", s.fields_review, "項目"),
            ("自動確定率 / straight-through rate", round(s.straight_through * 100, 1), "%"),
            ("確認済み項目 / fields reviewed", review.fields_reviewed, "項目"),
            ("訂正 / corrected", s.fields_corrected, "項目"),
            ("確認時間（実測）/ review seconds measured", round(review.seconds, 1), "秒 s"),
            ("確認者 / reviewers", review.reviewers, "人"),
            ("確認待ちの見込み / review still to do (estimated)", round(totals["pending_review_seconds"], 1), "秒 s"),
            ("ロボット入力 成功 / robot entries", entries[FormState.ENTERED.value], "件"),
            ("ロボット入力 失敗 / robot failures", entries[FormState.ENTRY_FAILED.value], "件"),
            ("差し戻し / sent back to review", entries[FormState.NEEDS_REVIEW.value], "件"),
            ("隔離 / quarantined", s.forms_by_state.get(FormState.QUARANTINED.value, 0), "枚"),
            ("手入力の推計 / baseline manual keying", _hours(totals["baseline_seconds"]), "時間 h"),
            ("人の作業（確認＋確認待ち＋例外）/ person time (review + still to review + exceptions)",
             _hours(totals["review_seconds"] + totals["pending_review_seconds"] + totals["exception_seconds"]),
             "時間 h"),
            ("削減時間 / hours saved", _hours(totals["saved_seconds"]), "時間 h"),
            ("うち入力済み分 / of which entered", _hours(totals["entered_saved_seconds"]), "時間 h"),
            ("年間見込み / projected per year", round(self.hours.projected_hours_per_year, 0), "時間/年 h/yr"),
        ]
        return [{"項目 / item": item, "値 / value": value, "単位 / unit": unit} for item, value, unit in rows]

    def forms_by_kind_and_state(self) -> list[Row]:
        counts: Counter[tuple[str | None, str]] = Counter((f.form_id, f.state) for f in self.facts.forms)
        configured = list(self.config.forms)
        kinds = sorted({form_id for form_id, _ in counts}, key=lambda k: (
            k is None, configured.index(k) if k in configured else len(configured), k or ""))
        states = [s.value for s in FormState if any(state == s.value for _, state in counts)]
        rows = []
        for kind in kinds:
            row: Row = {"様式 / form": self.config.form_label(kind)}
            row["版 / version"] = "、".join(sorted({f.template_version for f in self.facts.forms
                                                   if f.form_id == kind and f.template_version}))
            for state in states:
                row[f"{STATE_LABELS[state]} {state}"] = counts[(kind, state)]
            row["計 / total"] = sum(counts[(kind, state)] for state in states)
            rows.append(row)
        return rows

    def forms_through_rows(self) -> list[Row]:
        """How many forms went through without a person (no field flagged), beside the field figure, and which kinds
        of field (and reasons) hold the others back most: the fields to work on to get whole forms through."""
        read = [f for f in self.facts.forms if f.form_id is not None]
        through = sum(1 for f in read if f.flagged_fields == 0)
        s = self.facts.summary
        rows: list[Row] = [
            {"項目 / item": "帳票の一括通過率 / forms straight through (no field flagged)",
             "値 / value": round(100 * through / len(read), 1) if read else 0.0, "単位 / unit": f"% ({through}/{len(read)})"},
            {"項目 / item": "項目の自動確定率 / fields straight through",
             "値 / value": round(s.straight_through * 100, 1), "単位 / unit": "%"},
        ]
        by_kind: Counter[str] = Counter()
        by_reason: Counter[str] = Counter()
        for form in read:
            by_kind.update({_field_kind(form.form_id, name) for name in form.flagged_names})
            by_reason.update(set(form.flagged_reasons))
        for kind, count in by_kind.most_common(8):
            rows.append({"項目 / item": f"止めた項目の種類 / held back by field kind: {kind}", "値 / value": count,
                         "単位 / unit": "枚 forms"})
        for reason, count in by_reason.most_common(8):
            label = mask_personal_numbers(reason_label(reason)) or reason
            rows.append({"項目 / item": f"止めた理由 / held back by reason: {label}", "値 / value": count,
                         "単位 / unit": "枚 forms"})
        return rows

    def entry_outcome_rows(self) -> list[Row]:
        grouped: Counter[tuple[str, str]] = Counter(
            (event.outcome, reason_category(event.reason) if event.reason else "")
            for event in self.facts.entry_events)
        rows = [{"結果 / outcome": OUTCOME_LABELS.get(outcome, outcome), "理由 / reason": reason,
                 "件数 / count": count}
                for (outcome, reason), count in sorted(grouped.items(), key=lambda kv: (kv[0][0], -kv[1]))]
        set_aside = Counter(reason_category(reason) if reason else ""
                            for reason in self.facts.summary.quarantine_reasons.values())
        rows += [{"結果 / outcome": "隔離 / quarantined", "理由 / reason": reason, "件数 / count": count}
                 for reason, count in set_aside.most_common()]
        return rows

    def stage_rows(self) -> list[Row]:
        rows = []
        for span in self.facts.stages:
            wall = span.wall_seconds
            rows.append({
                "工程 / stage": STAGE_LABELS.get(span.stage, span.stage),
                "開始 / start (JST)": _jst(span.started_at),
                "終了 / end (JST)": _jst(span.ended_at),
                "経過秒 / wall s": round(wall, 1),
                "件数 / items": span.items if span.items is not None else "",
                "件/秒 / per s": round(span.items / wall, 2) if span.items and wall > 0 else "",
                "作業秒 / busy s": round(span.busy_seconds, 1) if span.busy_seconds is not None else "",
                "出所 / from": span.source,
            })
        return rows

    def hours_by_kind_rows(self) -> list[Row]:
        return [{
            "様式 / form": kind.label,
            "帳票 / forms": kind.forms,
            "入力済 / entered": kind.entered,
            "手入力推計 秒/枚 / baseline s per form": round(kind.baseline_per_form, 1),
            "確認 秒 / review s": round(kind.review_seconds, 1),
            "確認待ち 秒 / to review s": round(kind.pending_review_seconds, 1),
            "例外対応 秒 / exceptions s": round(kind.exception_seconds, 1),
            "削減 秒/枚 / saved s per form": round(kind.saved_per_form, 1),
            "削減 時間 / saved h": _hours(kind.saved_seconds),
        } for kind in self.hours.by_kind]

    def projection_rows(self) -> list[Row]:
        rows = [{
            "様式 / form": p.label,
            "年間件数 / yearly volume": p.yearly_volume if p.yearly_volume is not None else "未設定 not set",
            "削減 秒/枚 / saved s per form": round(p.saved_per_form, 1) if p.saved_per_form is not None
            else "このバッチに無し / none in batch",
            "年間削減 時間 / hours per year": round(p.hours_per_year, 0) if p.hours_per_year is not None else "",
            "幅 時間 / range h": _range_text(p.hours_per_year_range),
        } for p in self.hours.projections]
        rows.append({"様式 / form": "合計 / total", "年間件数 / yearly volume": "",
                     "削減 秒/枚 / saved s per form": "",
                     "年間削減 時間 / hours per year": round(self.hours.projected_hours_per_year, 0),
                     "幅 時間 / range h": _range_text(self.hours.projected_hours_per_year_range)})
        chiba = self.config.chiba
        label = self.config.form_label(chiba.form_id)
        for name, hours, per_form in (
                ("千葉市 実績 / Chiba achieved", chiba.achieved_hours_per_year, self.hours.chiba_per_form_achieved),
                ("千葉市 可能性 / Chiba possible", chiba.possible_hours_per_year, self.hours.chiba_per_form_possible)):
            rows.append({"様式 / form": f"{name}（{label}）", "年間件数 / yearly volume": chiba.yearly_volume,
                         "削減 秒/枚 / saved s per form": round(per_form, 1),
                         "年間削減 時間 / hours per year": hours})
        return rows

    def backtest_rows(self) -> list[Row]:
        """The model under the pilot's way of working (every field checked) beside what Chiba measured."""
        bt = self.hours.backtest
        if bt is None:
            label = self.config.form_label(self.config.chiba.form_id)
            return [{"項目 / item": "後方検証 / back-test", "単位 / unit": "",
                     "値 / value": f"このバッチに{label}がありません / none of the pilot's kind in this batch"}]
        check_source = "このバッチの実測 / measured" if bt.check_seconds_measured else "既定値 / the model's default"
        return [{"項目 / item": item, "値 / value": value, "単位 / unit": unit} for item, value, unit in (
            ("対象 / forms", f"{bt.label} {bt.forms}", "枚 forms"),
            ("入力項目 / keyed fields", round(bt.fields_per_form, 1), "項目/枚 per form"),
            ("手入力推計 / baseline", round(bt.baseline_per_form, 1), "秒/枚 s per form"),
            (f"全項目の目視確認 / every field checked ({check_source})", round(bt.check_seconds_per_field, 1),
             "秒/項目 s per field"),
            ("実証の条件でのモデル / model under the pilot's conditions", round(bt.saved_per_form, 1), "秒/枚 s per form"),
            ("千葉市の実測 / Chiba measured", round(bt.chiba_per_form, 1), "秒/枚 s per form"),
            ("差 / gap", f"{bt.gap_seconds:+.1f} ({bt.relative_gap:+.0%})", "秒/枚 s per form"),
            ("一致する確認秒数 / check seconds that would agree", round(bt.break_even_check_seconds, 1),
             "秒/項目 s per field"),
            ("基準の補正比 / baseline ratio used for the range", round(bt.baseline_ratio, 3), "倍 ×"),
        )]

    def backtest_sentence(self) -> str:
        """The back-test in words a 課長 reads, with this batch's own figure beside it."""
        bt = self.hours.backtest
        chiba_label = self.config.form_label(self.config.chiba.form_id)
        if bt is None:
            return (f"  後方検証 / back-test: このバッチに{chiba_label}が無いため、千葉市実証との比較はできません "
                    f"/ no {chiba_label} in this batch to compare with Chiba's pilot")
        batch_saved = next(kind.saved_per_form for kind in self.hours.by_kind if kind.form_id == bt.form_id)
        return (f"  後方検証 / back-test: 実証と同じく全項目を目視確認する運用では、このモデルは{chiba_label} 1 枚あたり "
                f"{bt.saved_per_form:.0f} 秒の削減です（千葉市の実測 {bt.chiba_per_form:.0f} 秒、差 {bt.relative_gap:+.0%}）。"
                f"このバッチの自動確定率では {batch_saved:.0f} 秒です。 / Under the pilot's way of working (every field checked, "
                f"{bt.check_seconds_per_field:.1f} s each) this model gives {bt.saved_per_form:.0f} s a form (Chiba "
                f"measured {bt.chiba_per_form:.0f} s); with this batch's straight-through it gives {batch_saved:.0f} s.")

    def assumption_rows(self) -> list[Row]:
        c = self.config
        k, ime, ex = c.keystroke, c.keystroke.ime, c.exceptions
        values: list[tuple[str, str, Any, str]] = [
            ("keystroke.key_seconds", "キー1打 K / one keystroke", k.key_seconds, "秒 s"),
            ("keystroke.mental_seconds", "心的準備 M / mental preparation", k.mental_seconds, "秒/項目 s per field"),
            ("keystroke.navigation_keys_per_field", "項目移動 / navigation", k.navigation_keys_per_field,
             "打/項目 keys per field"),
            ("keystroke.per_form_overhead_seconds", "帳票ごとの付帯作業 / per-form overhead",
             k.per_form_overhead_seconds, "秒/枚 s per form"),
            ("keystroke.verification_share", "内容確認 / verification pass", k.verification_share, "割合 share"),
            ("keystroke.ime.romaji_keys_per_kana", "ローマ字入力 / romaji keys per kana", ime.romaji_keys_per_kana,
             "打/かな keys"),
            ("keystroke.ime.keys_per_converted_segment", "変換・確定 / convert and confirm",
             ime.keys_per_converted_segment, "打/文節 keys per segment"),
            ("keystroke.ime.kana_field_conversion_keys", "カナ変換・幅切替 / kana width toggle",
             ime.kana_field_conversion_keys, "打/項目 keys per field"),
            ("keystroke.ime.name_choice_keys", "氏名の候補選択 / name candidate choice", ime.name_choice_keys,
             "打/文節 keys per segment"),
            ("keystroke.ime.name_choice_mental", "候補の見極め / choosing the kanji", ime.name_choice_mental,
             "M/文節 per segment"),
            ("exceptions.entry_failure_seconds", "入力失敗の対応 / handling an entry failure",
             ex.entry_failure_seconds, "秒/件 s each"),
            ("exceptions.quarantine_seconds", "隔離ページの対応 / handling a set-aside page", ex.quarantine_seconds,
             "秒/件 s each"),
            ("exceptions.pending_review_seconds_per_field", "確認待ち項目の見込み / a flagged field still to review",
             ex.pending_review_seconds_per_field, "秒/項目 s per field"),
        ]
        for form_id, settings in c.forms.items():
            values.append((f"forms.{form_id}.yearly_volume", f"年間件数 {settings.label} / yearly volume",
                           settings.yearly_volume if settings.yearly_volume is not None else "未設定 not set",
                           "件/年 per year"))
        values.append(("chiba.achieved_hours_per_year", "千葉市 実績 / Chiba achieved", c.chiba.achieved_hours_per_year,
                       "時間/年 h/yr"))
        values.append(("chiba.possible_hours_per_year", "千葉市 可能性 / Chiba possible",
                       c.chiba.possible_hours_per_year, "時間/年 h/yr"))
        rows = [{"前提 / assumption": label, "値 / value": value, "単位 / unit": unit,
                 "出典 / source": c.sources.get(key, ""), "設定名 / setting": key}
                for key, label, value, unit in values]
        for form_id, names in c.not_keyed_fields.items():
            rows.append({"前提 / assumption": f"入力しない項目 {c.form_label(form_id)} / not keyed",
                         "値 / value": ", ".join(names), "単位 / unit": "", "出典 / source": "",
                         "設定名 / setting": f"not_keyed_fields.{form_id}"})
        per_field = self.hours.review_seconds_per_field
        rows.append({"前提 / assumption": "確認待ちに使った秒/項目 / used for fields still to review",
                     "値 / value": round(per_field, 1), "単位 / unit": "秒/項目 s per field",
                     "出典 / source": "このバッチの実測平均 / this batch's measured mean"
                     if self.hours.review_seconds_per_field_measured else "既定値（実測なし）/ the default (none measured)",
                     "設定名 / setting": ""})
        rows.append({"前提 / assumption": "設定ファイル / configuration", "値 / value": c.source, "単位 / unit": "",
                     "出典 / source": "", "設定名 / setting": ""})
        return rows

    def per_form_rows(self) -> list[Row]:
        return [{
            "帳票番号 / form": h.form_pk,
            "様式 / kind": self.config.form_label(h.form_id),
            "状態 / state": f"{STATE_LABELS.get(h.state, h.state)} {h.state}",
            "入力項目 / fields keyed": h.fields_keyed,
            "打鍵 / keys": round(h.keys, 1),
            "手入力推計 秒 / baseline s": round(h.baseline_seconds, 1),
            "確認 秒 / review s": round(h.review_seconds, 1),
            "確認待ち 秒 / to review s": round(h.pending_review_seconds, 1),
            "例外 秒 / exception s": round(h.exception_seconds, 1),
            "削減 秒 / saved s": round(h.saved_seconds, 1),
        } for h in self.hours.forms]

    def trust_rows(self) -> list[Row]:
        """Per kind, the error among accepted fields estimated from the blind audit samples, with its Wilson 95%
        interval beside the target: this batch, and the last 30 days."""
        rows = []
        for scope, trusts in ((f"バッチ {self.batch_id} / this batch", self.facts.trust),
                              ("直近30日 / last 30 days", self.facts.trust_rolling)):
            for t in trusts:
                rows.append({
                    "範囲 / scope": scope,
                    "種類 / kind": t.kind,
                    "監査数 / audited": t.settled,
                    "不一致 / wrong": t.disagreed,
                    "未確認 / pending": t.pending,
                    "推定誤り率 / estimated error %": _pct(t.estimate),
                    "95%区間 / Wilson 95% %": f"{_pct(t.low)} – {_pct(t.high)}" if t.low is not None else "",
                    "目標 / target %": _pct(t.target),
                    "判定 / verdict": _verdict(t),
                })
        return rows

    def trust_warnings(self) -> list[str]:
        """One line per kind whose interval lies above its target (this batch, then the 30 days)."""
        lines = []
        for scope, trusts in ((f"バッチ {self.batch_id}", self.facts.trust), ("直近30日", self.facts.trust_rolling)):
            for t in trusts:
                if t.warning:
                    lines.append(
                        f"  ⚠ 警告 / WARNING ({scope}): {t.kind} の自動確定項目の誤り率 {_pct(t.estimate)}% "
                        f"(95% {_pct(t.low)}–{_pct(t.high)}%, {t.disagreed}/{t.settled}) が目標 {_pct(t.target)}% を"
                        f"超えています / accepted {t.kind} fields are wrong more often than the target: re-fit with "
                        f"`taxintake calibrate`")
        return lines

    def as_written_rows(self) -> list[Row]:
        """Values a supervisor accepted although they fail a check (記載どおり確定): who, when and why; never the
        value itself."""
        return [{
            "帳票番号 / form": a.form_pk,
            "項目 / field": a.field_name,
            "確定者 / by": a.by,
            "日時 / at": _jst(a.at),
            "理由 / reason": a.reason,
            "満たさない検査 / failed checks": "、".join(a.problems),
        } for a in self.as_written]

    def sections(self) -> list[tuple[str, list[Row]]]:
        """(sheet title, rows) in reading order; titles are short enough for an Excel sheet name."""
        return [
            ("概要 summary", self.summary_rows()),
            ("様式と状態 forms", self.forms_by_kind_and_state()),
            ("一括通過 through", self.forms_through_rows()),
            ("ロボット入力 entries", self.entry_outcome_rows()),
            ("工程時間 stages", self.stage_rows()),
            ("削減時間 hours", self.hours_by_kind_rows()),
            ("年間見込み year", self.projection_rows()),
            ("後方検証 back-test", self.backtest_rows()),
            ("信頼度 trust", self.trust_rows()),
            ("前提 assumptions", self.assumption_rows()),
            ("帳票別 per form", self.per_form_rows()),
            ("記載どおり確定 as written", self.as_written_rows()),
        ]

    def headline(self) -> list[str]:
        """A few lines for a terminal: the hours saved with the assumptions they rest on."""
        t, k = self.hours.totals, self.config.keystroke
        chiba = self.config.chiba
        lines = [
            f"== バッチ {self.batch_id} の削減時間 / hours saved by batch {self.batch_id}",
            f"  手入力の推計 by hand {_hours(t['baseline_seconds'])} h − (確認 review {_hours(t['review_seconds'])} h "
            f"+ 確認待ち見込み still to review {_hours(t['pending_review_seconds'])} h "
            f"+ 例外対応 exceptions {_hours(t['exception_seconds'])} h) = 削減 saved {_hours(t['saved_seconds'])} h "
            f"(うち入力済み分 of which entered {_hours(t['entered_saved_seconds'])} h)",
            f"  前提 / assumptions: K={k.key_seconds}s/打, M={k.mental_seconds}s/項目, "
            f"項目移動 {k.navigation_keys_per_field}打, 付帯作業 {k.per_form_overhead_seconds}s/枚, "
            f"内容確認 {k.verification_share:.0%}, かな {k.ime.romaji_keys_per_kana}打, "
            f"入力失敗 {self.config.exceptions.entry_failure_seconds}s/件, "
            f"隔離 {self.config.exceptions.quarantine_seconds}s/件, 確認待ち {self.hours.review_seconds_per_field:.1f}s/項目"
            f"{'（実測平均）' if self.hours.review_seconds_per_field_measured else '（既定値）'} ({self.config.source})",
        ]
        for p in self.hours.projections:
            if p.hours_per_year is not None:
                lines.append(f"  年間見込み / per year: {p.label} {p.yearly_volume:,} 件 × {p.saved_per_form:.1f} s "
                             f"= {p.hours_per_year:,.0f} h（幅 range {_range_text(p.hours_per_year_range)} h）")
            elif p.saved_per_form is None:
                lines.append(f"  年間見込み / per year: {p.label}: このバッチに無し / none in this batch")
            else:
                lines.append(f"  年間見込み / per year: {p.label}: 年間件数未設定 / yearly volume not set "
                             f"({p.saved_per_form:.1f} s/枚)")
        lines.append(self.backtest_sentence())
        lines.append(f"  年間見込み 合計 / projected total: {self.hours.projected_hours_per_year:,.0f} h/年 "
                     f"（後方検証の誤差による幅 range from the back-test: "
                     f"{_range_text(self.hours.projected_hours_per_year_range)} h/年）— "
                     f"千葉市 {self.config.form_label(chiba.form_id)}: 実績 {chiba.achieved_hours_per_year:,.0f} h/年 "
                     f"({self.hours.chiba_per_form_achieved:.0f} s/枚), 可能性 {chiba.possible_hours_per_year:,.0f} "
                     f"h/年 ({self.hours.chiba_per_form_possible:.0f} s/枚)")
        lines += self.trust_warnings()
        return [mask_personal_numbers(line) or "" for line in lines]


def _field_kind(form_id: str | None, name: str) -> str:
    """A field's kind as the template says (amount, date_wareki, text:address…), or its name when unknown."""
    from ocr.templates import TemplateError, load_template

    try:
        spec = load_template(form_id).field(name) if form_id else None
    except (TemplateError, KeyError, LookupError, ValueError, FileNotFoundError):
        spec = None
    if spec is None:
        return name
    return f"{spec.kind}:{spec.content}" if spec.content else spec.kind


def _range_text(hours_range: tuple[float, float] | None) -> str:
    if hours_range is None:
        return "算出不可（後方検証なし）/ none (no back-test)"
    return f"{hours_range[0]:,.0f} – {hours_range[1]:,.0f}"


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.2f}"


def _verdict(trust) -> str:
    if trust.settled == 0:
        return "未確認 / none settled yet"
    if trust.warning:
        return "⚠ 目標超過 / above target (95%)"
    if trust.high is not None and trust.high <= trust.target:
        return "目標内 / within target (95%)"
    return "判断に足りず / not enough samples to tell"


def build_report(session: Session, batch_id: int, config: HoursModelConfig) -> BatchReport:
    facts = load_batch_facts(session, batch_id)
    hours = batch_hours(facts.forms, config)
    for form in facts.forms:  # the values served the keystroke model; nothing downstream may print them
        form.values.clear()
    return BatchReport(facts=facts, hours=hours, config=config, generated_at=utc_now(),
                       as_written=confirmed_as_written(session, batch_id))
