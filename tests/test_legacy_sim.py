"""legacy_sim over HTTP (a real uvicorn on a free port, a real SQLite file): login, one-time form tokens, 半角カナ,
duplicates, Shift_JIS, registers and homonyms, one session per user, desk locks, faults. No browser here."""
from __future__ import annotations

import argparse
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from legacy_sim.faults import MaintenanceWindow, SlowFault, parse_fault_spec
from legacy_sim.server import add_arguments, running_sim
from legacy_sim.settings import DEV_CLERK_PASSWORD, DEV_CLERK_USER, SimSettings
from samples.population import homonym_groups, population

USER, PASSWORD = "robot01", "robot01-pass"
PERSON = population().people[0]
EMPLOYER = population().employers[0]

VALID_ENTRY = {
    "txtAtenaNo": PERSON.atena_no, "txtShiteiNo": EMPLOYER.shitei_no, "txtHojinNo": "7000012050002", "txtJigyoshoMei": "株式会社千葉商事",
    "txtJigyoshoShozai": "千葉県千葉市中央区千葉港1-1", "txtKanaShimei": "ｻﾄｳ ｹﾝﾀ", "txtShimei": "佐藤健太",
    "selSeiGengo": "3", "txtSeiYY": "60", "txtSeiMM": "04", "txtSeiDD": "12", "txtKojinNo": "123456789018",
    "txtJusho": "千葉県千葉市美浜区真砂1-2-3", "txtNenzei": "123400", "txtChoshuzumi": "61700",
    "txtMichoshu": "61700", "selIdoGengo": "5", "txtIdoYY": "07", "txtIdoMM": "09", "txtIdoDD": "30",
    "rdoIdoJiyu": "1", "selChoshuHoho": "3",
}


def sjis(response) -> str:
    return response.content.decode("cp932")


def token_in(html: str, form_id: str | None = None) -> str:
    if form_id is not None:
        html = html[html.index(f'id="{form_id}"'):]
    match = re.search(r'name="hidToken" value="([0-9a-f]+)"', html)
    assert match, "no hidToken on the page"
    return match.group(1)


def post_sjis(client: httpx.Client, path: str, data: dict[str, str], **kwargs):
    body = urlencode(data, encoding="cp932")
    return client.post(path, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}, **kwargs)


def login(client: httpx.Client, user: str = USER, password: str = PASSWORD):
    token = token_in(sjis(client.get("/login")))
    return post_sjis(client, "/login", {"hidToken": token, "txtUserId": user, "txtPassword": password},
                     follow_redirects=False)


def submit_entry(client: httpx.Client, values: dict[str, str], **extra: str):
    token = token_in(sjis(client.get("/ido/entry")), "frmNyuryoku")
    return post_sjis(client, "/ido/entry", {"hidToken": token, **values, **extra})


def stored_rows(db_path: Path) -> list[sqlite3.Row]:
    with sqlite3.connect(db_path) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute("SELECT * FROM ido_todoke ORDER BY id").fetchall()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "legacy.sqlite3"


@contextmanager
def sim_client(db_path: Path, settings: SimSettings | None = None) -> Iterator[httpx.Client]:
    with running_sim(db_path, settings or SimSettings()) as sim, httpx.Client(base_url=sim.base_url) as client:
        yield client


@pytest.fixture
def client(db_path: Path) -> Iterator[httpx.Client]:
    with sim_client(db_path) as client:
        yield client


@pytest.fixture
def logged_in(client: httpx.Client) -> httpx.Client:
    response = login(client)
    assert response.status_code == 303 and response.headers["location"] == "/main"
    return client


def test_screens_need_a_login(client: httpx.Client, db_path: Path) -> None:
    for path in ("/main", "/menu", "/ido/entry", "/ido/inquiry"):
        html = sjis(client.get(path))
        assert 'id="frmLogin"' in html and "ログインしてください。" in html, path
    html = sjis(post_sjis(client, "/ido/entry", {"hidToken": "0" * 32, **VALID_ENTRY}))
    assert 'id="frmLogin"' in html
    assert stored_rows(db_path) == []


def test_wrong_password_is_refused_and_passwords_are_hashed(client: httpx.Client, db_path: Path) -> None:
    html = sjis(login(client, password="wrong"))
    assert "利用者IDまたはパスワードが正しくありません。" in html
    assert login(client).status_code == 303
    with sqlite3.connect(db_path) as conn:
        stored = conn.execute("SELECT pw_hash, pw_salt FROM users WHERE user_id = ?", (USER,)).fetchone()
    assert PASSWORD.encode() not in stored[0] + stored[1]


def test_post_without_a_valid_token_is_refused(logged_in: httpx.Client, db_path: Path) -> None:
    missing = post_sjis(logged_in, "/ido/entry", VALID_ENTRY)
    made_up = post_sjis(logged_in, "/ido/entry", {"hidToken": "f" * 32, **VALID_ENTRY})
    for response in (missing, made_up):
        assert response.status_code == 400
        assert "不正な画面遷移です" in sjis(response)
    assert stored_rows(db_path) == []

    token = token_in(sjis(logged_in.get("/ido/entry")), "frmNyuryoku")
    assert "登録が完了しました" in sjis(post_sjis(logged_in, "/ido/entry", {"hidToken": token, **VALID_ENTRY}))
    replayed = post_sjis(logged_in, "/ido/entry", {"hidToken": token, **VALID_ENTRY, "txtIdoDD": "29"})
    assert replayed.status_code == 400
    assert len(stored_rows(db_path)) == 1


def test_token_of_another_session_is_stale(db_path: Path) -> None:
    with sim_client(db_path) as first, httpx.Client(base_url=str(first.base_url)) as second:
        login(first)
        login(second, "robot02", "robot02-pass")  # one session per user: another robot account
        token = token_in(sjis(first.get("/ido/entry")), "frmNyuryoku")
        assert post_sjis(second, "/ido/entry", {"hidToken": token, **VALID_ENTRY}).status_code == 400
    assert stored_rows(db_path) == []


def test_kana_must_be_hankaku(logged_in: httpx.Client, db_path: Path) -> None:
    html = sjis(submit_entry(logged_in, {**VALID_ENTRY, "txtKanaShimei": "サトウ ケンタ"}))
    assert "カナ氏名は半角カナで入力してください。" in html
    assert stored_rows(db_path) == []
    assert "登録が完了しました" in sjis(submit_entry(logged_in, VALID_ENTRY))
    assert stored_rows(db_path)[0]["kana_shimei"] == "ｻﾄｳ ｹﾝﾀ"


def test_amounts_with_commas_and_wrong_sums_are_refused(logged_in: httpx.Client, db_path: Path) -> None:
    html = sjis(submit_entry(logged_in, {**VALID_ENTRY, "txtNenzei": "123,400"}))
    assert "（ア）特別徴収税額はカンマを付けずに半角数字で入力してください。" in html
    html = sjis(submit_entry(logged_in, {**VALID_ENTRY, "txtMichoshu": "61600"}))
    assert "（ウ）未徴収税額が（ア）－（イ）と一致しません。" in html
    html = sjis(submit_entry(logged_in, {**VALID_ENTRY, "txtKojinNo": "123456789019"}))
    assert "個人番号が正しくありません。" in html
    html = sjis(submit_entry(logged_in, {**VALID_ENTRY, "selIdoGengo": "3", "txtIdoYY": "64", "txtIdoMM": "02",
                                         "txtIdoDD": "01"}))
    assert "異動年月日が正しくありません。" in html
    assert stored_rows(db_path) == []


def test_the_sheets_collection_blocks_are_checked_as_the_system_does(logged_in: httpx.Client, db_path: Path) -> None:
    html = sjis(submit_entry(logged_in, {**VALID_ENTRY, "selChoshuHoho": "2"}))
    assert "一括徴収の場合は一括徴収の理由を選択してください。" in html
    html = sjis(submit_entry(logged_in, {**VALID_ENTRY, "selChoshuHoho": "1"}))
    assert "特別徴収継続の場合は新勤務先の指定番号を入力してください。" in html
    html = sjis(submit_entry(logged_in, {**VALID_ENTRY, "txtChoshuzumiKara": "6", "txtChoshuzumiMade": "13"}))
    assert "月は1から12で入力してください。" in html
    assert stored_rows(db_path) == []
    keizoku = {**VALID_ENTRY, "selChoshuHoho": "1", "txtShinShiteiNo": "12345678", "txtShinMeisho": "株式会社房総運輸",
               "txtShinKaishiTsuki": "10", "txtShinTsukiwari": "10200", "txtTsukiwari": "10200",
               "txtChoshuzumiKara": "6", "txtChoshuzumiMade": "9", "selNendoKubun": "1"}
    assert "登録が完了しました" in sjis(submit_entry(logged_in, keizoku))
    row = stored_rows(db_path)[0]
    assert (row["shin_shitei_no"], row["shin_kaishi_tsuki"], row["shin_tsukiwari"], row["choshuzumi_made"],
            row["nendo_kubun"]) == ("12345678", "10", 10200, "9", "1")


def test_entry_is_stored_in_legacy_formats_and_long_text_cut(logged_in: httpx.Client, db_path: Path) -> None:
    long_name = "髙橋" + "あ" * 40
    html = sjis(submit_entry(logged_in, {**VALID_ENTRY, "txtShimei": long_name}))
    receipt = re.search(r'id="lblUketsukeNo">(I[A-Z]\d{2}-\d{6})<', html)
    assert receipt, html
    row = stored_rows(db_path)[0]
    assert row["uketsuke_no"] == receipt.group(1)
    assert row["shimei"] == long_name[:30]  # cut without a word, as old systems do
    assert (row["sei_ymd"], row["ido_ymd"], row["nenzei"], row["ido_jiyu"], row["choshu_hoho"]) == (
        "3600412", "5070930", 123400, "1", "3")


def test_duplicate_is_warned_and_stored_only_when_forced(logged_in: httpx.Client, db_path: Path) -> None:
    assert "登録が完了しました" in sjis(submit_entry(logged_in, VALID_ENTRY))
    warning = sjis(submit_entry(logged_in, {**VALID_ENTRY, "txtShimei": "佐藤 健太"}))
    assert "既に同一の給与所得者異動届出書が登録されています" in warning
    assert len(stored_rows(db_path)) == 1
    forced = post_sjis(logged_in, "/ido/entry", {"hidToken": token_in(warning, "frmDuplicate"), "hidForce": "1",
                                                 **VALID_ENTRY})
    assert "登録が完了しました" in sjis(forced)
    rows = stored_rows(db_path)
    assert len(rows) == 2 and rows[1]["forced_duplicate"] == 1


def test_inquiry_by_receipt_and_by_person(logged_in: httpx.Client) -> None:
    html = sjis(submit_entry(logged_in, VALID_ENTRY))
    receipt = re.search(r'id="lblUketsukeNo">([^<]+)<', html).group(1)
    page = sjis(logged_in.get("/ido/inquiry"))
    detail = sjis(post_sjis(logged_in, "/ido/inquiry", {"hidToken": token_in(page, "frmUketsukeKensaku"),
                                                        "hidMode": "uketsuke", "txtUketsukeNo": receipt}))
    assert '<span id="dspSeiYmd">昭和60年04月12日</span>' in detail
    assert '<span id="dspNenzei">123,400</span>' in detail
    assert '<span id="dspIdoJiyu">1:退職</span>' in detail
    hits = sjis(post_sjis(logged_in, "/ido/inquiry", {
        "hidToken": token_in(detail, "frmShutaiKensaku"), "hidMode": "shutai", "txtKensakuShutai": PERSON.atena_no}))
    assert f">{receipt}</a>" in hits and 'id="lblHitCount">1<' in hits


def test_screens_are_served_as_shift_jis(logged_in: httpx.Client, db_path: Path) -> None:
    response = logged_in.get("/ido/entry")
    assert response.headers["content-type"] == "text/html; charset=Shift_JIS"
    with pytest.raises(UnicodeDecodeError):
        response.content.decode("utf-8")
    assert "給与所得者異動届出書" in sjis(response)
    submit_entry(logged_in, {**VALID_ENTRY, "txtShimei": "髙橋一郎"})  # an IBM extension kanji, in cp932
    assert stored_rows(db_path)[0]["shimei"] == "髙橋一郎"


def test_idle_session_expires_to_the_login_page(db_path: Path) -> None:
    # Long enough for a loaded machine to open a page right after logging in; then idle past it.
    with sim_client(db_path, SimSettings(idle_timeout_seconds=2.0)) as client:
        login(client)
        assert 'id="frmNyuryoku"' in sjis(client.get("/ido/entry"))
        time.sleep(2.3)
        html = sjis(client.get("/ido/entry"))
    assert 'id="frmLogin"' in html and "セッションの有効期限が切れました" in html


def test_expire_fault_ends_a_busy_session(db_path: Path) -> None:
    # A lifetime long enough for a loaded machine to log in and open a page inside it, and no longer.
    with sim_client(db_path, SimSettings(faults=parse_fault_spec("expire=3"))) as client:
        login(client)
        assert 'id="frmNyuryoku"' in sjis(client.get("/ido/entry"))
        time.sleep(3.2)
        assert "セッションの有効期限が切れました" in sjis(client.get("/ido/entry"))


def test_fault_spec_parses_every_fault_and_refuses_nonsense() -> None:
    spec = parse_fault_spec("503=0.1,slow=0.05:3,expire=60,lock=0.02,maintenance=02:00-03:00")
    assert spec.unavailable_rate == 0.1 and spec.slow == SlowFault(0.05, 3.0)
    assert spec.session_lifetime_seconds == 60 and spec.lock_rate == 0.02
    assert isinstance(spec.maintenance, MaintenanceWindow)
    assert parse_fault_spec("").is_empty
    for bad in ("503=2", "slow=0.1", "teapot=1", "503=0.1,503=0.2", "maintenance=2am"):
        with pytest.raises(ValueError):
            parse_fault_spec(bad)


def test_503_and_slow_faults_are_injected(db_path: Path) -> None:
    with sim_client(db_path, SimSettings(faults=parse_fault_spec("503=1"))) as down:
        response = down.get("/login")
        assert response.status_code == 503 and "Service Unavailable" in sjis(response)
    with sim_client(db_path, SimSettings(faults=parse_fault_spec("slow=1:0.3"))) as slow:
        started = time.monotonic()
        assert slow.get("/login").status_code == 200
        assert time.monotonic() - started >= 0.3


def test_cli_options_and_defaults() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args([])
    assert (args.host, args.port, str(args.db), args.faults, args.idle_timeout, args.robot_accounts) == (
        "127.0.0.1", 8765, "var/legacy_sim.sqlite3", "", 1800.0, 4)
    args = parser.parse_args(["--port", "9000", "--faults", "503=0.1", "--idle-timeout", "60", "--seed", "7"])
    assert (args.port, args.faults, args.idle_timeout, args.seed) == (9000, "503=0.1", 60.0, 7)


def test_registers_are_seeded_from_the_shared_population_and_homonyms_are_all_shown(logged_in: httpx.Client) -> None:
    from legacy_sim.registers import encode_date, hankaku

    first, second = homonym_groups(population())[0][:2]
    encoded = encode_date(first.birth)
    page = sjis(logged_in.get("/atena/search"))
    hits = sjis(post_sjis(logged_in, "/atena/search", {
        "hidToken": token_in(page, "frmAtenaKensaku"), "txtKensakuKana": hankaku(first.kana),
        "selKensakuSeiGengo": encoded[0], "txtKensakuSeiYY": encoded[1:3], "txtKensakuSeiMM": encoded[3:5],
        "txtKensakuSeiDD": encoded[5:7]}))
    shown = re.findall(r'class="colAtenaNo"><a[^>]*>(\d+)<', hits)
    assert {first.atena_no, second.atena_no} <= set(shown)
    assert "同姓同名" in hits
    # A robot's role may not search by 個人番号; a clerk's may (next test).
    refused = sjis(post_sjis(logged_in, "/atena/search", {"hidToken": token_in(hits, "frmAtenaKensaku"),
                                                          "txtKensakuKojinNo": first.my_number}))
    assert "個人番号による検索の権限がありません。" in refused and f">{first.atena_no}<" not in refused


def test_one_session_per_user_and_a_desk_lock_holds_off_entry(db_path: Path) -> None:
    with sim_client(db_path) as robot, httpx.Client(base_url=str(robot.base_url)) as clerk, \
            httpx.Client(base_url=str(robot.base_url)) as robot_again:
        login(robot)
        login(clerk, DEV_CLERK_USER, DEV_CLERK_PASSWORD)
        by_number = sjis(post_sjis(clerk, "/atena/search", {
            "hidToken": token_in(sjis(clerk.get("/atena/search")), "frmAtenaKensaku"),
            "txtKensakuKojinNo": PERSON.my_number}))
        assert f">{PERSON.atena_no}<" in by_number
        opened = sjis(clerk.get(f"/atena/detail?no={PERSON.atena_no}"))  # the clerk edits the person: locked
        assert "dspAtenaNo" in opened
        assert "他の端末で処理中" in sjis(submit_entry(robot, VALID_ENTRY))
        assert stored_rows(db_path) == []
        post_sjis(clerk, "/atena/release", {"hidToken": token_in(opened, "frmAtenaShuryo")})
        assert "登録が完了しました" in sjis(submit_entry(robot, VALID_ENTRY))

        login(robot_again)  # the same account logs in elsewhere: the first session ends
        assert "セッションの有効期限が切れました" in sjis(robot.get("/ido/entry"))
        assert 'id="frmNyuryoku"' in sjis(robot_again.get("/ido/entry"))


def test_unknown_subject_and_employer_are_refused(logged_in: httpx.Client, db_path: Path) -> None:
    html = sjis(submit_entry(logged_in, {**VALID_ENTRY, "txtAtenaNo": "9999999999", "txtShiteiNo": "00000000"}))
    assert "宛名番号が存在しません" in html and "特別徴収義務者指定番号が登録されていません" in html
    assert stored_rows(db_path) == []


def test_maintenance_window_closes_every_screen(db_path: Path) -> None:
    from datetime import datetime, timedelta

    now = datetime.now()
    window = f"{(now - timedelta(minutes=5)):%H:%M}-{(now + timedelta(minutes=5)):%H:%M}"
    with sim_client(db_path, SimSettings(faults=parse_fault_spec(f"maintenance={window}"))) as client:
        response = client.get("/login")
    assert response.status_code == 503 and "夜間バッチ処理中" in sjis(response) and "msgMaintenance" in sjis(response)
