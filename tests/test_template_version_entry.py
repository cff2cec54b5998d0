"""The robots' screen map carries the template version: a form read with a version its screens were not written
for goes to people, named, with nothing typed; the version it was written for is entered."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from legacy_sim.server import running_sim
from legacy_sim.settings import SimSettings
from robots.entry import EntryRequest, enter_forms
from robots.screen_map import DEFAULT_SCREEN_MAP, load_screen_map
from test_robot_entry import CREDENTIALS, form_values, rows_for

pytestmark = pytest.mark.browser


def test_a_version_the_screens_do_not_take_goes_to_people_and_the_one_they_take_is_entered(tmp_path: Path):
    raw = yaml.safe_load(DEFAULT_SCREEN_MAP.read_text(encoding="utf-8"))
    raw["forms"]["kyuyo_hokoku"]["template_versions"] = ["令和7年分"]
    screen_map = tmp_path / "screens.yaml"
    screen_map.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert load_screen_map(screen_map).forms["kyuyo_hokoku"].template_versions == ["令和7年分"]
    values = form_values("kyuyo_hokoku", 5)
    requests = [EntryRequest("201", "kyuyo_hokoku", values, "key-201", template_version="令和8年分"),
                EntryRequest("202", "kyuyo_hokoku", values, "key-202", template_version="令和7年分")]
    with running_sim(tmp_path / "legacy.sqlite3", SimSettings()) as sim:
        outcomes = enter_forms(requests, base_url=sim.base_url, credentials=CREDENTIALS, screen_map=screen_map,
                               evidence_dir=tmp_path / "evidence")
        assert outcomes[0].status == "needs_people" and outcomes[0].keys == []
        assert "版 令和8年分 に対応していません" in outcomes[0].reason
        assert outcomes[1].status == "entered", outcomes[1].reason
        assert len(rows_for(sim.db_path, "kyuyo_hokoku", "uketsuke_no", outcomes[1].receipt_no)) == 1
