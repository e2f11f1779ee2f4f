"""Map layers as GeoJSON, one FeatureCollection per layer, for the console and GIS clients.

Readable without login, never with personal data; staff (any logged-in role) also get the
premises' critical flags and the crews' live positions (see ``geo/layers.py``). ``geo``
cannot import ``outages``, so the two registries meet here.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from geo.layers import LAYERS as TERRITORY_LAYERS
from geo.layers import BBox, LayerSpec, get_layer
from geo.models import User
from outages.layers import LAYERS as OUTAGE_LAYERS
from web.deps import SessionDep, lenient_user

router = APIRouter(prefix="/api/v1/layers", tags=["layers"])
GEOJSON = "application/geo+json"
LAYERS: dict[str, LayerSpec] = {**TERRITORY_LAYERS, **OUTAGE_LAYERS}


@router.get("")
def list_layers() -> dict[str, str]:
    """The layer names and what each holds."""
    return {name: spec.description for name, spec in LAYERS.items()}


@router.get(
    "/{name}",
    response_class=Response,
    responses={
        200: {"content": {GEOJSON: {}}, "description": "A GeoJSON FeatureCollection"},
        404: {"description": "Unknown layer; the message lists the known ones"},
        422: {"description": "Malformed bbox"},
    },
)
def layer(
    name: str,
    session: SessionDep,
    user: Annotated[User | None, Depends(lenient_user)],
    bbox: Annotated[
        str | None,
        Query(description="minlon,minlat,maxlon,maxlat: only features meeting this box"),
    ] = None,
) -> Response:
    """One map layer as a GeoJSON FeatureCollection (lon/lat, RFC 7946)."""
    box = BBox.parse(bbox) if bbox is not None else None
    return Response(
        get_layer(session=session, name=name, bbox=box, layers=LAYERS, staff=user is not None),
        media_type=GEOJSON,
    )
