"""The robot against legacy_sim end to end (real Debian chromium, a real uvicorn on a free port, a real SQLite
file), and the robot's screen map and value conversion on their own."""
from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from legacy_sim.faults import parse_fault_spec
from legacy_sim.server import RunningSim, running_sim
from legacy_sim.settings import SimSettings
from robots.entry import EntryRequest, enter_forms
from robots.legacy_values import prepare_form
from robots.masking import mask, scrub
from robots.retry import RetryPolicy
from robots.screen_map import DEFAULT_SCREEN_MAP, ScreenMapError, load_screen_map

browser = pytest.mark.browser

CREDENTIALS = ("robot01", "robot01-pass")

GOTO = {
    "shitei_bango": "00012345", "shiharaisha_hojin_bango": "7000012050002",
    "shiharaisha_name": "株式会社千葉精機", "shiharaisha_shozaichi": "千葉県千葉市中央区中央4丁目5番1号",
    "shotokusha_kana": "ゴトウ ジュンペイ", "shotokusha_name": "後藤 純平", "seinengappi_era": "昭和",
    "seinengappi": "1985-04-12", "my_number": "123456789018", "jusho": "千葉県千葉市稲毛区小仲台2丁目3番12号",
    "nenzeigaku": "186000", "choshuzumi_gaku": "46500", "michoshu_gaku": "139500", "ido_nengappi": "2025-08-31",
    "ido_jiyu": "退職", "choshu_hoho": "普通徴収",
}
TAKAHASHI = {
    "shitei_bango": "00012345", "shiharaisha_hojin_bango": "7000012050002",
    "shiharaisha_name": "株式会社千葉精機", "shiharaisha_shozaichi": None,
    "shotokusha_kana": "タカハシ ユウコ", "shotokusha_name": "髙橋 優子", "seinengappi_era": "平成",
    "seinengappi": "1992-11-03", "my_number": "987654321093",
    "jusho": "千葉県市原市五井中央西1丁目1番25号 サンハイツ201", "nenzeigaku": "98400", "choshuzumi_gaku": "32800",
    "michoshu_gaku": "65600", "ido_nengappi": "2025-09-15", "ido_jiyu": "転勤", "choshu_hoho": "特別徴収継続",
}
# What legacy_sim must hold for each: its own column names and formats (半角カナ, 元号コード+YYMMDD, codes).
GOTO_ROW = {
    "shitei_no": "00012345", "hojin_no": "7000012050002", "jigyosho_mei": "株式会社千葉精機",
    "jigyosho_shozai": "千葉県千葉市中央区中央4丁目5番1号", "kana_shimei": "ｺﾞﾄｳ ｼﾞｭﾝﾍﾟｲ", "shimei": "後藤 純平",
    "sei_ymd": "3600412", "kojin_no": "123456789018", "jusho": "千葉県千葉市稲毛区小仲台2丁目3番12号",
    "nenzei": 186000, "choshuzumi": 46500, "michoshu": 139500, "ido_ymd": "5070831", "ido_jiyu": "1",
    "choshu_hoho": "3",
}
TAKAHASHI_ROW = {
    "shitei_no": "00012345", "hojin_no": "7000012050002", "jigyosho_mei": "株式会社千葉精機",
    "jigyosho_shozai": "", "kana_shimei": "ﾀｶﾊｼ ﾕｳｺ", "shimei": "髙橋 優子", "sei_ymd": "4041103",
    "kojin_no": "987654321093", "jusho": "千葉県市原市五井中央西1丁目1番25号 サンハイツ201",
    "nenzei": 98400, "choshuzumi": 32800, "michoshu": 65600, "ido_ymd": "5070915", "ido_jiyu": "2",
    "choshu_hoho": "1",
}


def requests_for(*forms: tuple[str, dict]) -> list[EntryRequest]:
    return [EntryRequest(form_ref=ref, form_id="ido_todoke", values=dict(values), idempotency_key=f"key-{ref}")
            for ref, values in forms]


def stored_rows(db_path: Path) -> list[dict]:
    with sqlite3.connect(db_path) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute("SELECT * FROM ido_todoke ORDER BY id").fetchall()
    return [dict(row) for row in rows]


def without_bookkeeping(row: dict) -> dict:
    return {k: v for k, v in row.items()
            if k not in ("id", "uketsuke_no", "forced_duplicate", "registered_by", "registered_at")}


@pytest.fixture
def legacy(tmp_path: Path) -> Iterator[RunningSim]:
    with running_sim(tmp_path / "legacy.sqlite3", SimSettings()) as sim:
        yield sim


@browser
def test_two_forms_are_entered_read_back_and_not_entered_twice(legacy: RunningSim, tmp_path: Path,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="taxintake.robots")
    evidence = tmp_path / "evidence"
    outcomes = enter_forms(requests_for(("101", GOTO), ("102", TAKAHASHI)), base_url=legacy.base_url,
                           credentials=CREDENTIALS, evidence_dir=evidence)

    assert [(o.form_ref, o.status, o.readback_ok, o.reason) for o in outcomes] == [
        ("101", "entered", True, None), ("102", "entered", True, None)]
    rows = stored_rows(legacy.db_path)
    assert [without_bookkeeping(row) for row in rows] == [GOTO_ROW, TAKAHASHI_ROW]
    assert [o.receipt_no for o in outcomes] == [row["uketsuke_no"] for row in rows]
    assert {p.name for p in evidence.iterdir()} == {"101_receipt.png", "102_receipt.png"}

    again = enter_forms(requests_for(("101", GOTO), ("102", TAKAHASHI)), base_url=legacy.base_url,
                        credentials=CREDENTIALS)
    assert [(o.status, o.receipt_no) for o in again] == [("already_entered", o.receipt_no) for o in outcomes]
    assert len(stored_rows(legacy.db_path)) == 2

    for secret in (GOTO["my_number"], TAKAHASHI["my_number"], CREDENTIALS[1]):
        assert secret not in caplog.text
    assert "my_number" in caplog.text  # field names are logged, values are not


@browser
def test_503s_at_a_steady_rate_are_survived_by_retrying(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="taxintake.robots")
    # The sim draws each request's faults from an RNG of its own per (seed, method, path): this seed replays
    # the same seven 503s (some on pages, some on posts) and one slow answer every run.
    settings = SimSettings(faults=parse_fault_spec("503=0.15,slow=0.05:0.5"), seed=3)
    with running_sim(tmp_path / "legacy.sqlite3", settings) as sim:
        outcomes = enter_forms(requests_for(("201", GOTO), ("202", TAKAHASHI)), base_url=sim.base_url,
                               credentials=CREDENTIALS)
        injected = sim.fault_counts
    assert [o.status for o in outcomes] == ["entered", "entered"], [o.reason for o in outcomes]
    assert injected.get("503", 0) >= 3
    assert "HTTP 503 (try 1 of 3)" in caplog.text  # a step tried again, not just lucky
    assert [without_bookkeeping(row) for row in stored_rows(tmp_path / "legacy.sqlite3")] == [GOTO_ROW, TAKAHASHI_ROW]


@browser
def test_lasting_outage_fails_each_form_with_evidence(tmp_path: Path) -> None:
    settings = SimSettings(faults=parse_fault_spec("503=1"))
    evidence = tmp_path / "evidence"
    with running_sim(tmp_path / "legacy.sqlite3", settings) as sim:
        outcomes = enter_forms(requests_for(("301", GOTO), ("302", TAKAHASHI)), base_url=sim.base_url,
                               credentials=CREDENTIALS, evidence_dir=evidence,
                               retry=RetryPolicy(tries=3, backoff_seconds=(0.1,)))
    assert [o.status for o in outcomes] == ["failed", "failed"]
    assert all("503" in (o.reason or "") for o in outcomes)
    names = {p.name for p in evidence.iterdir()}
    assert {"301_failed.png", "302_failed.png", "301_failed_top.html"} <= names
    assert stored_rows(tmp_path / "legacy.sqlite3") == []


class _EndSessionsWhenFormStarts(logging.Handler):
    """Ends every legacy session in the sim's own table when the robot starts a given form: the system's forced
    logout (time-out, another login, a restart) landing between two forms, at a known moment."""

    def __init__(self, db_path: Path, form_ref: str) -> None:
        super().__init__()
        self.db_path, self.marker = db_path, f"form {form_ref} ("

    def emit(self, record: logging.LogRecord) -> None:
        if self.marker in record.getMessage():
            with sqlite3.connect(self.db_path) as conn:
                conn.execute("UPDATE sessions SET ended_at = 0 WHERE ended_at IS NULL")


@browser
def test_a_dropped_session_is_logged_in_again(legacy: RunningSim, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="taxintake.robots")
    robot_log = logging.getLogger("taxintake.robots")
    kicker = _EndSessionsWhenFormStarts(legacy.db_path, "402")
    robot_log.addHandler(kicker)
    try:
        outcomes = enter_forms(requests_for(("401", GOTO), ("402", TAKAHASHI)), base_url=legacy.base_url,
                               credentials=CREDENTIALS)
    finally:
        robot_log.removeHandler(kicker)
    assert [o.status for o in outcomes] == ["entered", "entered"], [o.reason for o in outcomes]
    assert len(stored_rows(legacy.db_path)) == 2
    assert caplog.text.count("logged in to legacy_sim") == 2


@browser
def test_values_the_system_would_mangle_go_to_people(legacy: RunningSim) -> None:
    gaiji = {**GOTO, "shotokusha_name": "𠮷田 純平"}  # 𠮷 has no Shift_JIS code
    too_long = {**TAKAHASHI, "jusho": "千葉県" + "あ" * 60}
    outcomes = enter_forms(requests_for(("501", gaiji), ("502", too_long)), base_url=legacy.base_url,
                           credentials=CREDENTIALS)
    assert [o.status for o in outcomes] == ["needs_people", "needs_people"]
    assert "shotokusha_name" in (outcomes[0].reason or "") and "外字" in (outcomes[0].reason or "")
    assert "jusho" in (outcomes[1].reason or "")
    assert stored_rows(legacy.db_path) == []


@browser
def test_system_duplicate_warning_is_not_forced(legacy: RunningSim) -> None:
    [first] = enter_forms(requests_for(("601", GOTO)), base_url=legacy.base_url, credentials=CREDENTIALS)
    assert first.status == "entered"
    # Same 指定番号 + 個人番号 + 異動年月日 under another カナ: the person search misses it, the system does not.
    other_kana = {**GOTO, "shotokusha_kana": "ゴドウ ジュンペイ"}
    [second] = enter_forms(requests_for(("602", other_kana)), base_url=legacy.base_url, credentials=CREDENTIALS)
    assert second.status == "needs_people" and "既に同一の異動届が登録されています" in (second.reason or "")
    assert len(stored_rows(legacy.db_path)) == 1


@browser
def test_read_back_catches_what_the_system_cut(legacy: RunningSim, tmp_path: Path) -> None:
    # A screen map that forgot the 30-character limit of 氏名: legacy_sim cuts silently, the read-back sees it.
    screen_map = yaml.safe_load(DEFAULT_SCREEN_MAP.read_text(encoding="utf-8"))
    screen_map["forms"]["ido_todoke"]["fields"]["shotokusha_name"]["max_length"] = 100
    careless = tmp_path / "careless.yaml"
    careless.write_text(yaml.safe_dump(screen_map, allow_unicode=True), encoding="utf-8")
    long_name = {**GOTO, "shotokusha_name": "後藤" + "純" * 35}
    evidence = tmp_path / "evidence"
    [outcome] = enter_forms(requests_for(("701", long_name)), base_url=legacy.base_url, credentials=CREDENTIALS,
                            screen_map=careless, evidence_dir=evidence)
    assert outcome.status == "failed" and not outcome.readback_ok and outcome.receipt_no
    assert outcome.reason is not None and "shotokusha_name" in outcome.reason
    assert "123456789018" not in outcome.reason
    assert (evidence / "701_readback.png").exists()
    work_html = (evidence / "701_readback_work.html").read_text(encoding="utf-8")
    assert "dspKojinNo" in work_html and "123456789018" not in work_html and "********9018" in work_html


@browser
def test_refused_login_fails_every_form_without_guessing_again(legacy: RunningSim) -> None:
    outcomes = enter_forms(requests_for(("801", GOTO), ("802", TAKAHASHI)), base_url=legacy.base_url,
                           credentials=("robot01", "wrong-password"))
    assert [o.status for o in outcomes] == ["failed", "failed"]
    assert all("ログインできません" in (o.reason or "") for o in outcomes)
    assert all("wrong-password" not in (o.reason or "") for o in outcomes)


# ---- without a browser ----

def test_values_are_converted_to_what_the_screens_take_and_show() -> None:
    screen_map = load_screen_map()
    prepared = prepare_form(screen_map.forms["ido_todoke"], screen_map, TAKAHASHI)
    assert prepared.problems == []
    assert prepared.secrets == [TAKAHASHI["my_number"]]
    shown = prepared.expected_readbacks()
    assert shown["shotokusha_kana"] == "ﾀｶﾊｼ ﾕｳｺ"
    assert shown["seinengappi"] == "平成04年11月03日"
    assert shown["nenzeigaku"] == "98,400"
    assert (shown["ido_jiyu"], shown["choshu_hoho"]) == ("2:転勤", "1:特別徴収継続")
    assert shown["shiharaisha_shozaichi"] == ""  # no value: nothing entered, nothing shown
    seinengappi = prepared.fields["seinengappi"]
    assert [seinengappi.render(step.value) for step in seinengappi.spec.inputs] == ["4", "04", "11", "03"]

    wrong_era = prepare_form(screen_map.forms["ido_todoke"], screen_map, {**TAKAHASHI, "seinengappi_era": "昭和"})
    assert wrong_era.problems == ["seinengappi_era: seinengappi の日付の元号と一致しません"]
    commas = prepare_form(screen_map.forms["ido_todoke"], screen_map, {**TAKAHASHI, "nenzeigaku": "98,400"})
    assert commas.problems == ["nenzeigaku: 半角数字ではありません"]


def test_screen_map_is_validated(tmp_path: Path) -> None:
    original = DEFAULT_SCREEN_MAP.read_text(encoding="utf-8")

    def broken(change) -> Path:
        data = yaml.safe_load(original)
        change(data)
        path = tmp_path / f"broken{len(list(tmp_path.iterdir()))}.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        return path

    def fields(data: dict) -> dict:
        return data["forms"]["ido_todoke"]["fields"]

    for change in (
        lambda data: fields(data)["nenzeigaku"]["readback"].update(expect="{era_name}"),
        lambda data: fields(data)["ido_jiyu"].pop("options"),
        lambda data: data["forms"]["ido_todoke"]["inquiry"]["by_person"]["fields"].append("jusho"),
        lambda data: data.update(charset="no-such-charset"),
        lambda data: data["login"].update(typo="#x"),
    ):
        with pytest.raises(ScreenMapError):
            load_screen_map(broken(change))


def test_robot_code_holds_no_selector_of_the_legacy_system() -> None:
    selectors = set(re.findall(r"#[A-Za-z]\w+|name=\w+", DEFAULT_SCREEN_MAP.read_text(encoding="utf-8")))
    assert len(selectors) > 20
    for source in DEFAULT_SCREEN_MAP.parent.parent.glob("*.py"):
        text = source.read_text(encoding="utf-8")
        assert not [selector for selector in selectors if selector in text], source.name


def test_masks_keep_only_the_last_four_characters() -> None:
    assert mask("123456789018") == "********9018"
    assert mask("ab") == "**"
    assert scrub("番号 123456789018 と pw robot01-pass", ["robot01-pass"]) == "番号 ********9018 と pw ********pass"
