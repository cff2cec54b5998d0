"""The whole thin path on a generated scan: real OCR, a real Prefect run, a real ledger file, real chromium."""
from __future__ import annotations

import json
import sqlite3
import unicodedata

import pytest

from ledger.values import reveal_value
from ocr.wareki import wareki_to_date
from samples.generate import generate_page, write_page

pytestmark = [pytest.mark.slow, pytest.mark.browser]

# Where legacy_sim keeps each field, and how to bring its stored form back to the read-result contract's form.
# Written out here, apart from the robot's screen map, so the test does not check the robot with its own rules.
ERA_BY_CODE = {"1": "明治", "2": "大正", "3": "昭和", "4": "平成", "5": "令和"}
IDO_JIYU_BY_CODE = {"1": "退職", "2": "転勤", "3": "休職", "4": "死亡", "9": "その他"}
CHOSHU_HOHO_BY_CODE = {"1": "特別徴収継続", "2": "一括徴収", "3": "普通徴収"}


def _legacy_date(stored: str) -> str:
    era, yy, mm, dd = stored[0], int(stored[1:3]), int(stored[3:5]), int(stored[5:7])
    return wareki_to_date(ERA_BY_CODE[era], yy, mm, dd).isoformat()


LEGACY_COLUMNS = {
    "shitei_bango": ("shitei_no", str),
    "shiharaisha_hojin_bango": ("hojin_no", str),
    "shiharaisha_name": ("jigyosho_mei", str),
    "shiharaisha_shozaichi": ("jigyosho_shozai", str),
    "shotokusha_kana": ("kana_shimei", lambda v: unicodedata.normalize("NFKC", v)),
    "shotokusha_name": ("shimei", str),
    "seinengappi": ("sei_ymd", _legacy_date),
    "seinengappi_era": ("sei_ymd", lambda v: ERA_BY_CODE[v[0]]),
    "my_number": ("kojin_no", str),
    "jusho": ("jusho", str),
    "nenzeigaku": ("nenzei", str),
    "choshuzumi_gaku": ("choshuzumi", str),
    "michoshu_gaku": ("michoshu", str),
    "ido_nengappi": ("ido_ymd", _legacy_date),
    "ido_jiyu": ("ido_jiyu", IDO_JIYU_BY_CODE.__getitem__),
    "choshu_hoho": ("choshu_hoho", CHOSHU_HOHO_BY_CODE.__getitem__),
    # The sheet's newer items (issue 16).
    "daihyosha_shokushimei": ("daihyosha_shokushimei", str),
    "renrakusha_shimei": ("renrakusha_shimei", str),
    "renrakusha_denwa": ("renrakusha_denwa", str),
    "nendo_kubun": ("nendo_kubun", {"1": "現年度", "2": "新年度"}.__getitem__),
    "teishutsu_nengappi": ("teishutsu_ymd", _legacy_date),
    "jukyusha_bango": ("jukyusha_no", str),
    "ido_go_jusho": ("ido_go_jusho", str),
    "tsukiwari_gaku": ("tsukiwari", str),
    "choshuzumi_kara": ("choshuzumi_kara", str),
    "choshuzumi_made": ("choshuzumi_made", str),
    "ikkatsu_riyu": ("ikkatsu_riyu", {"1": "1月1日から4月30日の異動", "2": "本人の申出"}.__getitem__),
    "ikkatsu_yotei_gaku": ("ikkatsu_yotei", str),
    "ikkatsu_nonyu_tsuki": ("ikkatsu_nonyu_tsuki", str),
    "futsu_riyu": ("futsu_riyu", {"1": "申出なし", "2": "支払不足", "9": "その他"}.__getitem__),
    "shin_kinmusaki_name": ("shin_meisho", str),
    "shin_shitei_bango": ("shin_shitei_no", str),
    "shin_kinmusaki_shozaichi": ("shin_shozai", str),
    "shin_tantosha": ("shin_tantosha", str),
    "shin_denwa": ("shin_denwa", str),
    "shin_kaishi_tsuki": ("shin_kaishi_tsuki", str),
    "shin_tsukiwari_gaku": ("shin_tsukiwari", str),
}


def _stored_records(legacy_db) -> list[sqlite3.Row]:
    with sqlite3.connect(legacy_db) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute("SELECT * FROM ido_todoke").fetchall()


def test_a_generated_scan_is_read_into_the_ledger_and_entered_into_legacy_sim(tmp_path, prefect_server):
    from flows.enter import enter
    from flows.intake import intake
    from ledger import repo
    from ledger.db import make_engine, session_scope
    from legacy_sim.server import running_sim
    from legacy_sim.settings import SimSettings

    inbox = tmp_path / "inbox"
    page = generate_page("ido_todoke", style="printed", profile="clean300", seed=4243)
    scan_path = write_page(page, inbox, "scan_0001")
    truth_path = inbox / "scan_0001.truth.json"
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    truth_path.unlink()  # the inbox holds only what a clerk scans
    ledger_url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"

    intake_outcome = intake(inbox=str(inbox), archive_root=str(tmp_path / "archive"), ledger_url=ledger_url,
                            label="e2e", results_dir=str(tmp_path / "results"))
    assert intake_outcome.pages_recorded == 1
    assert not scan_path.exists(), "the original leaves the inbox once archived and recorded"

    engine = make_engine(ledger_url)
    with session_scope(engine, write=False) as session:
        form = session.query(repo.Form).one()
        accepted = {f.name: reveal_value(f.value) for f in form.fields if f.status == "accepted"}
        state = form.state
    # The thin path enters only forms with nothing to review: a clean printed scan must be one.
    assert state == "READY", f"a clean printed scan should need no review, got {state}"
    assert len(accepted) >= 12

    legacy_db = tmp_path / "legacy.sqlite3"
    sim_settings = SimSettings()
    with running_sim(legacy_db, sim_settings) as sim:
        outcome = enter(ledger_url=ledger_url, legacy_url=sim.base_url, legacy_user=sim_settings.robot_user,
                        legacy_password=sim_settings.robot_password, evidence_dir=str(tmp_path / "evidence"))
    assert outcome.entered == 1, outcome

    with session_scope(engine, write=False) as session:
        assert session.query(repo.Form).one().state == "ENTERED"

    records = _stored_records(legacy_db)
    assert len(records) == 1
    for name, value in accepted.items():
        column, to_contract = LEGACY_COLUMNS[name]
        assert to_contract(str(records[0][column])) == truth["fields"][name], name
        assert str(value) == truth["fields"][name], name


def test_a_kyuyo_hokoku_on_the_official_face_is_read_into_the_ledger_and_entered(tmp_path, prefect_server):
    """The 給与支払報告書 a city receives: the official 令和7年分 face, printed by payroll software with the
    給与支払報告書（個人別明細書） title, read, recorded, entered into legacy_sim by the robot and read back."""
    from flows.enter import enter
    from flows.intake import intake
    from ledger import repo
    from ledger.db import make_engine, session_scope
    from legacy_sim.server import running_sim
    from legacy_sim.settings import SimSettings

    inbox = tmp_path / "inbox"
    page = generate_page("kyuyo_hokoku", style="printed", profile="clean300", seed=4249,
                         printed_title="給与支払報告書（個人別明細書）")
    write_page(page, inbox, "scan_0001")
    (inbox / "scan_0001.truth.json").unlink()
    truth = page.truth["fields"]
    ledger_url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    outcome = intake(inbox=str(inbox), archive_root=str(tmp_path / "archive"), ledger_url=ledger_url,
                     label="e2e-kyuyo", results_dir=str(tmp_path / "results"))
    assert outcome.pages_recorded == 1
    engine = make_engine(ledger_url)
    with session_scope(engine, write=False) as session:
        form = session.query(repo.Form).one()
        assert form.form_id == "kyuyo_hokoku"
        accepted = {f.name: reveal_value(f.value) for f in form.fields if f.status == "accepted"}
        assert form.state == "READY", [(f.name, f.status) for f in form.fields if f.status == "review"]
    assert len(accepted) >= 20
    for name, value in accepted.items():
        assert str(value) == str(truth[name]), name

    legacy_db = tmp_path / "legacy.sqlite3"
    sim_settings = SimSettings()
    with running_sim(legacy_db, sim_settings) as sim:
        entered = enter(ledger_url=ledger_url, legacy_url=sim.base_url, legacy_user=sim_settings.robot_user,
                        legacy_password=sim_settings.robot_password, evidence_dir=str(tmp_path / "evidence"))
    assert entered.entered == 1, entered
    with sqlite3.connect(legacy_db) as conn:
        conn.row_factory = sqlite3.Row
        [record] = conn.execute("SELECT * FROM kyuyo_hokoku").fetchall()
    assert str(record["shiharai_kingaku"]) == truth["shiharai_kingaku"]
    assert str(record["kojin_no"]) == truth["my_number"]
    assert str(record["shiharaisha_bango"]) == truth["shiharaisha_bango"]
    assert (str(record["gensen_choshu_zeigaku"]) if record["gensen_choshu_zeigaku"] is not None else None) == \
        truth["gensen_choshu_zeigaku"]
