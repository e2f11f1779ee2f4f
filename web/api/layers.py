"""Map layers as GeoJSON, one FeatureCollection per layer, for the console and GIS clients.

Readable without login, never with personal data; staff (any logged-in role) also get the
premises' critical flags and the crews' live positions (see ``geo/layers.py``). ``geo``
cannot import ``outages``, so the two registries meet here.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from geo.layers import LAYERS as TERRITORY_LAYERS
from geo.layers import BBox, LayerSpec, get_layer
from geo.models import User
from geo.types import Text
from outages.layers import LAYERS as OUTAGE_LAYERS
from web.deps import SessionDep, lenient_user

router = APIRouter(prefix="/api/v1/layers", tags=["layers"])
GEOJSON = "application/geo+json"
LAYERS: dict[str, LayerSpec] = {**TERRITORY_LAYERS, **OUTAGE_LAYERS}


@router.get("")
def list_layers() -> dict[str, str]:
    """The layer names and what each holds."""
    return {name: spec.description for name, spec in LAYERS.items()}


def _staff(user: User | None) -> bool:
    return user is not None and user.role != "crew"


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
    name: Annotated[Text, Path(max_length=64)],
    session: SessionDep,
    user: Annotated[User | None, Depends(lenient_user)],
    bbox: Annotated[
        Text | None,
        Query(
            max_length=200,
            description="minlon,minlat,maxlon,maxlat: only features meeting this box",
        ),
    ] = None,
) -> Response:
    """One map layer as a GeoJSON FeatureCollection (lon/lat, RFC 7946)."""
    box = BBox.parse(bbox) if bbox is not None else None
    return Response(
        # Crews are staff, but where the other crews are is for dispatchers and agents.
        get_layer(session=session, name=name, bbox=box, layers=LAYERS, staff=_staff(user)),
        media_type=GEOJSON,
    )
