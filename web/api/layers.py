"""Map layers as GeoJSON, one FeatureCollection per layer, for the console and GIS clients.

The territory (roads, feeders, devices, lines, substations, regions) and planned work are
public. The layers with premises, reports, crews or critical flags are staff-only
(``LayerSpec.staff_only``): 401 without a login, 403 for a crew login (where the other crews
and the callers are is for dispatchers, agents and supervisors). ``geo`` cannot import
``outages``, so the two registries meet here.

Weight (docs/feeds.md): each answer has a strong ETag (its content hash) and
``Cache-Control: private, no-cache``, so a polling client revalidates and gets an empty 304
while nothing changed; ``since=<cursor>`` answers only the features that changed. Both come
after the reader check: a caller who may not read a layer gets 401/403, never a 304.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from geo.exceptions import AuthError, Forbidden
from geo.layers import LAYERS as TERRITORY_LAYERS
from geo.layers import BBox, LayerSpec, get_layer, layer_spec
from geo.models import User
from geo.types import Text
from outages.layers import LAYERS as OUTAGE_LAYERS
from web.conditional import conditional
from web.deps import SessionDep, lenient_account
from web.layer_deltas import LayerDeltas

router = APIRouter(prefix="/api/v1/layers", tags=["layers"])
GEOJSON = "application/geo+json"
LAYERS: dict[str, LayerSpec] = {**TERRITORY_LAYERS, **OUTAGE_LAYERS}
# Revalidate every time (the live layers change any second), never from a shared cache:
# staff-only layers must not be served by a proxy to someone else.
CACHE_CONTROL = "private, no-cache"


@router.get("")
def list_layers() -> dict[str, str]:
    """The layer names and what each holds."""
    return {name: spec.description for name, spec in LAYERS.items()}


STAFF_ROLES = ("dispatcher", "agent", "supervisor", "admin")


def _check_reader(name: str, user: User | None) -> None:
    # ``user`` comes from ``lenient_account``: a service account (the CTI) asking for a
    # staff layer is logged in, so it gets 403 naming its role rather than "log in".
    if not layer_spec(name, LAYERS).staff_only:
        return
    if user is None:
        msg = f"layer {name!r} is for staff: log in at POST /api/v1/auth/token"
        raise AuthError(msg)
    if user.role not in STAFF_ROLES:
        msg = f"layer {name!r} is for {', '.join(STAFF_ROLES)}; role {user.role!r} may not read it"
        raise Forbidden(msg)


def _deltas(request: Request) -> LayerDeltas:
    deltas: LayerDeltas = request.app.state.layer_deltas
    return deltas


@router.get(
    "/{name}",
    response_class=Response,
    responses={
        200: {"content": {GEOJSON: {}}, "description": "A GeoJSON FeatureCollection"},
        401: {"description": "A staff-only layer without a (valid) login"},
        304: {"description": "Unchanged since the ETag sent in If-None-Match"},
        403: {"description": "A staff-only layer read with a crew login"},
        404: {"description": "Unknown layer; the message lists the known ones"},
        422: {"description": "Malformed bbox or since"},
    },
)
def layer(
    request: Request,
    name: Annotated[Text, Path(max_length=64)],
    session: SessionDep,
    user: Annotated[User | None, Depends(lenient_account)],
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
    """One map layer as a GeoJSON FeatureCollection (lon/lat, RFC 7946); the layers with
    premises, reports, crews or critical flags need a staff login."""
    _check_reader(name, user)
    box = BBox.parse(bbox) if bbox is not None else None
    body = get_layer(session=session, name=name, bbox=box, layers=LAYERS)
    if since is not None:
        body = _deltas(request).delta(scope=f"{name} {box}", body=body, since=since)
    return conditional(
        request,
        body,
        media_type=GEOJSON,
        cache_control=CACHE_CONTROL,
        headers={"Vary": "Authorization"},
    )
