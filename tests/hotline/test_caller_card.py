"""The one-statement caller card answers exactly as the multi-query reference
(``tests/hotline/caller_card_reference.py``) over many callers of one busy scene: phones
shared by several premises (one stored in national form), none (new callers), premises in
one or two active outages with crews at different stages, planned work now (two overlapping
jobs), soon and too far ahead, recent and old restorations, calls, reports and tickets
inside and outside the 90 days, open tickets older than that, a complaint a department may
not see yet, and four kinds of viewer.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass

import pytest
from sqlalchemy import event, func, select, text, update
from sqlalchemy.orm import Session

from dispatch.models import Crew, WorkOrder
from geo.exceptions import InvalidInput
from geo.models import Device, Premise
from hotline.call_schemas import CallerCard
from hotline.caller_card import caller_card, card_params, card_statement
from hotline.models import Call, Department, Ticket
from hotline.visibility import Viewer
from outages.models import Outage, OutagePremise, PlannedOutage, PlannedOutagePremise, Report
from tests.hotline.caller_card_reference import reference_card
from tests.hotline.helpers import make_desk
from web.settings import Settings

NOW = dt.datetime(2026, 11, 23, 18, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)
SHARED = "+358 40 100 0001"  # three premises
SHARED_NATIONAL = "040 100 0002"  # two premises, stored as dialled in Finland
NEW_CALLER = "+358 50 999 1234"  # on no premise, but rang and filed before


@dataclass
class Scene:
    premises: list[Premise]
    viewers: list[Viewer]
    outages: list[Outage]
    planned: list[PlannedOutage]


def _outage(session: Session, premise: Premise, **fields: object) -> Outage:
    outage = Outage(
        device_id=session.scalar(select(Device.id).order_by(Device.id).limit(1)),
        feeder_id=premise.feeder_id,
        region_id=premise.region_id,
        started_at=NOW - 3 * H,
        customers_affected=40,
        **fields,
    )
    session.add(outage)
    session.flush()
    return outage


def _order(session: Session, outage: Outage, kind: str, status: str, crew: Crew | None) -> None:
    session.add(
        WorkOrder(
            kind=kind,
            status=status,
            outage_id=outage.id,
            first_report_at=NOW - 3 * H,
            onsite_due_at=NOW + H,
            restore_due_at=NOW + 3 * H,
            crew_id=crew.id if crew else None,
            eta_at=NOW + 0.5 * H if status == "en_route" else None,
            on_site_at=NOW - H if status == "on_site" else None,
            created_at=NOW - 3 * H,
            geom=func.ST_SetSRID(func.ST_MakePoint(24.94, 60.17), 4326),
            updated_at=NOW - 3 * H,
        )
    )


def _planned(
    session: Session, premises: list[Premise], starts: dt.datetime, ends: dt.datetime, **kw: str
) -> PlannedOutage:
    work = PlannedOutage(
        reason=kw.get("reason", "cable replacement"),
        status=kw.get("status", "scheduled"),
        starts_at=starts,
        ends_at=ends,
        created_by="test",
    )
    session.add(work)
    session.flush()
    session.add_all(
        PlannedOutagePremise(planned_outage_id=work.id, premise_id=p.id) for p in premises
    )
    return work


def _history(session: Session, premises: list[Premise], department: Department) -> None:
    """Calls, reports and tickets over 120 days, by premise and by number only."""
    rng = random.Random(7)
    for i, premise in enumerate(premises[:60]):
        for k in range(rng.randint(0, 4)):
            at = NOW - dt.timedelta(days=rng.uniform(0, 120))
            number = "".join(c for c in premise.phone or "" if c.isdigit())
            session.add(
                Call(
                    channel="phone",
                    status="wrapped",
                    # Rows from before E.164: bare digits; newer ones: E.164.
                    caller_number=("+" + number) if k % 2 else number,
                    premise_id=premise.id if k != 3 else None,
                    started_at=at,
                    disposition="kb_answered",
                    created_by="test",
                )
            )
            session.add(
                Report(
                    received_at=at,
                    channel="phone",
                    category="no_power",
                    caller_phone=premise.phone if k != 2 else None,
                    located_by="account",
                    premise_id=premise.id if k != 1 else None,
                    classification="new",
                    status="open" if k else "closed",
                    token=f"cc-{i}-{k}",
                )
            )
            ticket_type = "complaint" if k == 1 else "consultation"
            session.add(
                Ticket(
                    ticket_type=ticket_type,
                    ticket_class="service" if ticket_type == "complaint" else None,
                    status=("with_department", "closed", "review", "replied", "answered")[k],
                    channel="phone",
                    subject=f"ticket {i}-{k}",
                    description="-",
                    caller_phone=premise.phone if k != 4 else None,
                    premise_id=premise.id if k != 2 else None,
                    department_id=department.id,
                    reviewed_at=None if k == 1 else at,
                    token_hash=f"{i:04d}{k:02d}".ljust(64, "0"),
                    filed_by="agent" if k % 2 else "svc1",
                    # Equal filing times for two tickets of a premise: the tie order matters.
                    filed_at=NOW - 200 * D if k == 4 else at if k != 3 else NOW - 5 * D,
                    updated_at=at,
                )
            )
    for k in range(3):
        at = NOW - (k + 1) * D
        session.add(
            Call(
                channel="phone",
                status="abandoned",
                caller_number="+358509991234",
                started_at=at,
                created_by="test",
            )
        )
        session.add(
            Report(
                received_at=at,
                channel="phone",
                category="flicker",
                caller_phone="050-999 1234",
                located_by="unlocated",
                classification="unlocated",
                token=f"cc-new-{k}",
            )
        )
    session.flush()


@pytest.fixture
def scene(db_session: Session) -> Scene:
    desk = make_desk(db_session, None, NOW)
    premises = list(
        db_session.scalars(select(Premise).where(Premise.phone.is_not(None)).order_by(Premise.id))
    )[:120]
    for group, phone in ((premises[0:3], SHARED), (premises[3:5], SHARED_NATIONAL)):
        db_session.execute(
            update(Premise).where(Premise.id.in_([p.id for p in group])).values(phone=phone)
        )
    db_session.execute(
        update(Premise).where(Premise.id == premises[5].id).values(phone="00358 40 100 0003")
    )
    db_session.expire_all()
    crews = list(db_session.scalars(select(Crew).order_by(Crew.id).limit(2)))
    a = _outage(db_session, premises[0], status="confirmed", etr_at=NOW + 2 * H, cause="tree")
    b = _outage(db_session, premises[0], status="suspected")
    c = _outage(db_session, premises[50], status="confirmed", etr_at=NOW + 5 * H)
    done = _outage(db_session, premises[60], status="restored", restored_at=NOW - H)
    _order(db_session, a, "outage", "on_site", crews[0])
    _order(db_session, a, "outage", "cancelled", crews[1])  # not live: never speaks
    _order(db_session, c, "outage", "en_route", crews[1])
    rows = [(a, p, None) for p in [premises[0], *premises[6:16]]]
    rows += [(b, p, None) for p in [premises[0], premises[3], *premises[16:21]]]
    rows += [(c, premises[50], None), (a, premises[21], NOW - H), (a, premises[22], NOW - 10 * H)]
    rows += [(done, p, NOW - 2 * H) for p in premises[60:64]]
    db_session.add_all(
        OutagePremise(outage_id=o.id, premise_id=p.id, restored_at=r) for o, p, r in rows
    )
    planned = [
        _planned(db_session, [premises[1], *premises[30:36]], NOW - H, NOW + 2 * H),
        _planned(db_session, [premises[1], premises[30]], NOW - 2 * H, NOW + 4 * H),
        _planned(
            db_session,
            [premises[2], premises[4], *premises[36:41]],
            NOW + 3 * D,
            NOW + 3 * D + 4 * H,
        ),
        _planned(
            db_session,
            [premises[2], premises[36]],
            NOW + 2 * D,
            NOW + 2 * D + H,
            reason="meter swap",
        ),
        _planned(db_session, [premises[41]], NOW + 10 * D, NOW + 10 * D + H),
        _planned(db_session, [premises[42]], NOW - H, NOW + H, status="cancelled"),
        _planned(db_session, [premises[6]], NOW - H, NOW + H),  # planned and in an outage
    ]
    _history(db_session, premises, desk.departments["HEL-R1-SERVICE"])
    department = desk.departments["HEL-R1-SERVICE"].id
    viewers = [
        Viewer(username="agent", role="agent", department_id=None),
        Viewer(username="supervisor", role="supervisor", department_id=None),
        Viewer(username="svc1", role="dispatcher", department_id=department),
        Viewer(username="crew08", role="crew", department_id=None),
    ]
    return Scene(premises, viewers, [a, b, c, done], planned)


def _both(session: Session, settings: Settings, viewer: Viewer, **key: str) -> CallerCard:
    card = caller_card(session=session, viewer=viewer, now=NOW, settings=settings, **key)
    reference = reference_card(session=session, viewer=viewer, now=NOW, settings=settings, **key)
    assert card == reference, key
    return card


def test_the_one_statement_card_answers_as_the_reference(
    db_session: Session, settings: Settings, scene: Scene
) -> None:
    premises = scene.premises
    keys: list[dict[str, str]] = [{"phone": p.phone} for p in premises if p.phone]
    keys += [{"account": p.account} for p in premises[::7]]
    keys += [
        {"phone": "358401000001"},
        {"phone": "0401000002"},
        {"phone": "+358401000003"},
        {"phone": NEW_CALLER},
        {"phone": "+358 45 000 0000"},
        {"account": "NO-SUCH-ACCOUNT"},
    ]
    states: set[str] = set()
    sizes: set[int] = set()
    for key in keys:
        for viewer in (
            scene.viewers if "account" in key or key["phone"] == SHARED else scene.viewers[:1]
        ):
            card = _both(db_session, settings, viewer, **key)
            states |= {p.state for p in card.premises}
            sizes.add(len(card.premises))
    # The scene covers what it claims: every state, 0 to 3 premises per card.
    assert states == {"normal", "outage", "planned", "restored"}
    assert sizes == {0, 1, 2, 3}


def test_what_the_card_says_in_the_scene(
    db_session: Session, settings: Settings, scene: Scene
) -> None:
    agent = scene.viewers[0]
    a, b, _, _ = scene.outages
    shared = _both(db_session, settings, agent, phone="358401000001")
    assert shared.phone == "+358401000001"
    assert [p.premise_id for p in shared.premises] == [p.id for p in scene.premises[0:3]]
    first, second, third = shared.premises
    assert first.outage is not None and first.outage.id == min(a.id, b.id)
    assert first.outage.crew is not None and first.outage.crew.status == "on_site"
    assert second.state == "planned" and second.planned_now is not None
    assert second.planned_now.id == scene.planned[1].id, "the job ending last speaks"
    assert third.state == "normal" and [w.id for w in third.planned_next_7_days] == [
        scene.planned[3].id,
        scene.planned[2].id,
    ]
    assert third.script is not None and third.script.kind == "planned_soon"
    national = _both(db_session, settings, agent, phone="+358 40 100 0002")
    assert [p.premise_id for p in national.premises] == [p.id for p in scene.premises[3:5]]
    new = _both(db_session, settings, agent, phone="050 999 1234")
    assert not new.known and len(new.calls) == 3 and len(new.reports) == 3
    department = _both(db_session, settings, scene.viewers[2], phone=SHARED)
    everything = _both(db_session, settings, scene.viewers[1], phone=SHARED)
    hidden = {t.id for t in everything.tickets} - {t.id for t in department.tickets}
    assert hidden and all(
        db_session.get(Ticket, t).ticket_type == "complaint"
        for t in hidden  # type: ignore[union-attr]
    )


def test_the_card_is_one_statement(db_session: Session, settings: Settings, scene: Scene) -> None:
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    engine = db_session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        card = caller_card(
            session=db_session, viewer=scene.viewers[0], now=NOW, settings=settings, phone=SHARED
        )
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(card.premises) == 3
    assert len(statements) == 1, statements


def test_the_card_uses_the_phone_indexes(db_session: Session, settings: Settings) -> None:
    agent = Viewer(username="agent", role="agent", department_id=None)
    stmt = card_statement(by_phone=True, viewer=agent)
    params = card_params(e164="+358401000001", account=None, now=NOW, settings=settings)
    # Off, the planner takes an index whenever it can: it can only if the expression is the
    # index's own (a bound parameter in regexp_replace would not be).
    db_session.execute(text("SET LOCAL enable_seqscan = off"))
    expanded = stmt.compile(dialect=db_session.get_bind().dialect).construct_expanded_state(params)
    rows = db_session.connection().exec_driver_sql(
        f"EXPLAIN {expanded.statement}", expanded.parameters
    )
    plan = "\n".join(r[0] for r in rows)
    # A bitmap or a plain index scan, by the table's statistics (which other tests move).
    assert re.search(r"Index Scan (on|using) ix_premise_phone_digits", plan), plan
    # Nothing in the card reads a whole table (tickets once did: no index on their premise).
    assert "Seq Scan" not in plan, plan


def test_a_bad_number_is_refused_naming_it(db_session: Session, settings: Settings) -> None:
    agent = Viewer(username="agent", role="agent", department_id=None)
    with pytest.raises(InvalidInput, match=r"phone '12345' is not a valid phone number"):
        caller_card(session=db_session, viewer=agent, now=NOW, settings=settings, phone="12345")
