"""The batch path answers and stores exactly what filing the same reports one by one does."""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from geo.auth import create_user
from geo.exceptions import InvalidInput
from geo.models import Device, Premise
from outages.exceptions import AddressNotFound
from outages.intake.batch import file_batch
from outages.intake.single import file_report
from outages.models import Report
from outages.planned import create_planned
from outages.schemas import BatchItemError, BatchReport, PlannedOutageCreate, ReportAnswer
from outages.service import open_outage
from tests.outages.helpers import NOW, fuse_with_transformers, premises_of
from web.settings import Settings

Answer = ReportAnswer | BatchItemError
ACTOR = "agent-x"


@contextmanager
def rolled_back(engine: Engine) -> Iterator[Session]:
    """A session of its own, rolled back at the end: every run starts from the same state."""
    with engine.connect() as connection:
        transaction = connection.begin()
        session = Session(bind=connection, join_transaction_mode="create_savepoint")
        try:
            yield session
        finally:
            session.close()
            transaction.rollback()


def _item(**fields: Any) -> BatchReport:
    return BatchReport.model_validate(fields)


def prelude(session: Session, settings: Settings) -> list[BatchReport]:
    """State the batch meets (a planned outage, a tripped device, earlier reports), and the
    scenario: a few hundred reports of every kind, in a fixed order."""
    rng = random.Random(7)
    _, transformers = fuse_with_transformers(session, minimum=3)
    below = {t: premises_of(session, t) for t in transformers}
    everyone = list(session.scalars(select(Premise).order_by(Premise.id)))
    elsewhere = [p for p in everyone if p.transformer_id not in below]
    # Planned work on one transformer away from the fuse, covering now.
    planned_on = next(p.transformer_id for p in elsewhere if p.transformer_id is not None)
    create_planned(
        session=session,
        data=PlannedOutageCreate(
            reason="cable replacement",
            starts_at=NOW - dt.timedelta(hours=1),
            ends_at=NOW + dt.timedelta(hours=2),
            devices=[session.scalar(select(Device.code).where(Device.id == planned_on)) or ""],
        ),
        settings=settings,
        now=NOW - dt.timedelta(days=3),
        actor="dispatcher",
    )
    in_planned = [p for p in elsewhere if p.transformer_id == planned_on]
    others = [p for p in elsewhere if p.transformer_id not in (planned_on, None)]
    # A tripped transformer (confirmed) away from the fuse: its callers are known.
    tripped = others[-1].transformer_id
    open_outage(
        session=session,
        device_code=session.scalar(select(Device.code).where(Device.id == tripped)) or "",
        cause="storm",
        confirmed=True,
        settings=settings,
        now=NOW - dt.timedelta(minutes=20),
        actor="dispatcher",
    )
    in_tripped = [p for p in others if p.transformer_id == tripped]
    others = [p for p in others if p.transformer_id != tripped]
    # Earlier reports: a suspected outage below the fuse, a flicker call with a phone.
    last_transformer = transformers[-1]
    earlier_phone = "+358 40 555 0001"
    for data in (
        {"account": below[last_transformer][0].account, "category": "no_power"},
        {"account": others[0].account, "category": "flicker", "phone": earlier_phone},
    ):
        file_report(
            session=session,
            data=BatchReport.model_validate(data),
            settings=settings,
            now=NOW - dt.timedelta(minutes=10),
            actor=ACTOR,
            is_agent=True,
        )
    by_phone = (
        session.execute(
            text(
                "SELECT phone FROM premise WHERE phone IS NOT NULL GROUP BY phone "
                "HAVING count(*) = 1 ORDER BY phone LIMIT 3"
            )
        )
        .scalars()
        .all()
    )
    far_point = session.execute(
        text(
            "SELECT ST_X(g), ST_Y(g) FROM (SELECT (ST_Dump(ST_GeneratePoints(geom, 200, 5))).geom "
            "AS g FROM feeder) pts WHERE NOT EXISTS (SELECT 1 FROM premise p "
            "WHERE ST_DWithin(p.geom::geography, g::geography, 70)) ORDER BY 1, 2 LIMIT 2"
        )
    ).all()
    assert far_point, "the scenario wants a point in a feeder area far from every premise"

    def lonlat(premise: Premise) -> tuple[float, float]:
        row = session.execute(
            text("SELECT ST_X(geom), ST_Y(geom) FROM premise WHERE id = :id"), {"id": premise.id}
        ).one()
        return float(row[0]), float(row[1])

    items: list[BatchReport] = []
    # Callers below the fuse: enough to roll transformer outages up to it.
    for t in transformers:
        for p in below[t][:5]:
            items.append(_item(account=p.account, category="no_power", channel="phone"))
    items.append(_item(account=below[transformers[0]][0].account, category="wire_down"))
    items.append(_item(account=below[transformers[1]][1].account, category="partial_power"))
    # Planned work, the tripped transformer, hazards and flicker elsewhere.
    items += [_item(account=p.account, category="no_power") for p in in_planned[:3]]
    items += [_item(account=p.account, category="no_power") for p in in_tripped[:3]]
    items.append(_item(account=others[1].account, category="pole_damage"))
    items.append(_item(account=others[2].account, category="flicker"))
    items.append(_item(account=others[2].account, category="flicker"))
    # The same phone from two premises; and the earlier caller's phone from a third.
    items.append(_item(account=others[3].account, category="other", phone="+358 40 555 0002"))
    items.append(_item(account=others[4].account, category="other", phone="+358 40 555 0002"))
    items.append(_item(account=others[5].account, category="flicker", phone=earlier_phone))
    # Points: on a premise, far from any premise, outside the territory, bad coordinates.
    lon, lat = lonlat(others[6])
    items.append(_item(lon=lon, lat=lat, category="no_power", channel="app"))
    for x, y in far_point:
        items.append(_item(lon=float(x), lat=float(y), category="no_power", channel="app"))
    items.append(_item(lon=10.0, lat=50.0, category="no_power"))
    # Addresses: exact, unmatched (an error), unlocated by an agent.
    items.append(_item(address=others[7].address, category="no_power"))
    items.append(_item(address="Nowhere Street 9999", category="no_power"))
    items.append(_item(address="Somewhere Unknown 1", category="no_power", allow_unlocated=True))
    # Phones only (agents may), an unknown account.
    items += [_item(phone=phone, category="no_power", channel="sms") for phone in by_phone]
    items.append(_item(account="NOPE-1", category="no_power"))
    # Idempotency: a retry inside the batch; a key whose first use fails to locate.
    items.append(_item(account=others[8].account, category="no_power", idempotency_key="k-1"))
    items.append(_item(account="NOPE-2", category="no_power", idempotency_key="k-2"))
    items.append(_item(account=others[8].account, category="no_power", idempotency_key="k-1"))
    items.append(_item(account=others[9].account, category="no_power", idempotency_key="k-2"))
    # Volume: callers all over the grid, some twice.
    crowd = rng.sample(others[10:], min(250, len(others) - 10))
    categories = ["no_power"] * 4 + ["partial_power", "wire_down"] + ["flicker", "other"] * 2
    for p in crowd:
        phone = f"+358 50 {rng.randrange(100):03d} 0000" if rng.random() < 0.2 else None
        items.append(_item(account=p.account, category=rng.choice(categories), phone=phone))
    items += [
        _item(account=p.account, category=rng.choice(["flicker", "other", "no_power"]))
        for p in rng.sample(crowd, 60)
    ]
    return items


def file_one_by_one(
    session: Session, settings: Settings, items: Sequence[BatchReport]
) -> list[Answer]:
    answers: list[Answer] = []
    for i, item in enumerate(items):
        try:
            answers.append(
                file_report(
                    session=session,
                    data=item,
                    settings=settings,
                    now=NOW,
                    actor=ACTOR,
                    is_agent=True,
                    idempotency_key=item.idempotency_key,
                )
            )
        except InvalidInput as exc:
            answers.append(
                BatchItemError(
                    index=i,
                    status_code=422,
                    error=type(exc).__name__,
                    detail=str(exc),
                    suggestions=exc.suggestions if isinstance(exc, AddressNotFound) else [],
                )
            )
    return answers


class Ranks:
    """Ids replaced by their rank in their table: sequences are not transactional, but
    both paths create rows in the same order."""

    def __init__(self, session: Session) -> None:
        self.ids = {
            table: {
                i: n
                for n, i in enumerate(
                    session.execute(text(f"SELECT id FROM {table} ORDER BY id")).scalars()
                )
            }
            for table in ("report", "outage", "planned_outage")
        }

    def __call__(self, table: str, value: int | None) -> int | None:
        return None if value is None else self.ids[table][value]

    def text(self, message: str) -> str:
        return re.sub(r"#(\d+)", lambda m: f"#R{self('report', int(m.group(1)))}", message)

    def explanation(self, explanation: dict[str, Any]) -> dict[str, Any]:
        out = dict(explanation)
        for key, table in (("reports", "report"), ("merged_outages", "outage")):
            if key in out:
                out[key] = [self(table, i) for i in out[key]]
        return out


def canonical_answers(session: Session, answers: Sequence[Answer]) -> list[tuple[Any, ...]]:
    rank = Ranks(session)
    out: list[tuple[Any, ...]] = []
    for a in answers:
        if isinstance(a, BatchItemError):
            out.append(("error", a.error, a.detail, len(a.suggestions)))
            continue
        out.append(
            (
                rank("report", a.id),
                a.classification,
                rank("outage", a.outage_id),
                rank("planned_outage", a.planned_outage_id),
                rank("report", a.duplicate_of),
                a.region,
                a.feeder,
                a.etr,
                a.hazard,
                a.received_at,
                rank.text(a.message),
            )
        )
    return out


def canonical_state(session: Session) -> dict[str, Any]:
    rank = Ranks(session)
    outages = [
        (
            rank("outage", r.id),
            r.status,
            r.device_id,
            r.feeder_id,
            r.region_id,
            r.customers_affected,
            r.critical_affected,
            r.hazard,
            rank("outage", r.merged_into_id),
            r.started_at,
            r.etr_at,
            r.cause,
            rank.explanation(r.explanation),
            r.area_m2,
        )
        for r in session.execute(
            text("SELECT *, round(ST_Area(geom::geography)) AS area_m2 FROM outage ORDER BY id")
        )
    ]
    reports = [
        (
            rank("report", r.id),
            r.classification,
            rank("outage", r.outage_id),
            rank("planned_outage", r.planned_outage_id),
            rank("report", r.duplicate_of_id),
            r.premise_id,
            r.region_id,
            r.feeder_id,
            r.located_by,
            r.category,
            r.channel,
            r.hazard,
            r.caller_phone,
            r.caller_account,
            r.address_text,
            r.idempotency_key,
            r.status,
            r.filed_by,
            r.received_at,
            r.wkt,
            rank.text(r.answer["message"]),
            rank("outage", r.answer.get("outage_id")),
        )
        for r in session.execute(text("SELECT *, ST_AsText(geom) AS wkt FROM report ORDER BY id"))
    ]
    affected = sorted(
        (rank("outage", o), p, restored is None)
        for o, p, restored in session.execute(
            text("SELECT outage_id, premise_id, restored_at FROM outage_premise")
        )
    )
    etr_changes = sorted(
        (rank("outage", r.outage_id), r.source, r.previous_etr_at, r.etr_at, r.reason, r.actor)
        for r in session.execute(text("SELECT * FROM etr_change"))
    )
    events = Counter(
        (r.action, r.object_type, r.actor)
        for r in session.execute(text("SELECT action, object_type, actor FROM event"))
    )
    return {
        "outages": outages,
        "reports": reports,
        "affected": affected,
        "etr_changes": etr_changes,
        "events": events,
    }


def run(
    engine: Engine,
    settings: Settings,
    file: Callable[[Session, list[BatchReport]], list[Answer]],
) -> tuple[list[tuple[Any, ...]], dict[str, Any]]:
    with rolled_back(engine) as session:
        items = prelude(session, settings)
        answers = file(session, items)
        session.flush()
        return canonical_answers(session, answers), canonical_state(session)


def _batch(settings: Settings, *, splits: int = 1) -> Callable[..., list[Answer]]:
    def file(session: Session, items: list[BatchReport]) -> list[Answer]:
        answers: list[Answer] = []
        size = -(-len(items) // splits)
        for start in range(0, len(items), size):
            chunk = file_batch(
                session=session,
                items=items[start : start + size],
                settings=settings,
                now=NOW,
                actor=ACTOR,
                is_agent=True,
            )
            # Error entries name their index in the request; the comparison drops it.
            answers += chunk
        return answers

    return file


def _same(one: Any, other: Any) -> None:
    for key in one:
        if one[key] != other[key]:
            for n, (a, b) in enumerate(zip(one[key], other[key], strict=False)):
                assert a == b, f"{key}[{n}] differs"
            assert one[key] == other[key], key


@pytest.fixture(scope="module")
def single_run(engine: Engine, settings: Settings) -> tuple[list[tuple[Any, ...]], Any]:
    return run(engine, settings, lambda s, items: file_one_by_one(s, settings, items))


def test_batch_answers_and_stores_what_the_single_path_does(
    engine: Engine, settings: Settings, single_run: tuple[list[tuple[Any, ...]], Any]
) -> None:
    single_answers, single_state = single_run
    batch_answers, batch_state = run(engine, settings, _batch(settings))
    assert len(batch_answers) == len(single_answers)
    for n, (a, b) in enumerate(zip(single_answers, batch_answers, strict=True)):
        assert a == b, f"answer {n} differs"
    _same(single_state, batch_state)
    kinds = Counter("error" if a[0] == "error" else a[1] for a in single_answers)
    # The scenario exercises every branch (else this test proves less than it claims).
    assert {"new", "known", "duplicate", "planned", "unlocated", "error"} <= set(kinds), kinds
    assert any(o[12].get("rule") == "roll-up" for o in single_state["outages"])
    assert any(o[1] == "merged" for o in single_state["outages"])


@pytest.mark.parametrize("splits", [2, 40])
def test_consecutive_batches_answer_as_one(
    engine: Engine,
    settings: Settings,
    single_run: tuple[list[tuple[Any, ...]], Any],
    splits: int,
) -> None:
    """Later batches roll up and merge outages earlier ones opened, whose affected
    premises they read only when they change them."""
    single_answers, single_state = single_run
    split_answers, split_state = run(engine, settings, _batch(settings, splits=splits))
    assert split_answers == single_answers
    _same(single_state, split_state)


def test_batch_replays_stored_keys(db_session: Session, settings: Settings) -> None:
    premise = db_session.scalars(select(Premise).order_by(Premise.id).limit(1)).one()
    item = _item(account=premise.account, category="no_power", idempotency_key="gw-1")
    kwargs: dict[str, Any] = {"settings": settings, "now": NOW, "actor": ACTOR, "is_agent": True}
    first = file_batch(session=db_session, items=[item], **kwargs)
    again = file_batch(session=db_session, items=[item, item], **kwargs)
    single = file_report(
        session=db_session, data=item, idempotency_key="gw-1", **kwargs | {"now": NOW}
    )
    assert again == [first[0], first[0]] and single == first[0]
    assert db_session.scalar(select(func.count()).select_from(Report)) == 1


def test_bad_batches_are_refused_whole(db_session: Session, settings: Settings) -> None:
    kwargs: dict[str, Any] = {"settings": settings, "now": NOW, "actor": "public"}
    with pytest.raises(InvalidInput, match="empty"):
        file_batch(session=db_session, items=[], is_agent=False, **kwargs)
    unlocated = _item(address="Somewhere 1", category="other", allow_unlocated=True)
    with pytest.raises(InvalidInput, match=r"reports 0"):
        file_batch(session=db_session, items=[unlocated], is_agent=False, **kwargs)
    assert db_session.scalar(select(func.count()).select_from(Report)) == 0


Headers = dict[str, str]


@pytest.fixture
def agent(client: TestClient, db_session: Session) -> Headers:
    create_user(session=db_session, username="gateway", role="agent", password="lantern-quartz-41")
    token = client.post(
        "/api/v1/auth/token", data={"username": "gateway", "password": "lantern-quartz-41"}
    ).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def _count(db_session: Session) -> int:
    return int(db_session.scalar(select(func.count()).select_from(Report)) or 0)


def test_api_batch(client: TestClient, db_session: Session, agent: Headers) -> None:
    premises = db_session.scalars(select(Premise).order_by(Premise.id).limit(3)).all()
    body = {
        "reports": [
            {"account": premises[0].account, "category": "no_power", "idempotency_key": "a"},
            {"account": "NOPE-9", "category": "no_power"},
            {"account": premises[1].account, "category": "flicker", "channel": "sms"},
            {"account": premises[0].account, "category": "no_power", "idempotency_key": "a"},
        ]
    }
    response = client.post("/api/v1/reports/batch", json=body)
    assert response.status_code == 200, response.text
    answers = response.json()
    assert answers[0]["classification"] == "new" and answers[2]["classification"] in (
        "new",
        "known",
    )
    assert answers[1]["index"] == 1 and "not known" in answers[1]["detail"]
    assert answers[3] == answers[0]
    assert _count(db_session) == 2
    tracked = client.get(f"/api/v1/reports/track/{answers[2]['token']}").json()
    assert tracked["channel"] == "sms" and tracked["id"] == answers[2]["id"]
    assert len({answers[0]["token"], answers[2]["token"]}) == 2
    # Phones are for agents, as on the single route.
    phone = db_session.scalar(
        text(
            "SELECT phone FROM premise WHERE phone IS NOT NULL GROUP BY phone "
            "HAVING count(*) = 1 ORDER BY phone LIMIT 1"
        )
    )
    by_phone = {"reports": [{"phone": phone, "category": "no_power"}]}
    refused = client.post("/api/v1/reports/batch", json=by_phone)
    assert refused.status_code == 403 and "reports 0" in refused.json()["detail"]
    allowed = client.post("/api/v1/reports/batch", json=by_phone, headers=agent)
    assert allowed.status_code == 200 and allowed.json()[0]["classification"] in ("new", "known")
    assert _count(db_session) == 3


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"reports": []}, "at least 1"),
        ({"reports": [{"account": "HEL-000001", "category": "no_power"}] * 10_001}, "at most"),
        (
            {
                "reports": [
                    {"account": "HEL-000001", "category": "no_power"},
                    {"account": "HEL-000001", "category": "no_power"},
                    {"account": "HEL-000001", "category": "meteor"},
                ]
            },
            "category",
        ),
    ],
    ids=["empty", "over the limit", "bad item"],
)
def test_api_bad_batch_is_422_and_stores_nothing(
    client: TestClient, db_session: Session, body: dict[str, Any], expected: str
) -> None:
    response = client.post("/api/v1/reports/batch", json=body)
    assert response.status_code == 422
    assert expected in response.text
    assert len(response.content) < 20_000
    if expected == "category":
        [error] = response.json()["detail"]
        assert error["loc"][:3] == ["body", "reports", 2], "the bad item is named by index"
    assert _count(db_session) == 0


def test_outages_opened_one_group_after_another_are_numbered_without_gaps(
    db_session: Session, settings: Settings
) -> None:
    """Group commit files single reports as one-report batches; a dispatcher who has seen
    outages 7 and 8 opened expects the next one to be 9, not 40."""
    first_by_feeder: dict[int, str] = {}
    for feeder_id, account in db_session.execute(
        select(Premise.feeder_id, Premise.account)
        .where(Premise.feeder_id.is_not(None), Premise.critical.is_(None))
        .order_by(Premise.id)
    ):
        if feeder_id is not None:
            first_by_feeder.setdefault(feeder_id, account)
    accounts = list(first_by_feeder.values())[:3]
    assert len(accounts) == 3
    kwargs: dict[str, Any] = {"settings": settings, "now": NOW, "actor": ACTOR, "is_agent": True}
    opened: list[int] = []
    for account in accounts:
        [answer] = file_batch(
            session=db_session, items=[_item(account=account, category="no_power")], **kwargs
        )
        assert isinstance(answer, ReportAnswer) and answer.classification == "new"
        assert answer.outage_id is not None
        opened.append(answer.outage_id)
    assert opened[1] == opened[0] + 1 and opened[2] == opened[1] + 1, opened


def test_a_batch_numbers_its_new_outages_once_and_names_them_so_everywhere(
    engine: Engine, settings: Settings
) -> None:
    """A batch opens outages under provisional numbers and draws the final ones together
    before writing: the opened outages are numbered consecutively, and every answer,
    report, ETR change, event and roll-up explanation names a stored outage."""
    with rolled_back(engine) as session:
        items = prelude(session, settings)
        before = session.scalar(text("SELECT coalesce(max(id), 0) FROM outage"))
        # Other tests on this database leave events and reports naming outages they
        # removed: only what this batch wrote is checked.
        marks = {
            t: session.scalar(text(f"SELECT coalesce(max(id), 0) FROM {t}"))
            for t in ("report", "etr_change", "event")
        }
        answers = _batch(settings)(session, items)
        session.flush()
        stored = set(session.scalars(text("SELECT id FROM outage")))
        opened = sorted(i for i in stored if i > before)
        merged = session.scalar(text("SELECT count(*) FROM outage WHERE status = 'merged'"))
        assert len(opened) >= 3 and merged, (opened, merged)
        assert opened == list(range(opened[0], opened[0] + len(opened)))
        named = {a.outage_id for a in answers if isinstance(a, ReportAnswer) and a.outage_id}
        assert named & set(opened) and named <= stored
        for sql, mark in (
            ("SELECT outage_id FROM report WHERE outage_id IS NOT NULL AND id > :m", "report"),
            (
                "SELECT (answer->>'outage_id')::bigint FROM report "
                "WHERE answer->>'outage_id' <> '' AND id > :m",
                "report",
            ),
            ("SELECT outage_id FROM etr_change WHERE id > :m", "etr_change"),
            (
                "SELECT object_id::bigint FROM event WHERE object_type = 'outage' AND id > :m",
                "event",
            ),
            (
                "SELECT (detail->>'outage_id')::bigint FROM event "
                "WHERE detail->>'outage_id' <> '' AND id > :m",
                "event",
            ),
            (
                "SELECT jsonb_array_elements_text(detail->'merged_outages')::bigint FROM event "
                "WHERE detail ? 'merged_outages' AND id > :m",
                "event",
            ),
            (
                "SELECT jsonb_array_elements_text(explanation->'merged_outages')::bigint "
                "FROM outage WHERE explanation ? 'merged_outages' AND id > :m",
                "outage",
            ),
            (
                "SELECT merged_into_id FROM outage WHERE merged_into_id IS NOT NULL AND id > :m",
                "outage",
            ),
        ):
            floor = marks.get(mark, 0)
            ids = set(session.scalars(text(sql), {"m": floor}))
            assert ids <= stored, (sql, sorted(ids - stored)[:5])
        rolled = session.scalar(
            text("SELECT count(*) FROM event WHERE action = 'outage.rolled_up' AND id > :m"),
            {"m": marks["event"]},
        )
        assert rolled, "the scenario rolls up outages the batch opened"


def test_a_gateway_batch_by_address_in_a_storm_is_answered_with_the_known_outage(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    """The app gateway posts its customers' stored addresses while a fuse is out: each
    caller below it hears the known outage and its ETR, a misspelt street still finds the
    premise, the same address twice is one premise, and an address that matches nothing is
    refused naming it, with nothing stored for it."""
    fuse, transformers = fuse_with_transformers(db_session)
    outage = open_outage(
        session=db_session,
        device_code=fuse.code,
        cause="weather",
        confirmed=True,
        settings=settings,
        now=NOW,
        actor="dispatcher",
    )
    db_session.flush()
    below = [p for t in transformers for p in premises_of(db_session, t)][:4]
    street, house = below[1].address.split(",")[0].rsplit(" ", 1)
    misspelt = f"{street[:2]}{street[3:]} {house}"  # one letter dropped
    before = _count(db_session)
    body = {
        "reports": [
            {"address": below[0].address, "category": "no_power", "channel": "app"},
            {"address": misspelt, "category": "no_power", "channel": "app"},
            {"address": below[2].address, "category": "wire_down", "channel": "app"},
            {"address": below[2].address, "category": "no_power", "channel": "app"},
            {"address": "Nowhere Street 9999", "category": "no_power", "channel": "app"},
        ]
    }
    response = client.post("/api/v1/reports/batch", json=body)
    assert response.status_code == 200, response.text
    answers = response.json()
    for answer in answers[:4]:
        assert answer["classification"] in ("known", "duplicate"), answer
        assert answer["outage_id"] == outage.id
        assert "Expected back by" in answer["message"]
    assert [a["classification"] for a in answers[:3]] == ["known"] * 3
    # The premise at each address (OSM may hold several at one: any of them is right).
    at: dict[int, str] = {}
    for r in db_session.scalars(select(Report).where(Report.outage_id == outage.id)):
        premise = db_session.get(Premise, r.premise_id)
        assert premise is not None
        at[r.id] = premise.address_norm
    assert at[answers[0]["id"]] == below[0].address_norm
    assert at[answers[1]["id"]] == below[1].address_norm  # found through the misspelling
    assert at[answers[2]["id"]] == at[answers[3]["id"]] == below[2].address_norm
    assert (
        answers[4]["error"] == "AddressNotFound" and "Nowhere Street 9999" in answers[4]["detail"]
    )
    assert _count(db_session) == before + 4
