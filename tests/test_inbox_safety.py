"""The watched inbox: each refusal of flows.inbox_safety on real files, links, FIFOs and folders."""
from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import pytest

from flows.inbox_safety import (REPO_ROOT, UnsafeInboxFile, UnsafeLayout, assert_safe_layout,
                                inbox_candidate_problem, layout_problems, list_inbox, open_inbox_file,
                                safe_output_path, set_aside, write_file_inside)


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path, Path]:
    inbox, archive, results = tmp_path / "inbox", tmp_path / "archive", tmp_path / "results"
    for folder in (inbox, archive, results):
        folder.mkdir()
    return inbox, archive, results


def test_separate_folders_are_a_safe_layout(folders) -> None:
    inbox, archive, results = folders
    assert_safe_layout(inbox, archive, [results])
    # The default working folder, ./var inside the checkout, is data beside the code, not code.
    assert layout_problems(REPO_ROOT / "var" / "inbox", REPO_ROOT / "var" / "archive") == []


@pytest.mark.parametrize("code_folder", [REPO_ROOT / "ocr", REPO_ROOT / "form_templates" / "ido_todoke",
                                         REPO_ROOT / "flows" / "inbox", REPO_ROOT / "robots" / "screens"])
def test_an_inbox_in_the_code_is_refused(code_folder: Path, folders) -> None:
    _, archive, _ = folders
    with pytest.raises(UnsafeLayout, match="プログラム"):
        assert_safe_layout(code_folder, archive)


def test_an_inbox_in_git_hooks_is_refused(folders) -> None:
    import subprocess

    _, archive, _ = folders
    hooks = subprocess.run(["git", "rev-parse", "--path-format=absolute", "--git-path", "hooks"], cwd=REPO_ROOT,
                           capture_output=True, text=True, check=True).stdout.strip()
    with pytest.raises(UnsafeLayout, match="重なっています"):
        assert_safe_layout(Path(hooks), archive)


def test_an_inbox_holding_the_code_is_refused(folders) -> None:
    _, archive, _ = folders
    with pytest.raises(UnsafeLayout, match="重なっています"):
        assert_safe_layout(REPO_ROOT, archive)
    with pytest.raises(UnsafeLayout):
        assert_safe_layout(REPO_ROOT.parent, archive)


def test_output_in_the_virtualenv_or_interpreter_is_refused(folders) -> None:
    inbox, archive, _ = folders
    site_packages = next(Path(p) for p in sys.path if p.endswith("site-packages"))
    for target in (Path(sys.prefix) / "reports", site_packages / "evil", Path(sys.base_prefix) / "lib",
                   Path(sys.executable).parent):
        with pytest.raises(UnsafeLayout, match="Python"):
            assert_safe_layout(inbox, archive, [target])
    with pytest.raises(UnsafeLayout):
        assert_safe_layout(inbox, Path(sys.prefix) / "archive")


def test_an_inbox_python_imports_from_is_refused(folders, monkeypatch) -> None:
    inbox, archive, _ = folders
    monkeypatch.syspath_prepend(str(inbox))  # a clerk's `json.py` there would be imported before the real one
    with pytest.raises(UnsafeLayout, match="Python"):
        assert_safe_layout(inbox, archive)
    with pytest.raises(UnsafeLayout):
        assert_safe_layout(inbox.parent, archive / "x")


def test_archive_or_output_inside_the_inbox_is_refused_as_a_loop(folders) -> None:
    inbox, _, _ = folders
    with pytest.raises(UnsafeLayout, match="受付箱の中"):
        assert_safe_layout(inbox, inbox / "archive")
    with pytest.raises(UnsafeLayout, match="endless re-read loop"):
        assert_safe_layout(inbox, inbox.parent / "archive", [inbox / "done" / "results"])
    with pytest.raises(UnsafeLayout, match="受付箱の中"):
        assert_safe_layout(inbox, inbox)


def test_a_loop_through_a_symlinked_folder_is_refused(folders, tmp_path: Path) -> None:
    inbox, _, _ = folders
    (tmp_path / "archive_link").symlink_to(inbox / "sub", target_is_directory=True)
    (inbox / "sub").mkdir()
    with pytest.raises(UnsafeLayout, match="受付箱の中"):
        assert_safe_layout(inbox, tmp_path / "archive_link")


def test_a_regular_file_in_the_inbox_is_accepted_and_opened(folders) -> None:
    inbox, _, _ = folders
    scan = inbox / "スキャン 2024年 1.pdf"
    scan.write_bytes(b"%PDF-1.4 test")
    assert inbox_candidate_problem(scan, inbox) is None
    with open_inbox_file(scan, inbox) as handle:
        assert handle.read() == b"%PDF-1.4 test"


def test_a_symlink_is_refused_even_to_a_file_inside_the_inbox(folders, tmp_path: Path) -> None:
    inbox, _, _ = folders
    secret = tmp_path / "secret.pdf"
    secret.write_bytes(b"outside")
    (inbox / "inside.pdf").write_bytes(b"inside")
    for name, target in (("to_outside.pdf", secret), ("to_inside.pdf", inbox / "inside.pdf"),
                         ("dangling.pdf", tmp_path / "nothing.pdf")):
        link = inbox / name
        link.symlink_to(target)
        assert "シンボリックリンク" in inbox_candidate_problem(link, inbox)
        with pytest.raises(UnsafeInboxFile, match="symbolic link"):
            open_inbox_file(link, inbox)


def test_a_fifo_is_refused_and_never_opened(folders) -> None:
    inbox, _, _ = folders
    fifo = inbox / "scan.pdf"
    os.mkfifo(fifo)
    assert "FIFO" in inbox_candidate_problem(fifo, inbox)
    with pytest.raises(UnsafeInboxFile, match="FIFO"):
        open_inbox_file(fifo, inbox)  # would block forever if it were opened for reading


def test_a_device_and_a_folder_are_refused(folders) -> None:
    inbox, _, _ = folders
    assert "デバイス" in inbox_candidate_problem("/dev/null", "/dev")
    (inbox / "folder.pdf").mkdir()
    assert "フォルダ" in inbox_candidate_problem(inbox / "folder.pdf", inbox)


def test_escape_by_a_symlinked_parent_folder_is_refused(folders, tmp_path: Path) -> None:
    inbox, _, _ = folders
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "private.pdf").write_bytes(b"not for us")
    (inbox / "share").symlink_to(outside, target_is_directory=True)
    escaped = inbox / "share" / "private.pdf"
    assert "受付箱の外" in inbox_candidate_problem(escaped, inbox)
    with pytest.raises(UnsafeInboxFile, match="outside the inbox"):
        open_inbox_file(escaped, inbox)


def test_a_file_swapped_for_a_symlink_after_the_check_is_refused_at_open(folders, tmp_path: Path,
                                                                       monkeypatch) -> None:
    """The check again just before opening: O_NOFOLLOW on the open itself, not only the earlier lstat."""
    import flows.inbox_safety as safety

    inbox, _, _ = folders
    scan = inbox / "scan.pdf"
    scan.write_bytes(b"fine")
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"secret")
    real_check = safety.inbox_candidate_problem

    def check_then_swap(path, folder):
        problem = real_check(path, folder)
        scan.unlink()
        scan.symlink_to(secret)  # the race: swapped between the check and the open
        return problem

    monkeypatch.setattr(safety, "inbox_candidate_problem", check_then_swap)
    with pytest.raises(UnsafeInboxFile, match="開けません"):
        open_inbox_file(scan, inbox)


def test_a_parent_folder_swapped_for_a_symlink_after_the_check_is_refused_at_open(folders, tmp_path: Path,
                                                                                monkeypatch) -> None:
    import flows.inbox_safety as safety

    inbox, _, _ = folders
    (inbox / "sub").mkdir()
    (inbox / "sub" / "scan.pdf").write_bytes(b"fine")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "scan.pdf").write_bytes(b"secret")
    real_check = safety.inbox_candidate_problem

    def check_then_swap(path, folder):
        problem = real_check(path, folder)
        (inbox / "sub").rename(tmp_path / "old_sub")
        (inbox / "sub").symlink_to(outside, target_is_directory=True)
        return problem

    monkeypatch.setattr(safety, "inbox_candidate_problem", check_then_swap)
    with pytest.raises(UnsafeInboxFile, match="outside the inbox"):
        open_inbox_file(inbox / "sub" / "scan.pdf", inbox)


def test_list_inbox_accounts_for_every_entry(folders, tmp_path: Path) -> None:
    inbox, _, _ = folders
    (inbox / "a.pdf").write_bytes(b"a")
    (inbox / "sub").mkdir()
    (inbox / "sub" / "b 申告書.png").write_bytes(b"b")
    (inbox / "link.pdf").symlink_to(inbox / "a.pdf")
    os.mkfifo(inbox / "pipe.tif")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "c.pdf").write_bytes(b"c")
    (inbox / "linked_folder").symlink_to(outside, target_is_directory=True)
    (inbox / ".scanner-tmp").write_bytes(b"partial")
    growing = inbox / "still_writing.pdf"
    growing.write_bytes(b"half")

    def keep_writing() -> None:
        with growing.open("ab") as handle:
            for _ in range(40):
                handle.write(b"more")
                handle.flush()
                time.sleep(0.01)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        accepted, refused, settling = list_inbox(inbox, settle_seconds=0.3)
    finally:
        writer.join()
    assert accepted == [inbox / "a.pdf", inbox / "sub" / "b 申告書.png"]
    assert sorted(p.name for p, _ in refused) == ["link.pdf", "linked_folder", "pipe.tif"]
    assert all(reason for _, reason in refused)
    assert settling == [growing]


def test_a_refused_entry_is_set_aside_without_being_followed(folders, tmp_path: Path) -> None:
    inbox, archive, _ = folders
    secret = tmp_path / "secret.pdf"
    secret.write_bytes(b"secret")
    link = inbox / "123456789018 申告.pdf"
    link.symlink_to(secret)
    kept = set_aside(link, archive / "refused")
    assert kept is not None and kept.is_symlink() and not os.path.lexists(link)
    assert "123456789018" not in kept.name and "9018" in kept.name
    assert secret.read_bytes() == b"secret"


def test_writing_stays_a_regular_file_inside_the_folder(folders, tmp_path: Path) -> None:
    _, _, results = folders
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (results / "report.csv").write_text("old")
    written = write_file_inside(results, "report.csv", b"a,b\n")
    assert written == results / "report.csv" and not written.is_symlink()
    assert written.read_bytes() == b"a,b\n"
    assert [p.name for p in results.iterdir()] == ["report.csv"]  # no temporary file left behind
    (results / "planted.csv").symlink_to(victim)
    with pytest.raises(UnsafeInboxFile, match="not a regular file"):
        write_file_inside(results, "planted.csv", b"overwrite")
    assert victim.read_text() == "keep me"
    for bad in ("../escape.csv", "a/b.csv", "..", ""):
        with pytest.raises(UnsafeInboxFile):
            safe_output_path(results, bad)
    os.mkfifo(results / "fifo.csv")
    with pytest.raises(UnsafeInboxFile, match="regular"):
        safe_output_path(results, "fifo.csv")
