"""Map layers as GeoJSON, one FeatureCollection per layer, for the console and GIS clients.

Readable without login, never with personal data; staff (any logged-in role) also get the
premises' critical flags and the crews' live positions (see ``geo/layers.py``). ``geo``
cannot import ``outages``, so the two registries meet here.

Weight (docs/feeds.md): each answer has a strong ETag (its content hash) and
``Cache-Control: private, no-cache``, so a polling client revalidates and gets an empty 304
while nothing changed; ``since=<cursor>`` answers only the features that changed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from geo.layers import LAYERS as TERRITORY_LAYERS
from geo.layers import BBox, LayerSpec, get_layer
from geo.models import User
from geo.types import Text
from outages.layers import LAYERS as OUTAGE_LAYERS
from web.conditional import conditional
from web.deps import SessionDep, lenient_user
from web.layer_deltas import LayerDeltas

router = APIRouter(prefix="/api/v1/layers", tags=["layers"])
GEOJSON = "application/geo+json"
LAYERS: dict[str, LayerSpec] = {**TERRITORY_LAYERS, **OUTAGE_LAYERS}
# Revalidate every time (the live layers change any second), never in a shared cache:
# staff and the public see different content at one URL.
CACHE_CONTROL = "private, no-cache"


@router.get("")
def list_layers() -> dict[str, str]:
    """The layer names and what each holds."""
    return {name: spec.description for name, spec in LAYERS.items()}


def _staff(user: User | None) -> bool:
    return user is not None and user.role != "crew"


def _deltas(request: Request) -> LayerDeltas:
    deltas: LayerDeltas = request.app.state.layer_deltas
    return deltas


@router.get(
    "/{name}",
    response_class=Response,
    responses={
        200: {"content": {GEOJSON: {}}, "description": "A GeoJSON FeatureCollection"},
        304: {"description": "Unchanged since the ETag sent in If-None-Match"},
        404: {"description": "Unknown layer; the message lists the known ones"},
        422: {"description": "Malformed bbox or since"},
    },
)
def layer(
    request: Request,
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
    since: Annotated[
        Text | None,
        Query(
            pattern="^([0-9a-f]{32}|0)$",
            description="A cursor from an earlier answer (or 0 to start): only what "
            "changed since, plus the ids removed (docs/feeds.md)",
        ),
    ] = None,
) -> Response:
    """One map layer as a GeoJSON FeatureCollection (lon/lat, RFC 7946)."""
    box = BBox.parse(bbox) if bbox is not None else None
    staff = _staff(user)
    # Crews are staff, but where the other crews are is for dispatchers and agents.
    body = get_layer(session=session, name=name, bbox=box, layers=LAYERS, staff=staff)
    if since is not None:
        scope = f"{name} {'staff' if staff else 'public'} {box}"
        body = _deltas(request).delta(scope=scope, body=body, since=since)
    return conditional(
        request,
        body,
        media_type=GEOJSON,
        cache_control=CACHE_CONTROL,
        headers={"Vary": "Authorization"},
    )
