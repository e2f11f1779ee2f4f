"""Premises: one per real OSM street address, with synthetic customers and critical flags."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.normalize import normalize_address
from scenarios.demo_city.params import SEED
from scenarios.demo_city.spatial import WGS84

CITY = "Helsinki"
LIFE_SUPPORT_PICKS = 2
_CRITICAL_BY_AMENITY = {
    "hospital": "hospital",
    "clinic": "hospital",
    "doctors": "hospital",
    "school": "school",
    "kindergarten": "school",
    "fire_station": "emergency",
    "police": "emergency",
}

_FIRST_NAMES = (
    "Aino", "Eero", "Helmi", "Juha", "Kaisa", "Lauri", "Mikko", "Noora",
    "Olli", "Pia", "Sanna", "Timo", "Ulla", "Veera", "Ville", "Anni",
)  # fmt: skip

_LAST_NAMES = (
    "Demo-Korhonen", "Demo-Virtanen", "Demo-Mäkinen", "Demo-Nieminen", "Demo-Laine",
    "Demo-Heikkinen", "Demo-Koskinen", "Demo-Järvinen", "Demo-Lehtonen", "Demo-Saarinen",
)  # fmt: skip


def premise_frame(addresses: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One premise per OSM address with a street name, sorted so ids are stable.

    Address polygons (buildings) are represented by a point inside them. Every address of
    the extract is in Helsinki; the ``addr:city`` tag is missing or garbled on some, so the
    city is set rather than read. Postcodes that are not five digits are dropped.
    """
    rows = addresses[addresses["addr:street"].notna()].copy()
    rows["street"] = [_clean_street(s) for s in rows["addr:street"].astype(str)]
    tagged_house = rows["addr:housenumber"].astype(str)
    rows["house"] = [_clean_house(h, s) for h, s in zip(tagged_house, rows.street, strict=True)]
    postcode = rows["addr:postcode"].astype("string").str.strip()
    rows["postcode"] = postcode.where(postcode.str.fullmatch(r"\d{5}").fillna(False), None)
    rows = rows.sort_values(["street", "house", "osm_type", "id"], kind="mergesort")
    rows = rows.reset_index(drop=True)
    ids = np.arange(1, len(rows) + 1)
    address = [
        f"{street} {house}, {f'{code} ' if isinstance(code, str) else ''}{CITY}"
        for street, house, code in zip(rows.street, rows.house, rows.postcode, strict=True)
    ]
    normalized = [normalize_address(text) for text in address]
    rng = np.random.default_rng(SEED)
    frame = gpd.GeoDataFrame(
        {
            "id": ids,
            "account": [f"HEL-{i:06d}" for i in ids],
            "address": address,
            "address_norm": [n.full for n in normalized],
            "street_norm": [n.street for n in normalized],
            "house_norm": [n.house for n in normalized],
            "postcode": rows.postcode.astype(object).where(rows.postcode.notna(), None),
            "city": CITY,
            "critical": _critical_kinds(rows.tags, rng),
            "customer_name": [
                f"{_FIRST_NAMES[a]} {_LAST_NAMES[b]}"
                for a, b in zip(
                    rng.integers(len(_FIRST_NAMES), size=len(rows)),
                    rng.integers(len(_LAST_NAMES), size=len(rows)),
                    strict=True,
                )
            ],
            "phone": [f"+358 40 000 {i:04d}" for i in ids],
        },
        geometry=rows.geometry.representative_point().to_numpy(),
        crs=WGS84,
    )
    return frame.rename_geometry("geom")


def _clean_street(street: str) -> str:
    """The street of a tag like "Asemahalli, Kaivokatu": OSM puts a venue name first."""
    return street.rsplit(",", 1)[-1].strip()


def _clean_house(house: str, street: str) -> str:
    """The house number of a tag like "13 A, 5. krs./Floor 5" or "Keskuskatu 5".

    Floors and courtyards after the comma do not locate the premise; a repeated street
    name is dropped.
    """
    house = house.split(",", 1)[0].strip()
    return house.removeprefix(f"{street} ").strip()


def _critical_kinds(tags: pd.Series, rng: np.random.Generator) -> list[str | None]:
    """Critical flags from real OSM amenities, plus a few life-support homes picked by seed.

    Life support lives in homes, which OSM cannot tell us about, so the picks come from
    addresses that carry no business tags at all.
    """
    parsed = [json.loads(t) if isinstance(t, str) else {} for t in tags]
    kinds: list[str | None] = [_CRITICAL_BY_AMENITY.get(t.get("amenity", "")) for t in parsed]
    business_keys = {"amenity", "shop", "office", "tourism", "name", "building"}
    homes = [i for i, t in enumerate(parsed) if not business_keys & t.keys()]
    for i in rng.choice(homes, size=LIFE_SUPPORT_PICKS, replace=False):
        kinds[int(i)] = "life_support"
    return kinds
