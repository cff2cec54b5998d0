"""The reading benchmark's whole-form figures: a form goes straight through when every field on it is accepted."""
from __future__ import annotations

from benchmarks.scoring import Score, score_page


def _truth(**robust):
    return {"form_id": "hojin_shinkoku", "fields": {"hojin_mei": "佐藤商事株式会社", "chusho_gaito_shinai": False,
                                                   "hojin_bango": None}, **robust}


def _result(status_mei="accepted", tick=(False, "accepted")):
    return {"form_id": "hojin_shinkoku", "fields": {
        "hojin_mei": {"value": "佐藤商事株式会社", "status": status_mei, "reasons": [] if status_mei == "accepted"
                      else ["low_confidence"]},
        "chusho_gaito_shinai": {"value": tick[0], "status": tick[1], "reasons": []},
        "hojin_bango": {"value": None, "status": "empty", "reasons": []}}}


def test_forms_straight_through_and_what_holds_them():
    total = Score()
    total.add(score_page(_result(), _truth()))
    total.add(score_page(_result(status_mei="review"), _truth()))
    sealed = _truth(robust={"seals": [{"fields": ["chusho_gaito_shinai"]}]})
    total.add(score_page(_result(tick=(True, "accepted")), sealed))  # a seal read as a tick, accepted
    figures = total.figures()
    assert figures["form_straight_through"] == round(2 / 3, 6)
    assert figures["form_straight_and_right"] == round(1 / 3, 6)
    assert total.held_by_kind == {"text:organisation_name": 1}
    assert total.held_by_reason == {"low_confidence": 1}
    assert (total.sealed_pages, total.sealed_checkboxes, total.sealed_checkboxes_accepted_wrong) == (1, 1, 1)
