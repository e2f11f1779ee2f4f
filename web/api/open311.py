"""Open311 GeoReport v2 under ``/open311/v2``, so existing 311 apps can file and track faults.

Requests are filed through ``outages.intake.single.file_report`` with channel ``open311``: they are
located, classified, attached to outages and given an ETR exactly as through the JSON API.
Every answer follows the spec's shapes, in XML (the spec's required format) or JSON (chosen
by the ``.xml`` / ``.json`` suffix), and so does every error of these routes: a list of
``{code, description}`` with the HTTP status in ``code``. The router's own route class does
that conversion, so the API's error handlers stay as they are for every other route.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, replace
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import ValidationError

from geo.exceptions import InvalidInput, NotFound, OutsideTerritory, StormdeskError
from geo.types import EARLIEST, LATEST, IdempotencyKeyText, Text
from outages.exceptions import AddressNotFound
from outages.intake import admit
from outages.intake.single import file_report
from outages.models import CATEGORIES
from outages.reports import ReportQuery, Tracking, track_reports
from outages.schemas import MAX_DESCRIPTION_CHARS, ReportCreate
from web.deps import NowDep, SessionDep, SettingsDep
from web.errors import status_for
from web.settings import Settings

Format = Literal["json", "xml"]
DEFAULT_PAGE_SIZE = 200
RETRY_WINDOW_S = 600
"""How long a repeated POST without an Idempotency-Key is taken for a retry (10-20 min)."""
Record = dict[str, Any]
# The spec's default window and page size for GET requests.
DEFAULT_WINDOW = dt.timedelta(days=90)
MAX_REQUESTS = 1000
# A service_request_id is the report's tracking token (URL-safe base64), never its number.
REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
# Where a list of records sits in XML: <services><service/>..., <errors><error/>...
XML_ITEM = {"services": "service", "service_requests": "request", "errors": "error"}
# Our schema's field names as Open311 callers know them, for error messages.
SPEC_NAMES = {
    "category": "service_code",
    "lon": "long",
    "address": "address_string",
    "account": "address_id",
    "fmt": "format",
}


@dataclass(frozen=True)
class Service:
    """How one report category is offered as an Open311 service."""

    name: str
    group: str
    keywords: str
    description: str


SERVICES: dict[str, Service] = {
    "no_power": Service(
        "No power",
        "Power outage",
        "outage, blackout, power cut, no electricity",
        "The premise has no electricity at all.",
    ),
    "partial_power": Service(
        "Partial power",
        "Power outage",
        "half power, some circuits, dim lights, brownout",
        "Some lights or appliances work and others do not, or lights are very dim.",
    ),
    "flicker": Service(
        "Flickering lights",
        "Power quality",
        "flicker, blinking, voltage, surge",
        "Lights flicker or power drops for moments and comes back.",
    ),
    "wire_down": Service(
        "Wire down",
        "Hazard",
        "fallen wire, power line down, sparking",
        "A power line is down or hanging low. Keep at least 10 m away; call the emergency "
        "number if anyone is in danger.",
    ),
    "pole_damage": Service(
        "Damaged pole",
        "Hazard",
        "pole, leaning pole, broken pole, crossarm",
        "A utility pole is broken, leaning or hit. Keep away from it.",
    ),
    "fire_smoke": Service(
        "Fire or smoke",
        "Hazard",
        "fire, smoke, sparks, burning, transformer",
        "Fire, smoke or sparks from lines, poles or equipment. Call the emergency number first.",
    ),
    "other": Service(
        "Other electrical problem",
        "Other",
        "other, equipment, meter, noise",
        "Any other problem with the electricity network.",
    ),
}


class Open311Error(Exception):
    """An error answered in the spec's format; ``status`` is both HTTP status and ``code``."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _status_of(error: StormdeskError) -> int:
    """Bad input of any kind is a 400 in the spec (the API says 422, or 404 off the map)."""
    if isinstance(error, InvalidInput | OutsideTerritory):
        return 400
    if isinstance(error, NotFound):
        return 404
    return status_for(error)


def _describe(error: StormdeskError) -> str:
    """The message, with an address's suggestions in it: the spec's error has no other field."""
    if isinstance(error, AddressNotFound) and error.suggestions:
        # Several premises (shops, flats) share an address: name each address once.
        addresses = "; ".join(dict.fromkeys(str(s["address"]) for s in error.suggestions))
        return f"{error} Suggestions: {addresses}."
    return str(error)


def _validation_text(errors: Sequence[Any]) -> str:
    parts = []
    for error in errors:
        names = [SPEC_NAMES.get(str(p), str(p)) for p in error["loc"] if p not in ("body", "path")]
        message = str(error["msg"]).removeprefix("Value error, ")
        parts.append(f"{names[-1]}: {message}" if names else message)
    return "; ".join(parts)


def _format_of(request: Request) -> Format:
    return "xml" if request.url.path.endswith(".xml") else "json"


class Open311Route(APIRoute):
    """Answers every error of these routes in the spec's format instead of the API's."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer_errors_per_spec(request: Request) -> Response:
            try:
                return await handler(request)
            except Open311Error as error:
                status, description = error.status, error.description
            except StormdeskError as error:
                status, description = _status_of(error), _describe(error)
            except (RequestValidationError, ValidationError) as error:
                status, description = 400, _validation_text(error.errors())
            body = [{"code": status, "description": description}]
            return _render(_format_of(request), "errors", body, status_code=status)

        return answer_errors_per_spec


router = APIRouter(prefix="/open311/v2", tags=["open311"], route_class=Open311Route)


def _render(
    fmt: Format, root: str, body: list[Record] | Record, *, status_code: int = 200
) -> Response:
    if fmt == "json":
        return JSONResponse(body, status_code=status_code)
    element = ET.Element(root)
    if isinstance(body, list):
        for record in body:
            _fill(ET.SubElement(element, XML_ITEM[root]), record)
    else:
        _fill(element, body)
    return Response(
        ET.tostring(element, encoding="utf-8", xml_declaration=True),
        status_code=status_code,
        media_type="text/xml; charset=utf-8",
    )


def _fill(element: ET.Element, record: Record) -> None:
    for key, value in record.items():
        child = ET.SubElement(element, key)
        if isinstance(value, list):  # a service definition's attributes
            for item in value:
                _fill(ET.SubElement(child, "attribute"), item)
        elif isinstance(value, bool):
            child.text = "true" if value else "false"
        elif value is not None:
            child.text = str(value)


def _service(code: str) -> Record:
    service = SERVICES[code]
    return {
        "service_code": code,
        "service_name": service.name,
        "description": service.description,
        "metadata": False,
        "type": "realtime",
        "keywords": service.keywords,
        "group": service.group,
    }


@router.get("/services.{fmt}")
def list_services(fmt: Format) -> Response:
    """Service types offered: our report categories, grouped into outages and hazards."""
    return _render(fmt, "services", [_service(code) for code in CATEGORIES])


@router.get("/services/{service_code}.{fmt}")
def service_definition(service_code: Annotated[Text, Path(max_length=64)], fmt: Format) -> Response:
    """Definition of one service type; none has extra attributes (metadata is false)."""
    if service_code not in SERVICES:
        msg = f"service_code {service_code!r} was not found: use one of {', '.join(CATEGORIES)}"
        raise Open311Error(404, msg)
    return _render(fmt, "service_definition", {"service_code": service_code, "attributes": []})


async def request_fields(request: Request) -> dict[str, str]:
    """The POST fields: form-encoded as the spec says, or a JSON object.

    Query parameters count too (body fields win), because some clients send them there.
    """
    fields = dict(request.query_params.items())
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = json.loads(await request.body())
        except ValueError as exc:
            raise Open311Error(400, f"the body is not valid JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise Open311Error(400, "the JSON body must be an object of request fields")
        scalars = (str, int, float)
        fields.update({k: str(v) for k, v in body.items() if isinstance(v, scalars)})
    else:
        async with request.form() as form:  # closes any uploaded files (media is not kept)
            fields.update({k: v for k, v in form.items() if isinstance(v, str)})
    return {k: v.strip() for k, v in fields.items() if v.strip()}


def _coordinate(fields: dict[str, str], name: str, bound: float) -> float | None:
    if name not in fields:
        return None
    try:
        value = float(fields[name])
    except ValueError:
        value = float("nan")
    if not -bound <= value <= bound:  # also refuses NaN and infinities
        msg = f"{name}={fields[name]!r} is not a WGS84 coordinate: it must lie within +-{bound:g}"
        raise Open311Error(400, msg)
    return value


POST_FIELDS = {
    "service_code": {"type": "string", "enum": list(CATEGORIES)},
    "lat": {"type": "number", "description": "WGS84; with long"},
    "long": {"type": "number", "description": "WGS84; with lat"},
    "address_string": {"type": "string", "description": "Street address"},
    "address_id": {"type": "string", "description": "Account number of the premise (bill)"},
    "description": {"type": "string", "maxLength": MAX_DESCRIPTION_CHARS},
    "phone": {"type": "string", "description": "Links repeat calls; never shown back"},
}
POST_BODY = {
    "required": ["service_code"],
    "type": "object",
    "properties": POST_FIELDS,
}


@router.post(
    "/requests.{fmt}",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/x-www-form-urlencoded": {"schema": POST_BODY},
                "application/json": {"schema": POST_BODY},
            }
        }
    },
)
def post_request(
    request: Request,
    fmt: Format,
    fields: Annotated[dict[str, str], Depends(request_fields)],
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    idempotency_key: Annotated[
        IdempotencyKeyText | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=128,
            description="Retries with the same key return the first answer and file once.",
        ),
    ] = None,
) -> Response:
    """File a service request; answers its id and a notice with classification and ETR.

    Retries are safe: with an ``Idempotency-Key`` header, as in the JSON API; without one,
    the same fields from the same client within 10 to 20 minutes answer the first request.
    """
    code = fields.get("service_code")
    if code is None:
        raise Open311Error(400, f"service_code is required: one of {', '.join(CATEGORIES)}")
    if code not in SERVICES:
        msg = f"service_code {code!r} was not found: use one of {', '.join(CATEGORIES)}"
        raise Open311Error(400, msg)
    lat = _coordinate(fields, "lat", 90.0)
    lon = _coordinate(fields, "long", 180.0)
    if (lat is None) != (lon is None):
        raise Open311Error(400, "give both lat and long, or neither")
    if lat is None and "address_string" not in fields and "address_id" not in fields:
        msg = (
            "a location is required: give lat and long, an address_string, "
            "or an address_id (the account number on the bill)"
        )
        raise Open311Error(400, msg)
    # email, names, device_id, account_id, media_url and attributes are accepted and not kept:
    # reports store no personal data they do not use (the phone links repeat calls).
    data = ReportCreate.model_validate(
        {
            "category": code,
            "description": fields.get("description"),
            "channel": "open311",
            "lat": lat,
            "lon": lon,
            "address": fields.get("address_string"),
            "account": fields.get("address_id"),
            "phone": fields.get("phone"),
        }
    )
    key, earlier = idempotency_key, None
    if key is None:
        client = request.client.host if request.client else ""
        key, previous = _derived_keys(fields, client, now)
        earlier = admit.stored_answers(session=session, keys=[previous]).get(previous)
    answer = earlier or file_report(
        session=session,
        data=data,
        settings=settings,
        now=now,
        actor="open311",
        is_agent=False,
        idempotency_key=key,
    )
    body = {
        "service_request_id": answer.token,
        "service_notice": answer.message,
        "account_id": None,
    }
    return _render(fmt, "service_requests", [body])


def _derived_keys(fields: dict[str, str], client: str, now: dt.datetime) -> tuple[str, str]:
    """The retry keys of a POST without ``Idempotency-Key``: this window's and the last's."""
    request = json.dumps([sorted(fields.items()), client])
    window = int(now.timestamp()) // RETRY_WINDOW_S
    current, previous = (
        "open311:" + hashlib.sha256(f"{w}|{request}".encode()).hexdigest()[:40]
        for w in (window, window - 1)
    )
    return current, previous


def _w3c(moment: dt.datetime | None, settings: Settings) -> str | None:
    """Local time with its offset, as the spec's W3C date format asks."""
    if moment is None:
        return None
    return moment.astimezone(ZoneInfo(settings.timezone)).isoformat(timespec="seconds")


def _service_request(tracking: Tracking, settings: Settings) -> Record:
    """A report in the spec's shape, from the same tracking view as the JSON API.

    GET answers are public, so the spec's optional personal fields are withheld:
    ``description`` (free text may hold callers' names or numbers) and ``address`` (who
    called from where); ``lat``/``long`` are the outage's point, not the caller's. The phone
    and account are never shown. The id is the report's random token: numbers are staff's.
    """
    read = tracking.read
    return {
        "service_request_id": read.token,
        "status": "open" if read.status == "open" else "closed",
        "status_notes": read.message,
        "service_name": SERVICES[read.category].name,
        "service_code": read.category,
        "description": None,
        "agency_responsible": tracking.agency,
        "service_notice": tracking.notice,
        "requested_datetime": _w3c(read.received_at, settings),
        "updated_datetime": _w3c(tracking.updated_at, settings),
        "expected_datetime": _w3c(tracking.expected_at, settings),
        "address": None,
        "lat": tracking.lat,
        "long": tracking.lon,
        "media_url": None,
    }


@router.get("/requests/{service_request_id}.{fmt}")
def get_request(
    service_request_id: Annotated[Text, Path(max_length=64)],
    fmt: Format,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """One service request (a one-element list, as the spec says) with its status and ETR."""
    found = (
        track_reports(
            session=session,
            query=ReportQuery(tokens=[service_request_id], limit=1),
            settings=settings,
        )
        if REQUEST_ID.fullmatch(service_request_id)
        else []
    )
    if not found:
        raise Open311Error(404, f"service_request_id {service_request_id!r} was not found")
    return _render(fmt, "service_requests", [_service_request(found[0], settings)])


def _comma_list(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _date(value: str | None, name: str) -> dt.datetime | None:
    """A W3C datetime with its offset; a bare date means midnight UTC."""
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is not None and moment.tzinfo is None and len(value) == len("2010-01-01"):
        moment = moment.replace(tzinfo=dt.UTC)
    if moment is None or moment.tzinfo is None:
        msg = f"{name}={value!r} is not a W3C datetime with an offset, e.g. 2010-01-01T00:00:00Z"
        raise Open311Error(400, msg)
    if not EARLIEST + DEFAULT_WINDOW <= moment <= LATEST - DEFAULT_WINDOW:
        msg = f"{name}={value!r} is out of range: give a date between 1901 and 2998"
        raise Open311Error(400, msg)
    return moment


def _window(
    start: dt.datetime | None, end: dt.datetime | None, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """The spec's rule: at most 90 days, the most recent 90 by default."""
    if start is None and end is None:
        return now - DEFAULT_WINDOW, now
    if start is None:
        assert end is not None
        return end - DEFAULT_WINDOW, end
    if end is None:
        return start, start + DEFAULT_WINDOW
    if end < start:
        raise Open311Error(400, "end_date is before start_date")
    if end - start > DEFAULT_WINDOW:
        raise Open311Error(400, "start_date and end_date may not span more than 90 days")
    return start, end


@router.get("/requests.{fmt}")
def list_requests(
    request: Request,
    fmt: Format,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    service_request_id: Annotated[
        Text | None,
        Query(max_length=40_000, description="Comma-separated ids; overrides all other filters"),
    ] = None,
    service_code: Annotated[
        Text | None, Query(max_length=1000, description="Comma-separated codes")
    ] = None,
    start_date: Annotated[
        Text | None, Query(max_length=64, description="W3C datetime, e.g. 2026-11-01T00:00:00Z")
    ] = None,
    end_date: Annotated[
        Text | None, Query(max_length=64, description="W3C datetime; at most 90 days after start")
    ] = None,
    status: Annotated[
        Text | None, Query(max_length=64, description="open, closed or open,closed")
    ] = None,
    page: Annotated[int, Query(ge=1, le=10_000, description="Page number, from 1.")] = 1,
    page_size: Annotated[
        int, Query(ge=1, le=MAX_REQUESTS, description="Requests per page (at most 1000).")
    ] = DEFAULT_PAGE_SIZE,
) -> Response:
    """Service requests, newest first: by ids, or by codes, status and dates (90 days), a
    page at a time (``page``, ``page_size``; a full page links the next in ``Link``)."""
    query = _query(service_request_id, service_code, start_date, end_date, status, now)
    if query.ids is None:
        query = replace(query, limit=page_size, offset=(page - 1) * page_size)
    found = track_reports(session=session, query=query, settings=settings)
    response = _render(fmt, "service_requests", [_service_request(t, settings) for t in found])
    if query.ids is None and len(found) == page_size:
        following = request.url.include_query_params(page=page + 1, page_size=page_size)
        response.headers["Link"] = f'<{following}>; rel="next"'
    return response


def _query(
    service_request_id: str | None,
    service_code: str | None,
    start_date: str | None,
    end_date: str | None,
    status: str | None,
    now: dt.datetime,
) -> ReportQuery:
    """The spec's filters as a query: ids override the others; at most 1000 requests."""
    ids = _comma_list(service_request_id)
    if ids:
        if not all(REQUEST_ID.fullmatch(i) for i in ids) or len(ids) > MAX_REQUESTS:
            msg = (
                f"service_request_id must be up to {MAX_REQUESTS} ids (as answered when "
                "filing) separated by commas"
            )
            raise Open311Error(400, msg)
        return ReportQuery(tokens=ids, limit=MAX_REQUESTS)
    codes = _comma_list(service_code)
    unknown = sorted(set(codes) - set(SERVICES))
    if unknown:
        msg = f"service_code {', '.join(unknown)} not found: use {', '.join(CATEGORIES)}"
        raise Open311Error(400, msg)
    statuses = set(_comma_list(status))
    if not statuses <= {"open", "closed"}:
        raise Open311Error(400, f"status={status!r}: use open, closed or open,closed")
    start, end = _window(_date(start_date, "start_date"), _date(end_date, "end_date"), now)
    return ReportQuery(
        categories=codes,
        received_from=start,
        received_to=end,
        is_open=None if len(statuses) != 1 else statuses == {"open"},
        limit=MAX_REQUESTS,
    )
