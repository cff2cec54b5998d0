"""Throwaway 個人番号 and audit keys for a benchmark's scratch ledger, made where the environment names none (a
benchmark's ledger is generated and thrown away; a city's keys come from its environment or Secret blocks)."""
from __future__ import annotations

import os


def use_scratch_keys() -> None:
    from taxintake.keys import AUDIT_KEY_ENV, MYNUMBER_KEY_ENV, new_audit_key, new_mynumber_key

    os.environ.setdefault(MYNUMBER_KEY_ENV, new_mynumber_key("bench1"))
    os.environ.setdefault(AUDIT_KEY_ENV, new_audit_key())
