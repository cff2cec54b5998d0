"""Which function makes the contents of each form (one module per form)."""
from __future__ import annotations

from samples.fake_data import ido_todoke
from samples.fake_hojin import hojin_shinkoku
from samples.fake_kyuyo import kyuyo_hokoku

GENERATORS = {"ido_todoke": ido_todoke, "hojin_shinkoku": hojin_shinkoku, "kyuyo_hokoku": kyuyo_hokoku}
