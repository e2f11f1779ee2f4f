"""Group commit answers and stores what filing the reports one by one does, and a report
accepted is stored even when a neighbour of its group fails."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy import Engine, event, func, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from geo.exceptions import InvalidInput
from geo.models import Device, Feeder, Premise
from outages.exceptions import AddressNotFound
from outages.intake.batch import file_batch
from outages.intake.group_commit import GroupWriter, Pending, form_group
from outages.intake.single import file_report
from outages.models import Outage, OutagePremise, Report
from outages.schemas import BatchItemError, BatchReport, ReportAnswer
from tests.outages.helpers import NOW, fuse_with_transformers, premises_of
from tests.outages.test_batch import (
    ACTOR,
    Answer,
    canonical_answers,
    canonical_state,
    file_one_by_one,
    prelude,
    rolled_back,
)
from web.settings import Settings

GROUP = 37  # not a divisor of the scenario: groups of every shape, a short last one


def _writer(session: Session, settings: Settings) -> GroupWriter:
    """A writer whose sessions join the test's transaction (its commits are savepoints)."""
    factory = sessionmaker(bind=session.connection(), join_transaction_mode="create_savepoint")
    return GroupWriter(factory, settings)


def _alone(session: Session, settings: Settings, index: int, item: BatchReport) -> Answer:
    """What the request does with a report its group handed back: the single path."""
    try:
        return file_report(
            session=session,
            data=item,
            settings=settings,
            now=NOW,
            actor=ACTOR,
            is_agent=True,
            idempotency_key=item.idempotency_key,
        )
    except InvalidInput as exc:
        return BatchItemError(
            index=index,
            status_code=422,
            error=type(exc).__name__,
            detail=str(exc),
            suggestions=exc.suggestions if isinstance(exc, AddressNotFound) else [],
        )


def file_grouped(
    session: Session,
    settings: Settings,
    items: Sequence[BatchReport],
    size: int,
    *,
    warm: bool = False,
) -> tuple[list[Answer], list[int], GroupWriter]:
    """The writer's loop, played in order: groups of ``size`` arrivals (keys seen in a group
    wait for the next), each written, then its handed-back reports filed alone.

    Returns the answers by item, the order the reports were filed in (a report that waited
    for the next group is filed after its later neighbours, as if it had arrived later),
    and the writer. ``warm`` preloads the territory first, as the served writer does.
    """
    writer = _writer(session, settings)
    if warm:
        writer.warm_up()
    pending = [Pending(item, item.idempotency_key, ACTOR, True, NOW) for item in items]
    index = {id(p): i for i, p in enumerate(pending)}
    answers: list[Answer | None] = [None] * len(items)
    order: list[int] = []
    carry: list[Pending] = []
    arrivals = list(pending)
    while arrivals or carry:
        waiting = carry + arrivals[:size]
        arrivals = arrivals[size:]
        group, carry = form_group(waiting)
        writer.write_group(group)
        session.expire_all()  # as a request's fresh session would: the group wrote raw SQL
        alone = []
        for p in group:
            i = index[id(p)]
            answers[i] = p.future.result(timeout=0)
            (order if answers[i] is not None else alone).append(i)
        for i in alone:
            answers[i] = _alone(session, settings, i, items[i])
        order += alone
    assert all(a is not None for a in answers)
    return answers, order, writer  # type: ignore[return-value]


@pytest.mark.parametrize("warm", [False, True], ids=["lazy", "preloaded"])
def test_group_commit_answers_and_stores_what_the_single_path_does(
    engine: Engine, settings: Settings, warm: bool
) -> None:
    """The same reports, in the order the writer filed them, one by one: equal answers
    and equal stored state (ids up to renumbering), whether the writer's trees were
    loaded group by group or preloaded for the whole territory."""
    with rolled_back(engine) as session:
        items = prelude(session, settings)
        grouped, order, writer = file_grouped(session, settings, items, GROUP, warm=warm)
        if warm:
            assert writer.stats.warmed_feeders > 0
        got_answers = canonical_answers(session, [grouped[i] for i in order])
        got_state = canonical_state(session)
    assert sorted(order) == list(range(len(items)))
    with rolled_back(engine) as session:
        items = prelude(session, settings)
        single = file_one_by_one(session, settings, [items[i] for i in order])
        assert got_answers == canonical_answers(session, single)
        assert got_state == canonical_state(session)
    # The scenario was really grouped: several groups, most reports filed by them.
    assert writer.stats.groups >= len(items) // GROUP
    assert writer.stats.grouped > 0.9 * len(items)
    assert writer.stats.failed_groups == 0


def test_a_failing_neighbour_does_not_fail_the_group(engine: Engine, settings: Settings) -> None:
    """A key reused for another report makes ``file_batch`` refuse the whole group: every
    report is handed back, the good ones are then stored and answered, the bad one is a 422."""
    with rolled_back(engine) as session:
        accounts = session.scalars(select(Premise.account).order_by(Premise.id).limit(4)).all()
        first = BatchReport(account=accounts[0], category="no_power", idempotency_key="k")
        file_report(
            session=session,
            data=first,
            settings=settings,
            now=NOW,
            actor=ACTOR,
            is_agent=True,
            idempotency_key="k",
        )
        before = session.scalar(select(func.count()).select_from(Report))
        items = [
            BatchReport(account=accounts[1], category="no_power"),
            BatchReport(account=accounts[2], category="flicker", idempotency_key="k"),
            BatchReport(account=accounts[3], category="no_power", idempotency_key="k2"),
        ]
        answers, _, writer = file_grouped(session, settings, items, len(items))
        assert writer.stats.failed_groups == 1
        assert writer.stats.handed_back == len(items)
        assert isinstance(answers[0], ReportAnswer) and isinstance(answers[2], ReportAnswer)
        assert isinstance(answers[1], BatchItemError)
        assert "used for a different report" in answers[1].detail
        stored = session.scalars(
            select(Report.id).where(Report.id.in_([answers[0].id, answers[2].id]))
        ).all()
        assert sorted(stored) == sorted([answers[0].id, answers[2].id])
        after = session.scalar(select(func.count()).select_from(Report))
        assert after == (before or 0) + 2


def test_a_report_that_cannot_be_located_is_handed_back_alone(
    engine: Engine, settings: Settings
) -> None:
    with rolled_back(engine) as session:
        account = session.scalars(select(Premise.account).order_by(Premise.id).limit(1)).one()
        items = [
            BatchReport(account=account, category="no_power"),
            BatchReport(address="Nowhere Street 9999", category="no_power"),
        ]
        writer = _writer(session, settings)
        group = [Pending(item, None, ACTOR, True, NOW) for item in items]
        writer.write_group(group)
        filed = group[0].future.result(timeout=0)
        assert isinstance(filed, ReportAnswer)
        assert session.get(Report, filed.id) is not None
        assert group[1].future.result(timeout=0) is None  # the request files it, gets its 422
        assert writer.stats.grouped == 1 and writer.stats.handed_back == 1


def test_one_key_twice_never_shares_a_group() -> None:
    items = [
        Pending(BatchReport(account="A", category="no_power"), key, ACTOR, True, NOW)
        for key in ("a", "b", "a", None, None, "b")
    ]
    group, carry = form_group(items)
    assert [p.idempotency_key for p in group] == ["a", "b", None, None]
    assert [p.idempotency_key for p in carry] == ["a", "b"]


def test_the_writer_keeps_feeder_trees_until_the_territory_changes(
    engine: Engine, settings: Settings
) -> None:
    """Trees and the premises below transformers are loaded once for many groups; an import
    that adds a premise below a transformer drops them, and the next outage there counts it
    (with the old premises list it would count one customer too few)."""
    with rolled_back(engine) as session:
        _, transformers = fuse_with_transformers(session)
        premises = premises_of(session, transformers[0])
        writer = _writer(session, settings)

        def write(account: str) -> ReportAnswer:
            pending = Pending(
                BatchReport(account=account, category="no_power"), None, ACTOR, True, NOW
            )
            writer.write_group([pending])
            session.expire_all()
            answer = pending.future.result(timeout=0)
            assert isinstance(answer, ReportAnswer)
            return answer

        first = write(premises[0].account)
        outage = session.get(Outage, first.outage_id)
        assert outage is not None and outage.device_id == transformers[0]
        assert outage.customers_affected == len(premises)
        token, trees = writer.topology.token, writer.topology.trees
        assert token is not None and outage.feeder_id in trees

        # Another group on the same feeder: the same trees, nothing reloaded.
        statements: list[str] = []
        record = lambda *args: statements.append(args[2])  # noqa: E731
        connection = session.connection()
        event.listen(connection, "before_cursor_execute", record)
        write(premises_of(session, transformers[1])[0].account)
        event.remove(connection, "before_cursor_execute", record)
        assert writer.topology.token == token and writer.topology.trees is trees
        assert not [s for s in statements if "FROM device" in s]

        # The first outage ends; then an import adds a premise below its transformer.
        session.execute(
            update(OutagePremise)
            .where(OutagePremise.outage_id == outage.id)
            .values(restored_at=NOW)
        )
        session.execute(update(Outage).where(Outage.id == outage.id).values(status="restored"))
        session.execute(
            text(
                "INSERT INTO premise (account, address, address_norm, street_norm, house_norm, "
                "feeder_id, transformer_id, region_id, geom) SELECT 'NEW-PREMISE-1', address, "
                "address_norm, street_norm, house_norm || 'b', feeder_id, transformer_id, "
                "region_id, geom FROM premise WHERE id = :id"
            ),
            {"id": premises[0].id},
        )
        again = write("NEW-PREMISE-1")
        reopened = session.get(Outage, again.outage_id)
        assert reopened is not None and reopened.id != outage.id
        assert reopened.device_id == transformers[0]
        assert reopened.customers_affected == len(premises) + 1
        assert writer.topology.drops == 1 and writer.topology.token != token


def test_a_preloaded_writer_holds_the_whole_territory_and_loads_nothing_more(
    engine: Engine, settings: Settings
) -> None:
    """After ``warm_up`` every feeder's tree and every premise below a transformer is held,
    and a report on any feeder sends no device or premises-below query."""
    with rolled_back(engine) as session:
        writer = _writer(session, settings)
        writer.warm_up()
        feeders = set(session.scalars(select(Feeder.id)))
        with_devices = set(session.scalars(select(Device.feeder_id).distinct()))
        assert writer.stats.warmed_feeders == len(feeders)
        assert with_devices - {None} <= set(writer.topology.trees)
        held = {
            pid
            for premises in writer.topology.premises_by_transformer.values()
            for pid, _ in premises
        }
        below = set(session.scalars(select(Premise.id).where(Premise.transformer_id.is_not(None))))
        assert held == below
        statements: list[str] = []
        record = lambda *args: statements.append(args[2])  # noqa: E731
        connection = session.connection()
        event.listen(connection, "before_cursor_execute", record)
        account = session.scalars(
            select(Premise.account).where(Premise.transformer_id.is_not(None)).limit(1)
        ).one()
        pending = Pending(BatchReport(account=account, category="no_power"), None, ACTOR, True, NOW)
        writer.write_group([pending])
        event.remove(connection, "before_cursor_execute", record)
        assert isinstance(pending.future.result(timeout=0), ReportAnswer)
        assert not [s for s in statements if "FROM device" in s]
        assert not [s for s in statements if "WHERE transformer_id = ANY" in s]


def test_a_writer_that_cannot_preload_still_files(engine: Engine, settings: Settings) -> None:
    """The database down when the writer starts: the preload gives up with an empty cache,
    the writer lives on, and its first group loads the trees it needs as before."""
    with rolled_back(engine) as session:
        writer = _writer(session, settings)
        real = writer.factory
        calls = {"n": 0}

        def down_at_first() -> Session:
            calls["n"] += 1
            if calls["n"] == 1:
                raise OperationalError("SELECT 1", {}, ConnectionRefusedError("database down"))
            return real()

        writer.factory = down_at_first  # type: ignore[assignment]
        writer.warm_up()
        assert writer.stats.warmed_feeders == 0 and writer.topology.trees == {}
        account = session.scalars(
            select(Premise.account).where(Premise.transformer_id.is_not(None)).limit(1)
        ).one()
        pending = Pending(BatchReport(account=account, category="no_power"), None, ACTOR, True, NOW)
        writer.write_group([pending])
        assert isinstance(pending.future.result(timeout=0), ReportAnswer)
        assert writer.topology.trees  # loaded for that report's feeder


def test_a_batch_filed_with_a_copy_of_the_writers_topology_leaves_the_writers_alone(
    engine: Engine, settings: Settings
) -> None:
    """The batch route files with ``writer.topology.copy()``: it answers what a batch that
    loads its own trees answers, the trees it loads stay in its copy, and the writer's
    trees and premise lists are the same objects with the same contents afterwards."""
    runs: dict[str, list[tuple[object, ...]]] = {}
    for mode in ("own", "copy"):
        with rolled_back(engine) as session:
            items = prelude(session, settings)
            writer = _writer(session, settings)
            # The writer has met one feeder so far: the batch needs trees it does not hold.
            first = next(i for i in items if i.account)
            writer.write_group([Pending(first, None, ACTOR, True, NOW)])
            session.expire_all()
            held_trees = dict(writer.topology.trees)
            held_lists = {
                t: (id(ps), list(ps)) for t, ps in writer.topology.premises_by_transformer.items()
            }
            copy = writer.topology.copy() if mode == "copy" else None
            answers = file_batch(
                session=session,
                items=items,
                settings=settings,
                now=NOW,
                actor=ACTOR,
                is_agent=True,
                topology=copy,
            )
            runs[mode] = canonical_answers(session, answers)
            assert writer.topology.trees == held_trees
            assert {
                t: (id(ps), list(ps)) for t, ps in writer.topology.premises_by_transformer.items()
            } == held_lists
            if copy is not None:
                assert set(copy.trees) > set(held_trees), "the batch loaded trees into its copy"
    assert runs["copy"] == runs["own"]
