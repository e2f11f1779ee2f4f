"""Address normalization: both sides of every match go through it."""

import pytest

from geo.normalize import fold, house_range, normalize_address


@pytest.mark.parametrize(
    ("text", "street", "house"),
    [
        ("Töölönkatu 12 A 5, 00100 Helsinki", "toolonkatu", "12a"),
        ("TOOLONKATU 12a", "toolonkatu", "12a"),
        ("  toolonkatu   12  a ", "toolonkatu", "12a"),
        ("Pohjois-Esplanadi 12\u201314", "pohjois esplanadi", "12-14"),
        ("Pohjois Esplanadi 12 - 14, Helsinki", "pohjois esplanadi", "12-14"),
        ("Mannerheimintie 012", "mannerheimintie", "12"),
        ("Mannerheimintie", "mannerheimintie", ""),
        ("Ensi linja 3 b", "ensi linja", "3b"),
        ("Hämeentie 5 B 12 00530 Helsingfors", "hameentie", "5b"),
    ],
)
def test_normalize_address(text: str, street: str, house: str) -> None:
    norm = normalize_address(text)
    assert (norm.street, norm.house) == (street, house)


def test_fold_strips_diacritics_and_punctuation() -> None:
    assert fold("Åbo, Straße; Öljy!") == "abo strasse oljy"


def test_house_range() -> None:
    assert house_range("12-14") == (12, 14)
    assert house_range("12a") == (12, 12)
    assert house_range("abc") is None
