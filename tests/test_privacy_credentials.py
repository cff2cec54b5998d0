"""The legacy password comes from the environment or a Prefect Secret block, never from the repo."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from taxintake.credentials import MissingCredentials, legacy_password

REPO = Path(__file__).resolve().parent.parent


def test_the_password_comes_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("TAXINTAKE_LEGACY_PASSWORD", "from-env")
    monkeypatch.setenv("TAXINTAKE_LEGACY_PASSWORD__ROBOT_02", "second")
    monkeypatch.delenv("TAXINTAKE_LEGACY_USER", raising=False)
    assert legacy_password() == "from-env"
    assert legacy_password("robot-02") == "second"


def test_a_missing_password_says_where_to_put_it(monkeypatch, prefect_server) -> None:
    monkeypatch.delenv("TAXINTAKE_LEGACY_PASSWORD", raising=False)
    monkeypatch.setenv("TAXINTAKE_LEGACY_PASSWORD_BLOCK", "no-such-block")
    with pytest.raises(MissingCredentials, match="TAXINTAKE_LEGACY_PASSWORD.*no-such-block"):
        legacy_password()


def test_the_password_is_read_from_a_prefect_secret_block(monkeypatch, prefect_server) -> None:
    from prefect.blocks.system import Secret

    Secret(value="from-block").save("taxintake-legacy-password-test", overwrite=True)
    monkeypatch.delenv("TAXINTAKE_LEGACY_PASSWORD", raising=False)
    monkeypatch.setenv("TAXINTAKE_LEGACY_PASSWORD_BLOCK", "taxintake-legacy-password-test")
    assert legacy_password() == "from-block"


def test_no_legacy_password_default_in_the_settings(monkeypatch) -> None:
    from taxintake.config import load_settings

    monkeypatch.delenv("TAXINTAKE_LEGACY_PASSWORD", raising=False)
    assert load_settings().legacy_password == ""
    tracked = subprocess.run(["git", "grep", "-l", "robot01-pass", "--", "taxintake", "flows", "robots"], cwd=REPO,
                             capture_output=True, text=True).stdout.split()
    assert tracked == [], "the password of the system the robots enter into lives outside the repo"
