"""`taxintake intake` from the command line: a real flow run with a rich progress bar in pages per second."""
from __future__ import annotations

from PIL import Image


def test_intake_command_shows_progress_in_pages_per_second(tmp_path, prefect_server, monkeypatch, capsys):
    from taxintake.cli import main

    home = tmp_path / "home"
    monkeypatch.setenv("TAXINTAKE_HOME", str(home))
    monkeypatch.setenv("TAXINTAKE_LEDGER_URL", f"sqlite:///{home / 'ledger.sqlite3'}")
    folder = tmp_path / "scans"
    folder.mkdir()
    Image.new("L", (1240, 1754), 255).save(folder / "blank.png", dpi=(150, 150))
    assert main(["intake", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "1/1 files" in out and "1 頁 · " in out and "頁/秒 pages/s" in out
    assert "バッチ 1: 1 ファイル" in out and "batch 1: 1 files (0 known), 1 pages at" in out
    assert list(folder.iterdir()) == []
