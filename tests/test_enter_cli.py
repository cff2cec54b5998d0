"""`taxintake enter` by hand: with nothing READY it claims nothing, says so, and starts no browser."""
from __future__ import annotations

from taxintake.cli import main


def test_enter_with_nothing_ready_enters_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TAXINTAKE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TAXINTAKE_LEDGER_URL", f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    monkeypatch.setenv("TAXINTAKE_LEGACY_URL", "http://127.0.0.1:9")  # nothing listens: nothing may be sent
    assert main(["enter", "--limit", "5"]) == 0
    printed = capsys.readouterr().out
    assert "入力 0 件" in printed and "entered 0" in printed
