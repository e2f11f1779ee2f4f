"""Finnish-style names: towns, streets and house numbers as they are written.

Names are unique after folding (``geo.normalize.fold``), so a street name identifies one
street in the whole territory.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from geo.normalize import fold

LETTER_SHARE = 0.08
RANGE_SHARE = 0.01


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_TREES = _words(
    "Koivu Kuusi Mänty Pihlaja Tammi Vaahtera Leppä Haapa Saarni Kataja Lehmus Paju Tuomi "
    "Kuusikko Männikkö Koivikko"
)

_NATURE = _words(
    "Ranta Mylly Kirkko Koulu Asema Pelto Niitty Mäki Harju Kallio Lehto Metsä Puisto Satama "
    "Tehdas Pappila Kartano Torppa Aitta Sauna Kaivo Lähde Puro Joki Järvi Lampi Salmi Niemi "
    "Saari Kivi Hiekka Sora Savi Tuuli Kevät Kesä Syksy Talvi Aamu Ilta Kuu Tähti Sammal "
    "Kanerva Kielo Orvokki Ruusu Lilja Apila Vilja Ohra Kaura Ruis Pellava Humala Marja "
    "Mustikka Puolukka Lakka Karhu Hirvi Kettu Jänis Orava Ilves Joutsen Kurki Haukka Pöllö "
    "Tikka Peippo Rastas Kiuru Kauppa Tori Rauta Vasara Paja Silta Portti Aitta Veräjä Kulta "
    "Hopea Vaski Helmi Lumi Routa Halla Sade Pilvi Sateenkaari Kotka Käki Sorsa"
)

_TRADES = _words("Sepän Suutarin Räätälin Opettajan Nimismiehen Lukkarin Myllärin Kanttorin")
_KINDS = _words(
    "katu tie kuja polku raitti rinne kaari väylä tanhua piha aukio ranta puistikko mäki "
    "pelto niitty lenkki portti kulma penger"
)

_MODIFIERS = (
    "Vanha ",
    "Uusi ",
    "Iso ",
    "Pikku ",
    "Pohjois-",
    "Etelä-",
    "Itä-",
    "Länsi-",
    "Ala-",
    "Ylä-",
)

_SYLLABLES = _words(
    "ka ko ku la le li lo ma mi mä nä ni no pa pe pi po ra ri ro sa se si so ta ti to va vi "
    "vä hä hö jä jo ju kö tö yö ha he hi ke ki ky lu mu nu pu ru su tu vu ai ei oi uu aa ee"
)

# Genitive endings of place and family names: Mäkilän-, Kotilan-, Virtasen-.
_GENITIVE_ENDINGS = ("lan", "län", "sen")
_PLACE_ENDINGS = _words("la lä nen järvi koski salo niemi mäki vaara harju ranta pää kylä")


def house_strings(
    rng: np.random.Generator, house_no: npt.NDArray[np.int64]
) -> npt.NDArray[np.str_]:
    """House numbers as written: "12", some with a staircase letter "12 A", a few "12-14"."""
    n = len(house_no)
    kind = rng.random(n)
    letters = np.array(["A", "B", "C"])[rng.integers(0, 3, n)]
    numbers = house_no.astype(str)
    with_letter = np.strings.add(np.strings.add(numbers, " "), letters)
    ranged = np.strings.add(np.strings.add(numbers, "-"), (house_no + 2).astype(str))
    out = np.where(kind < LETTER_SHARE, with_letter, numbers)
    return np.where(kind > 1.0 - RANGE_SHARE, ranged, out)


def draw_town_names(rng: np.random.Generator, n: int) -> list[str]:
    names: dict[str, str] = {}
    while len(names) < n:
        k = rng.integers(1, 3)
        stem = "".join(rng.choice(_SYLLABLES, k)) + str(rng.choice(_PLACE_ENDINGS))
        name = stem.capitalize()
        names.setdefault(fold(name), name)
    return list(names.values())


def draw_street_names(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` distinct street names (distinct after folding too), Finnish-style.

    Compounds of a word and a street kind ("Koivukuja", "Myllykatu"), sometimes with a
    modifier ("Vanha Rantatie", "Pohjois-Kirkkokatu"), and names after a made-up place or
    person in the genitive ("Mäkilänkuja").
    """
    names: dict[str, str] = {}
    words = _TREES + _NATURE
    while len(names) < n:
        batch = 2 * (n - len(names)) + 16
        style = rng.random(batch)
        word = rng.choice(words, batch)
        trade = rng.choice(_TRADES, batch)
        kind = rng.choice(_KINDS, batch)
        modifier = rng.choice(_MODIFIERS, batch)
        syllables = rng.choice(_SYLLABLES, (batch, 3))
        n_syllables = rng.integers(2, 4, batch)
        ending = rng.choice(_GENITIVE_ENDINGS, batch)
        for i in range(batch):
            if style[i] < 0.35:
                name = f"{word[i]}{kind[i]}"
            elif style[i] < 0.55:
                name = f"{modifier[i]}{word[i]}{kind[i]}"
            elif style[i] < 0.6:
                name = f"{trade[i]}{kind[i]}"
            else:
                stem = "".join(syllables[i, : n_syllables[i]]) + ending[i]
                name = f"{stem.capitalize()}{kind[i]}"
            if "-" in name:
                head, tail = name.split("-", 1)
                name = f"{head}-{tail.capitalize()}"
            key = fold(name)
            if key not in names:
                names[key] = name
                if len(names) == n:
                    break
    return list(names.values())
