"""The roll-up rule on a hand-made feeder tree."""

from __future__ import annotations

import networkx as nx

from outages.feeder_tree import FeederTree, Group, RollUpRule, plan_rollups

#        B1 (breaker)
#        |
#        R1 (recloser)
#       /        \
#     F1 (fuse)   F2 (fuse)
#    /   \        /  \
#   T1   T2      T3  T4     (transformers, 10 customers each)
EDGES = [(1, 2), (2, 3), (2, 4), (3, 5), (3, 6), (4, 7), (4, 8)]
KINDS = {1: "breaker", 2: "recloser", 3: "fuse", 4: "fuse", 5: "transformer", 6: "transformer"}
KINDS |= {7: "transformer", 8: "transformer"}
RULE = RollUpRule(min_premises=3, min_share=0.1, window_min=60)


def tree() -> FeederTree:
    graph = nx.DiGraph(EDGES)
    return FeederTree(
        graph=graph,
        kinds=KINDS,
        codes={n: f"D{n}" for n in graph},
        direct_customers={5: 10, 6: 10, 7: 10, 8: 10},
    )


def test_two_transformers_below_one_fuse_roll_up_to_the_fuse() -> None:
    groups = [Group([1], 5, {101, 102}), Group([2], 6, {111})]
    [decision] = plan_rollups(tree(), groups, RULE)
    assert decision.device_id == 3
    assert sorted(decision.outage_ids) == [1, 2]
    assert decision.reporting_premises == 3
    assert decision.customers_below == 20


def test_too_few_reports_stay_apart() -> None:
    groups = [Group([1], 5, {101}), Group([2], 6, {111})]
    assert plan_rollups(tree(), groups, RULE) == []


def test_share_threshold_blocks_climbing_to_a_big_device() -> None:
    rule = RollUpRule(min_premises=3, min_share=0.2, window_min=60)
    # 4 premises below F1 (20 customers, 20%) qualify; with F2's one report the recloser
    # would have 5 of 40 (12.5%), below the share: the fuse is as far as evidence goes.
    groups = [Group([1], 5, {101, 102}), Group([2], 6, {111, 112}), Group([3], 7, {121})]
    decisions = plan_rollups(tree(), groups, rule)
    assert [(d.device_id, sorted(d.outage_ids)) for d in decisions] == [(3, [1, 2])]


def test_reports_under_both_fuses_climb_past_the_recloser_to_the_tied_breaker() -> None:
    # The recloser explains every call, but the breaker above it has exactly the same
    # customers: the calls cannot tell them apart, and the rule (issue 9) puts the outage on
    # the most upstream protective device of such a chain, naming the tie.
    groups = [
        Group([1], 5, {101, 102}),
        Group([2], 6, {111}),
        Group([3], 7, {121, 122}),
        Group([4], 8, {131}),
    ]
    [decision] = plan_rollups(tree(), groups, RULE)
    assert decision.device_id == 1
    assert decision.tied == (2,)
    assert sorted(decision.outage_ids) == [1, 2, 3, 4]
    assert decision.share == 6 / 40


def test_a_switch_with_the_same_customers_never_takes_the_outage() -> None:
    #   R1 (recloser) -> S1 (switch) -> {T1, F1 -> T2}: R1 and S1 have the same customers.
    graph = nx.DiGraph([(1, 2), (2, 3), (2, 4), (4, 5)])
    t = FeederTree(
        graph=graph,
        kinds={1: "recloser", 2: "switch", 3: "transformer", 4: "fuse", 5: "transformer"},
        codes={1: "R1", 2: "S1", 3: "T1", 4: "F1", 5: "T2"},
        direct_customers={3: 10, 5: 10},
    )
    groups = [Group([1], 3, {101, 102}), Group([2], 5, {111, 112})]
    [decision] = plan_rollups(t, groups, RULE)
    assert decision.device_id == 1, "the recloser trips; the switch below it does not"
    assert decision.tied == (2,)


def test_tree_queries() -> None:
    t = tree()
    assert t.below(3) == {3, 5, 6}
    assert t.customers_below(2) == 40
    assert t.ancestors(5) == [3, 2, 1]
    assert t.contains(2, 8) and not t.contains(3, 8)


def test_transformer_on_the_line_darkens_only_its_own_premises() -> None:
    # T1 (5) carries the line on to a further transformer 9 below it.
    graph = nx.DiGraph([*EDGES, (5, 9)])
    t = FeederTree(
        graph=graph,
        kinds={**KINDS, 9: "transformer"},
        codes={n: f"D{n}" for n in graph},
        direct_customers={5: 10, 6: 10, 7: 10, 8: 10, 9: 10},
    )
    assert t.below(5) == {5}
    assert t.below(3) == {3, 5, 6, 9}
    groups = [Group([1], 5, {101, 102}), Group([2], 9, {111})]
    [decision] = plan_rollups(t, groups, RULE)
    assert decision.device_id == 3, "a transformer never explains another transformer's outage"


def test_nothing_past_a_normally_open_switch_is_fed() -> None:
    graph = nx.DiGraph([*EDGES, (4, 10), (10, 11)])
    t = FeederTree(
        graph=graph,
        kinds={**KINDS, 10: "switch", 11: "transformer"},
        codes={n: f"D{n}" for n in graph},
        direct_customers={5: 10, 6: 10, 7: 10, 8: 10, 11: 50},
        normally_open=frozenset({10}),
    )
    assert t.below(4) == {4, 7, 8}
    assert t.customers_below(2) == 40
