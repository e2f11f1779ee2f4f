"""The whole installation's settings, composed from the domains' (see ``geo.settings``)."""

from __future__ import annotations

from pydantic import Field

from hotline.settings import HotlineSettings


class Settings(HotlineSettings):
    """Runtime configuration of one stormdesk installation: every domain's knobs plus the
    web app's own."""

    max_inflight_requests: int = Field(
        default=24,
        description=(
            "Requests inside the app at once per worker: keep it below the database pool "
            "(10 + 20) and anyio's 40 threads (see web/admission.py)."
        ),
    )
    intake_slots: int = Field(
        default=200,
        ge=1,
        description="Single reports (POST /api/v1/reports) inside the app at once per worker "
        "while group commit is on. They wait for the group writer on the event loop, holding "
        "no thread and no connection, so the writer's next group takes all that came in while "
        "it wrote the last: with the 24 main slots a storm's groups were 24 and the writer and "
        "the requests took turns (bench/RESULTS.md). Without group commit they take main slots.",
    )
    freeze_startup_heap: bool = Field(
        default=True,
        description="Once the worker's caches are loaded (the writer's trees, the region "
        "index, the status memory), move them out of the cyclic garbage collector "
        "(gc.freeze, web/heap.py): in a storm its full collections walked them every 0.7 s "
        "for 220-260 ms, the GIL held.",
    )
    health_slots: int = Field(
        default=2, description="Requests to /healthz inside the app at once, beside the others."
    )
    public_read_slots: int = Field(
        default=4,
        description="Cheap public reads (status, geocode, locate) inside the app at once, "
        "beside the others: a flood of other requests does not starve them.",
    )
    public_map_cache_s: float = Field(
        default=20.0,
        ge=0,
        description="How long a worker serves the public outage map's answer again (0: never): "
        "every viewer of a storm asks each minute, and the answer is the same for all.",
    )
    region_quotas: bool = Field(
        default=True,
        description="Share the admission slots of region_quota_lanes by supply region "
        "(web/region_quota.py): each region keeps a guaranteed share in another's surge.",
    )
    region_quota_lanes: list[str] = Field(
        default_factory=lambda: ["main", "public", "intake"],
        description="Lanes (main, public, intake, health) whose slots are shared by region "
        "(public: status lookups by account or point; intake: single reports); a lane with "
        "fewer slots than regions + 1 pools its smallest regions into the other share, one "
        "with a single slot keeps a plain limit.",
    )
    region_lendable_share: float = Field(
        default=0.5, ge=0, le=1, description="Share of a region's seats it lends while idle."
    )
    region_borrowing_share: float = Field(
        default=10.0,
        ge=0,
        description="Seats a region may borrow, as a multiple of its own (10: all that is lent).",
    )
    region_queue_limit: int = Field(
        default=200, ge=1, description="Requests of one region waiting at most; then 429."
    )
    status_memory: bool = Field(
        default=True,
        description="Answer status lookups by account from memory per worker "
        "(dispatch/status_memory.py), reloaded on NOTIFY within about a second; the "
        "database answers while the memory is loading or its listener is disconnected.",
    )
    status_memory_history_h: float = Field(
        default=24.0,
        gt=0,
        description="Hours of restorations and planned work the status memory holds: "
        "lookups at clocks older than this less restored_recently_h ask the database.",
    )
    status_memory_min_interval_s: float = Field(
        default=0.5,
        ge=0,
        description="Least seconds between two reloads of the status memory (notices in "
        "between are coalesced): bounds the reload work in a storm of changes.",
    )
    max_body_bytes: int = Field(default=2_000_000, description="Largest request body.")
    max_batch_body_bytes: int = Field(
        default=20_000_000, description="Largest body of POST /api/v1/reports/batch."
    )
    max_json_keys: int = Field(
        default=10_000, description="Most keys a JSON body may hold (all objects together)."
    )
    max_batch_json_keys: int = Field(
        default=200_000, description="Most keys a report batch may hold (10,000 reports)."
    )
    body_timeout_s: float = Field(
        default=10.0,
        description="Seconds a request body may take to arrive, plus its size over "
        "min_body_rate_bps: a slower body is answered 408.",
    )
    min_body_rate_bps: float = Field(
        default=50_000.0, description="Bytes per second a large body must keep up."
    )
    header_timeout_s: float = Field(
        default=10.0,
        description="Seconds a connection may take to send a request's headers (stormdesk "
        "serve closes it after that, idle or trickling).",
    )
    keep_alive_s: float = Field(
        default=5.0, description="Seconds an idle keep-alive connection stays open."
    )
    cycle_interval_s: float = Field(
        default=15.0,
        description="Seconds between dispatch cycles in the web app (0 turns them off).",
    )
