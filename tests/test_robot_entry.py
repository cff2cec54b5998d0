"""The robot against legacy_sim end to end (real Debian chromium, a real uvicorn on a free port, a real SQLite
file), and the robot's screen map and value conversion on their own."""
from __future__ import annotations

import logging
import random
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import yaml
from faker import Faker

from legacy_sim.faults import parse_fault_spec
from legacy_sim.server import RunningSim, running_sim
from legacy_sim.settings import SimSettings
from robots.entry import EntryRequest, enter_forms
from robots.legacy_values import prepare_form
from robots.masking import mask, scrub
from robots.retry import RetryPolicy
from robots.screen_map import DEFAULT_SCREEN_MAP, ScreenMapError, load_screen_map
from samples.generators import GENERATORS
from samples.population import homonym_groups, population

browser = pytest.mark.browser

CREDENTIALS = ("robot01", "robot01-pass")
POP = population()
HOMONYMS = {p.atena_no for group in homonym_groups(POP) for p in group}
KNOWN = [p for p in POP.people if p.atena_no not in HOMONYMS]


def person_values(form_id: str, person) -> dict[str, str]:
    era = {"1": "明治", "2": "大正", "3": "昭和", "4": "平成", "5": "令和"}
    from legacy_sim.registers import encode_date

    era_name = era[encode_date(person.birth)[0]]
    if form_id == "ido_todoke":
        return {"shotokusha_kana": person.kana, "shotokusha_name": person.name, "seinengappi": person.birth.isoformat(),
                "seinengappi_era": era_name, "my_number": person.my_number, "jusho": person.address}
    return {"kana": person.kana, "shimei": person.name, "seinengappi": person.birth.isoformat(),
            "seinengappi_era": era_name, "my_number": person.my_number, "jusho": person.address}


def form_values(form_id: str, seed: int, person=None, corporation=None) -> dict:
    """A generated form's contents, with the person or corporation it names set to one the test chooses."""
    rng = random.Random(f"test:{form_id}:{seed}")
    faker = Faker("ja_JP")
    faker.seed_instance(seed)
    values = dict(GENERATORS[form_id](rng, faker).truth)
    if form_id == "hojin_shinkoku":
        corporation = corporation or POP.corporations[seed % len(POP.corporations)]
        values.update(hojin_bango=corporation.corporate_number, hojin_mei=corporation.name,
                      hojin_mei_kana=corporation.kana)
    else:
        values.update(person_values(form_id, person or KNOWN[seed]))
    return values


def request(ref: str, form_id: str, values: dict) -> EntryRequest:
    return EntryRequest(form_ref=ref, form_id=form_id, values=values, idempotency_key=f"key-{ref}")


GOTO = form_values("ido_todoke", 11)
TAKAHASHI = form_values("ido_todoke", 12)
TAKAHASHI_PAPER = {  # as read from a paper form, for the value conversion alone
    "shitei_bango": "00012345", "shiharaisha_hojin_bango": "7000012050002",
    "shiharaisha_name": "株式会社千葉精機", "shiharaisha_shozaichi": None,
    "shotokusha_kana": "タカハシ ユウコ", "shotokusha_name": "髙橋 優子", "seinengappi_era": "平成",
    "seinengappi": "1992-11-03", "my_number": "987654321093",
    "jusho": "千葉県市原市五井中央西1丁目1番25号 サンハイツ201", "nenzeigaku": "98400", "choshuzumi_gaku": "32800",
    "michoshu_gaku": "65600", "ido_nengappi": "2025-09-15", "ido_jiyu": "転勤", "choshu_hoho": "特別徴収継続",
}


def requests_for(*forms: tuple[str, dict]) -> list[EntryRequest]:
    return [request(ref, "ido_todoke", values) for ref, values in forms]


def stored_rows(db_path: Path, table: str = "ido_todoke") -> list[dict]:
    with sqlite3.connect(db_path) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
    return [dict(row) for row in rows]


@pytest.fixture(scope="module")
def legacy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSim]:
    """One legacy_sim for the module's fault-free tests; each test names people of its own."""
    with running_sim(tmp_path_factory.mktemp("legacy") / "legacy.sqlite3", SimSettings()) as sim:
        yield sim


def rows_for(db_path: Path, table: str, column: str, value: str) -> list[dict]:
    return [row for row in stored_rows(db_path, table) if row[column] == value]


@browser
def test_each_form_is_entered_and_read_back(legacy: RunningSim, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="taxintake.robots")
    ido, kyuyo, hojin = (form_values("ido_todoke", 1), form_values("kyuyo_hokoku", 2),
                         form_values("hojin_shinkoku", 3))
    outcomes = enter_forms([request("101", "ido_todoke", ido), request("102", "kyuyo_hokoku", kyuyo),
                            request("103", "hojin_shinkoku", hojin)], base_url=legacy.base_url,
                           credentials=CREDENTIALS)
    assert [(o.status, o.readback_ok) for o in outcomes] == [("entered", True)] * 3, [o.reason for o in outcomes]
    assert [o.receipt_no[0] for o in outcomes] == ["I", "K", "H"]
    [ido_row] = rows_for(legacy.db_path, "ido_todoke", "uketsuke_no", outcomes[0].receipt_no)
    assert (ido_row["atena_no"], ido_row["kojin_no"], ido_row["nenzei"], ido_row["kana_shimei"]) == (
        KNOWN[1].atena_no, ido["my_number"], int(ido["nenzeigaku"]),
        re.sub(r"\s+", " ", __import__("jaconv").z2h(ido["shotokusha_kana"], kana=True)))
    # The sheet's newer items reach their columns: 徴収済月, 月割額, and the block the 徴収方法 needs.
    assert (ido_row["choshuzumi_kara"], ido_row["choshuzumi_made"], ido_row["tsukiwari"], ido_row["teishutsu_ymd"]
            is not None) == (ido["choshuzumi_kara"], ido["choshuzumi_made"], int(ido["tsukiwari_gaku"]), True)
    block = {"特別徴収継続": ("shin_shitei_no", "shin_shitei_bango"), "一括徴収": ("ikkatsu_yotei", "ikkatsu_yotei_gaku"),
             "普通徴収": ("futsu_riyu", "futsu_riyu")}[ido["choshu_hoho"]]
    assert ido_row[block[0]] not in (None, ""), block
    [kyuyo_row] = rows_for(legacy.db_path, "kyuyo_hokoku", "uketsuke_no", outcomes[1].receipt_no)
    assert (kyuyo_row["atena_no"], kyuyo_row["shiharai_kingaku"], kyuyo_row["shiharaisha_bango"]) == (
        KNOWN[2].atena_no, int(kyuyo["shiharai_kingaku"]), kyuyo["shiharaisha_bango"])
    ticked = [name for name, value in kyuyo.items() if value is True]
    assert all(kyuyo_row[name] == 1 for name in ticked if name in kyuyo_row)
    [hojin_row] = rows_for(legacy.db_path, "hojin_shinkoku", "uketsuke_no", outcomes[2].receipt_no)
    assert (hojin_row["kanri_no"], hojin_row["hojin_no"], hojin_row["nofu_shichosonminzei"]) == (
        POP.corporations[3].kanri_no, hojin["hojin_bango"], int(hojin["nofu_shichosonminzei"]))
    # 均等割 per 区: the ward by its 区コード, its people and its amount.
    ku_codes = {"中央区": "101", "花見川区": "102", "稲毛区": "103", "若葉区": "104", "緑区": "105", "美浜区": "106"}
    assert (hojin_row["ku_1_mei"], hojin_row["ku_1_jugyoin"], hojin_row["ku_1_kintowari"]) == (
        ku_codes[hojin["ku_1_mei"]], hojin["ku_1_jugyoin"], int(hojin["ku_1_kintowari"]))
    # Every value typed is noted for the audit trail; 個人番号 only masked, in the notes and in the log.
    typed = {key["field"]: key["value"] for key in outcomes[1].keys}
    assert typed["my_number"] == mask(kyuyo["my_number"]) and typed["shiharai_kingaku"] == kyuyo["shiharai_kingaku"]
    for secret in (ido["my_number"], kyuyo["my_number"], CREDENTIALS[1]):
        assert secret not in caplog.text and secret not in str([o.keys for o in outcomes])

    again = enter_forms([request("111", "ido_todoke", ido)], base_url=legacy.base_url, credentials=CREDENTIALS)
    assert [(o.status, o.receipt_no) for o in again] == [("already_entered", outcomes[0].receipt_no)]
    assert len(rows_for(legacy.db_path, "ido_todoke", "atena_no", KNOWN[1].atena_no)) == 1


@browser
def test_homonyms_and_strangers_go_back_to_people(legacy: RunningSim) -> None:
    first, second = homonym_groups(POP)[0][:2]
    stranger = form_values("ido_todoke", 21)
    stranger.update(shotokusha_kana="ゾンザイ シナイ", shotokusha_name="存在志内")
    outcomes = enter_forms(requests_for(("201", form_values("ido_todoke", 20, person=first)), ("202", stranger)),
                           base_url=legacy.base_url, credentials=CREDENTIALS)
    assert [o.status for o in outcomes] == ["needs_people", "needs_people"]
    assert "宛名の候補が" in (outcomes[0].reason or "") and "同姓同名" in (outcomes[0].reason or "")
    assert "宛名が見つかりません" in (outcomes[1].reason or "")
    assert rows_for(legacy.db_path, "ido_todoke", "atena_no", first.atena_no) == []
    assert rows_for(legacy.db_path, "ido_todoke", "atena_no", second.atena_no) == []


@browser
def test_503s_at_a_steady_rate_are_survived_by_retrying(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="taxintake.robots")
    # The sim draws each request's faults from an RNG of its own per (seed, method, path): this seed replays
    # the same 503s (some on pages, some on posts) and slow answers every run.
    settings = SimSettings(faults=parse_fault_spec("503=0.15,slow=0.05:0.5"), seed=3)
    with running_sim(tmp_path / "legacy.sqlite3", settings) as sim:
        outcomes = enter_forms(requests_for(("301", GOTO), ("302", TAKAHASHI)), base_url=sim.base_url,
                               credentials=CREDENTIALS)
        injected = sim.fault_counts
    assert [o.status for o in outcomes] == ["entered", "entered"], [o.reason for o in outcomes]
    assert injected.get("503", 0) >= 3
    assert "HTTP 503 (try 1 of 5)" in caplog.text or "server busy, asking again" in caplog.text
    assert len(stored_rows(tmp_path / "legacy.sqlite3")) == 2


@browser
def test_lasting_outage_fails_each_form_with_evidence(tmp_path: Path) -> None:
    settings = SimSettings(faults=parse_fault_spec("503=1"))
    evidence = tmp_path / "evidence"
    with running_sim(tmp_path / "legacy.sqlite3", settings) as sim:
        outcomes = enter_forms(requests_for(("401", GOTO), ("402", TAKAHASHI)), base_url=sim.base_url,
                               credentials=CREDENTIALS, evidence_dir=evidence,
                               retry=RetryPolicy(tries=3, backoff_seconds=(0.1,)))
    assert [o.status for o in outcomes] == ["failed", "failed"]
    assert all("503" in (o.reason or "") for o in outcomes)
    names = {p.name for p in evidence.iterdir()}
    assert {"401_failed.png", "402_failed.png", "401_failed_top.html"} <= names
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
def test_an_expired_session_is_logged_in_again(legacy: RunningSim, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="taxintake.robots")
    robot_log = logging.getLogger("taxintake.robots")
    kicker = _EndSessionsWhenFormStarts(legacy.db_path, "502")
    robot_log.addHandler(kicker)
    try:
        outcomes = enter_forms(requests_for(("501", form_values("ido_todoke", 51)),
                                            ("502", form_values("ido_todoke", 52))),
                               base_url=legacy.base_url, credentials=CREDENTIALS)
    finally:
        robot_log.removeHandler(kicker)
    assert [o.status for o in outcomes] == ["entered", "entered"], [o.reason for o in outcomes]
    assert caplog.text.count("logged in to legacy_sim") == 2
    assert "ログイン画面に戻されました" in caplog.text


@browser
def test_values_the_system_would_mangle_go_to_people(legacy: RunningSim) -> None:
    gaiji = {**GOTO, "shotokusha_name": "𠮷田 純平"}  # 𠮷 has no Shift_JIS code
    too_long = {**TAKAHASHI, "jusho": "千葉県" + "あ" * 60}
    outcomes = enter_forms(requests_for(("601", gaiji), ("602", too_long)), base_url=legacy.base_url,
                           credentials=CREDENTIALS)
    assert [o.status for o in outcomes] == ["needs_people", "needs_people"]
    assert "shotokusha_name" in (outcomes[0].reason or "") and "外字" in (outcomes[0].reason or "")
    assert "jusho" in (outcomes[1].reason or "")


@browser
def test_an_existing_different_entry_is_not_overwritten_or_doubled(legacy: RunningSim) -> None:
    values = form_values("ido_todoke", 61)
    [first] = enter_forms(requests_for(("701", values)), base_url=legacy.base_url, credentials=CREDENTIALS)
    assert first.status == "entered"
    # The same person and 異動年月日 with another amount: found by the search, so never entered a second time.
    changed = {**values, "nenzeigaku": str(int(values["nenzeigaku"]) + 1200),
               "michoshu_gaku": str(int(values["michoshu_gaku"]) + 1200)}
    [second] = enter_forms(requests_for(("702", changed)), base_url=legacy.base_url, credentials=CREDENTIALS)
    assert second.status == "needs_people" and "nenzeigaku" in (second.reason or "")
    assert len(rows_for(legacy.db_path, "ido_todoke", "atena_no", KNOWN[61].atena_no)) == 1


@browser
def test_read_back_catches_what_the_system_cut(legacy: RunningSim, tmp_path: Path) -> None:
    # A screen map that forgot the 30-character limit of 氏名: legacy_sim cuts silently, the read-back sees it.
    screen_map = yaml.safe_load(DEFAULT_SCREEN_MAP.read_text(encoding="utf-8"))
    screen_map["forms"]["ido_todoke"]["fields"]["shotokusha_name"]["max_length"] = 100
    screen_map["forms"]["ido_todoke"]["lookups"][0]["confirm"] = {}
    careless = tmp_path / "careless.yaml"
    careless.write_text(yaml.safe_dump(screen_map, allow_unicode=True), encoding="utf-8")
    values = form_values("ido_todoke", 71)
    long_name = {**values, "shotokusha_name": "後藤" + "純" * 35}
    evidence = tmp_path / "evidence"
    [outcome] = enter_forms(requests_for(("801", long_name)), base_url=legacy.base_url, credentials=CREDENTIALS,
                            screen_map=careless, evidence_dir=evidence)
    assert outcome.status == "failed" and not outcome.readback_ok and outcome.receipt_no
    assert outcome.reason is not None and "shotokusha_name" in outcome.reason
    assert values["my_number"] not in outcome.reason
    assert (evidence / "801_readback.png").exists()
    work_html = (evidence / "801_readback_work.html").read_text(encoding="utf-8")
    assert "dspKojinNo" in work_html and values["my_number"] not in work_html and mask(values["my_number"]) in work_html


@browser
def test_refused_login_fails_every_form_without_guessing_again(legacy: RunningSim) -> None:
    outcomes = enter_forms(requests_for(("901", GOTO), ("902", TAKAHASHI)), base_url=legacy.base_url,
                           credentials=("robot01", "wrong-password"))
    assert [o.status for o in outcomes] == ["failed", "failed"]
    assert all("ログインできません" in (o.reason or "") for o in outcomes)
    assert all("wrong-password" not in (o.reason or "") for o in outcomes)


# ---- without a browser ----

def test_values_are_converted_to_what_the_screens_take_and_show() -> None:
    screen_map = load_screen_map()
    prepared = prepare_form(screen_map.forms["ido_todoke"], screen_map, TAKAHASHI_PAPER)
    assert prepared.problems == []
    assert prepared.secrets == [TAKAHASHI_PAPER["my_number"]]
    shown = prepared.expected_readbacks()
    assert shown["shotokusha_kana"] == "ﾀｶﾊｼ ﾕｳｺ"
    assert shown["seinengappi"] == "平成04年11月03日"
    assert shown["nenzeigaku"] == "98,400"
    assert (shown["ido_jiyu"], shown["choshu_hoho"]) == ("2:転勤", "1:特別徴収継続")
    assert shown["shiharaisha_shozaichi"] == ""  # no value: nothing entered, nothing shown
    assert shown["atena_no"] == ""  # looked up in the 宛名 register before entry
    prepared.set_looked_up("atena_no", "0000000042")
    assert prepared.expected_readbacks()["atena_no"] == "0000000042"

    hojin = prepare_form(screen_map.forms["hojin_shinkoku"], screen_map,
                         {**form_values("hojin_shinkoku", 5), "nofu_hojinzeiwari": "-12300", "chusho_gaito_shinai": True})
    assert hojin.problems == []
    assert hojin.expected_readbacks()["nofu_hojinzeiwari"] == "△12,300"
    assert hojin.expected_readbacks()["chusho_gaito_shinai"] == "○"
    seinengappi = prepared.fields["seinengappi"]
    assert [seinengappi.render(step.value) for step in seinengappi.spec.inputs] == ["4", "04", "11", "03"]

    wrong_era = prepare_form(screen_map.forms["ido_todoke"], screen_map, {**TAKAHASHI_PAPER, "seinengappi_era": "昭和"})
    assert wrong_era.problems == ["seinengappi_era: seinengappi の日付の元号と一致しません"]
    commas = prepare_form(screen_map.forms["ido_todoke"], screen_map, {**TAKAHASHI_PAPER, "nenzeigaku": "98,400"})
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
    assert scrub("番号 1234-5678-9018 / １２３４ ５６７８ ９０１８", []) == "番号 ********9018 / ********９０１８"


@browser
def test_evidence_screenshots_paint_over_every_secret_on_screen(tmp_path: Path) -> None:
    import cv2
    from playwright.sync_api import sync_playwright

    from robots.browser import launch_chromium
    from robots.evidence import save_evidence

    secret = "123456789018"
    screen = """<body style="font-size:24px; background:#fff">
      <p id="plain">宛名番号 0012345</p>
      <input id="whole" value="1234 5678 9018" style="width:300px; font-size:24px">
      <p><input id="part" value="5678" style="width:120px; font-size:24px">
         <input id="other" value="山田" style="width:120px; font-size:24px"></p>
      <p id="text">個人番号：１２３４５６７８９０１８</p>
      <p id="run">配偶者 987654321098</p></body>"""
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            page = chromium.new_page()
            page.set_content(screen)
            boxes = {name: page.locator(f"#{name}").bounding_box()
                     for name in ("plain", "whole", "part", "other", "text", "run")}
            written = save_evidence(page, tmp_path, "form-1", "failed", with_html=False, secrets=[secret])
        finally:
            chromium.close()
    assert [p.name for p in written] == ["form-1_failed.png"]
    shot = cv2.imread(str(written[0]), cv2.IMREAD_GRAYSCALE)

    def inside(name: str) -> np.ndarray:
        box = boxes[name]
        return shot[int(box["y"]) + 3:int(box["y"] + box["height"]) - 3, int(box["x"]) + 3:int(box["x"] + box["width"]) - 3]

    for painted in ("whole", "part", "text", "run"):  # the number whole, in a box of four, full-width, any 12 digits
        assert inside(painted).max() <= 10, painted
    for shown in ("plain", "other"):
        assert inside(shown).max() >= 240 and inside(shown).min() <= 100, shown  # paper and ink: left as it was


@browser
def test_the_reiwa7_items_of_the_kyuyo_hokoku_are_entered_and_read_back(legacy: RunningSim) -> None:
    """特定親族特別控除の額, the 特親 counts, a third 摘要 line and (備考): items of the 令和7年分 face."""
    kyuyo = form_values("kyuyo_hokoku", 4)
    kyuyo.update(tokutei_shinzoku_kojo_gaku="410000", fuyo_tokushin_nin="1", fuyo_tokushin_ju=None,
                 tekiyo_3="(特親) 鈴木一郎", bikou="令和7年分")
    if kyuyo["shotoku_kojo_gokei"]:
        kyuyo["shotoku_kojo_gokei"] = str(int(kyuyo["shotoku_kojo_gokei"]) + 410000)
    [outcome] = enter_forms([request("141", "kyuyo_hokoku", kyuyo)], base_url=legacy.base_url,
                            credentials=CREDENTIALS)
    assert (outcome.status, outcome.readback_ok) == ("entered", True), outcome.reason
    [row] = rows_for(legacy.db_path, "kyuyo_hokoku", "uketsuke_no", outcome.receipt_no)
    assert (row["tokutei_shinzoku_kojo_gaku"], row["fuyo_tokushin_nin"], row["tekiyo_3"], row["bikou"]) == (
        410000, "1", "(特親) 鈴木一郎", "令和7年分")
