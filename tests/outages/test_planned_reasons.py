"""Planned-work reasons in both languages: the vocabulary, and typed text passed through."""

from __future__ import annotations

from outages.planned_reasons import reason_code, reason_texts


def test_a_reason_naming_known_work_gets_both_languages() -> None:
    assert reason_texts("transformer replacement") == {
        "en": "Transformer replacement or maintenance",
        "zh-CN": "变压器更换或检修",
    }
    assert reason_code("Cable repair on Fredrikinkatu") == "cable"
    assert reason_code("Tree trimming near the lines") == "trees"


def test_an_unknown_reason_is_kept_as_typed_in_english_only() -> None:
    assert reason_texts("x work") == {"en": "x work"}
    assert reason_code("pipeline crossing") is None  # "line" must start a word
