"""Open feeds for anyone (docs/feeds.md): the GeoJSON outage feed, CAP alerts, iCalendar.

Public and without personal data by construction (outages/feeds/). Each answer carries a
strong ETag and a short ``Cache-Control``; the app keeps a built feed ``feed_cache_s``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from geo.exceptions import NotFound
from geo.types import INT32_MAX, Text
from outages.feeds.cap import alert_xml, atom_index, cap_alerts
from outages.feeds.geojson import outage_feed
from outages.feeds.ical import calendar_scope, planned_calendar
from web.conditional import conditional
from web.deps import NowDep, SessionDep, SettingsDep
from web.feed_cache import FeedCache

router = APIRouter(prefix="/feeds", tags=["feeds"])
GEOJSON = "application/geo+json"
ATOM = "application/atom+xml"
CAP = "application/cap+xml"
ICS = "text/calendar"


def _cache(request: Request) -> FeedCache:
    cache: FeedCache = request.app.state.feed_cache
    return cache


def _cache_control(settings: SettingsDep) -> str:
    return f"public, max-age={settings.feed_max_age_s}"


@router.get(
    "/outages.geojson",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}}, "description": "GeoJSON FeatureCollection"}},
)
def outages_geojson(
    request: Request, session: SessionDep, settings: SettingsDep, now: NowDep
) -> Response:
    """Current outages and planned work under way, as generalized areas (docs/feeds.md)."""
    built = _cache(request).get(
        "outages.geojson",
        now,
        settings.feed_cache_s,
        lambda: outage_feed(session=session, now=now, settings=settings),
    )
    return conditional(
        request, built.body, media_type=GEOJSON, cache_control=_cache_control(settings)
    )


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@router.get(
    "/cap.xml",
    response_class=Response,
    responses={200: {"content": {ATOM: {}}, "description": "Atom index of CAP alerts"}},
)
def cap_index(
    request: Request, session: SessionDep, settings: SettingsDep, now: NowDep
) -> Response:
    """The standing CAP 1.2 alerts (planned work, major outages) as an Atom index."""
    base = _base_url(request)

    def build() -> str:
        alerts = cap_alerts(session=session, now=now, settings=settings)
        return atom_index(alerts, settings=settings, now=now, base_url=base).decode()

    built = _cache(request).get(f"cap.xml {base}", now, settings.feed_cache_s, build)
    return conditional(request, built.body, media_type=ATOM, cache_control=_cache_control(settings))


@router.get(
    "/cap/{alert_key}.xml",
    response_class=Response,
    responses={
        200: {"content": {CAP: {}}, "description": "One CAP 1.2 alert"},
        404: {"description": "No such alert standing now"},
    },
)
def cap_alert(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    alert_key: Annotated[Text, Path(pattern=r"^(planned|outage)-[0-9]{1,10}$", max_length=20)],
) -> Response:
    """One standing CAP 1.2 alert, e.g. ``planned-3`` or ``outage-12``."""
    base = _base_url(request)

    def build() -> str:
        alerts = {a.key: a for a in cap_alerts(session=session, now=now, settings=settings)}
        alert = alerts.get(alert_key)
        if alert is None:
            return ""
        return alert_xml(alert, settings=settings, web_url=f"{base}/outages").decode()

    built = _cache(request).get(f"cap/{alert_key} {base}", now, settings.feed_cache_s, build)
    if not built.body:
        msg = f"no standing alert {alert_key!r}: see /feeds/cap.xml for the current ones"
        raise NotFound(msg)
    return conditional(request, built.body, media_type=CAP, cache_control=_cache_control(settings))


@router.get(
    "/planned.ics",
    response_class=Response,
    responses={
        200: {"content": {ICS: {}}, "description": "An RFC 5545 calendar"},
        404: {"description": "Unknown premise, feeder or region"},
        422: {"description": "Not exactly one of premise, address, lon/lat, feeder, region"},
    },
)
def planned_ics(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    premise: Annotated[int | None, Query(ge=1, le=INT32_MAX)] = None,
    address: Annotated[Text | None, Query(min_length=1, max_length=300)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180, allow_inf_nan=False)] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90, allow_inf_nan=False)] = None,
    feeder: Annotated[Text | None, Query(min_length=1, max_length=64)] = None,
    region: Annotated[Text | None, Query(min_length=1, max_length=64)] = None,
) -> Response:
    """Planned work for one premise (id, address or point), feeder or region, as iCalendar."""
    scope = calendar_scope(
        session=session,
        settings=settings,
        premise=premise,
        address=address,
        lonlat=(lon, lat),
        feeder=feeder,
        region=region,
    )
    body = planned_calendar(session=session, scope=scope, now=now, host=request.url.hostname or "")
    return conditional(
        request,
        body.decode(),
        media_type=ICS,
        cache_control=_cache_control(settings),
    )
