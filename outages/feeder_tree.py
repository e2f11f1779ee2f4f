"""The feeder's device tree and the roll-up of reports to the device that most likely operated.

Calls arrive per premise, but faults happen at devices: when premises below several
transformers go dark together, one fuse or recloser above them is a likelier explanation
than several transformers failing at once. The rule is explicit and configurable so the
dispatcher can read why an outage sits where it does.

Pure (no database): intake's rules (``outages.intake.rules``) decide with it, and
``outages.topology`` builds the trees from the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import networkx as nx


@dataclass(frozen=True)
class FeederTree:
    """Devices of one feeder as a tree (edges point downstream) with customers per device.

    A transformer also stands on the medium-voltage line that continues past it, so its
    own outage darkens only its own premises; and nothing past a normally-open switch is
    fed from this side.
    """

    graph: nx.DiGraph
    kinds: dict[int, str]
    codes: dict[int, str]
    direct_customers: dict[int, int]
    normally_open: frozenset[int] = frozenset()

    def below(self, device_id: int) -> set[int]:
        """The devices that lose supply when ``device_id`` opens (itself included)."""
        if self.kinds.get(device_id) == "transformer":
            return {device_id}
        seen = {device_id}
        stack = [device_id]
        while stack:
            for child in self.graph.successors(stack.pop()):
                if child not in seen and child not in self.normally_open:
                    seen.add(child)
                    stack.append(child)
        return seen

    def customers_below(self, device_id: int) -> int:
        return sum(self.direct_customers.get(d, 0) for d in self.below(device_id))

    def ancestors(self, device_id: int) -> list[int]:
        """Devices above ``device_id``, nearest first, up to the feeder head."""
        chain: list[int] = []
        preds = list(self.graph.predecessors(device_id))
        while preds:
            chain.append(preds[0])
            preds = list(self.graph.predecessors(preds[0]))
        return chain

    def depth(self, device_id: int) -> int:
        return len(self.ancestors(device_id))

    def contains(self, upper: int, lower: int) -> bool:
        """Whether ``lower`` loses supply when ``upper`` opens."""
        return lower in self.below(upper)


@dataclass
class Group:
    """An open suspected outage on the feeder: where it sits and who reported it."""

    outage_ids: list[int]
    device_id: int
    reporting_premises: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class RollUpRule:
    """Thresholds for moving reports up the tree (see ``outages.settings.OutageSettings``)."""

    min_premises: int
    min_share: float
    window_min: float


PROTECTIVE_KINDS = ("breaker", "recloser", "fuse")
"""Devices that open by themselves on a fault. Switches are opened by people, and a
transformer the line passes through darkens only its own premises: neither explains calls
from below several transformers."""


@dataclass(frozen=True)
class RollUp:
    """A decision: these outages become one outage on ``device_id``, and why.

    ``tied`` lists the devices below ``device_id`` (nearest first) that have the same
    customers below them: the calls cannot tell them apart, and the most upstream protective
    device of such a chain is the one that operates.
    """

    device_id: int
    outage_ids: list[int]
    reporting_premises: int
    customers_below: int
    share: float
    tied: tuple[int, ...] = ()


def protective_top(tree: FeederTree, device_id: int) -> int:
    """The most upstream protective device with the same customers as ``device_id``.

    Climbs while the device above has exactly the same customers below it (a switch or a
    recloser with nothing else hanging off it); ``device_id`` itself when nothing above is
    tied. The devices passed are named in the roll-up's ``tied``.
    """
    customers = tree.customers_below(device_id)
    best = device_id
    for above in tree.ancestors(device_id):
        if tree.customers_below(above) != customers:
            break
        if tree.kinds.get(above) in PROTECTIVE_KINDS:
            best = above
    return best


def plan_rollups(tree: FeederTree, groups: Iterable[Group], rule: RollUpRule) -> list[RollUp]:
    """Merge groups bottom-up into the lowest protective devices that explain them.

    A protective device (breaker, recloser, fuse) qualifies when at least two groups sit
    below or at it (so a lower device would not explain them as well), enough distinct
    premises below it reported, and they are a large enough share of its customers. The
    deepest qualifying device is merged first, then the search repeats, so outages climb only
    as far as evidence goes. Switches never qualify: they do not trip by themselves. When the
    devices above have the same customers, the outage climbs to the most upstream protective
    one of that chain (``protective_top``).
    """
    current = [Group(list(g.outage_ids), g.device_id, set(g.reporting_premises)) for g in groups]
    moved: dict[int, Group] = {}
    while True:
        best: tuple[int, int, list[Group]] | None = None
        candidates = {
            a
            for g in current
            for a in tree.ancestors(g.device_id)
            if tree.kinds.get(a) in PROTECTIVE_KINDS
        }
        for device in candidates:
            below = [g for g in current if tree.contains(device, g.device_id)]
            if len(below) < 2:
                continue
            premises = set().union(*(g.reporting_premises for g in below))
            customers = tree.customers_below(device)
            if len(premises) < rule.min_premises or customers == 0:
                continue
            if len(premises) / customers < rule.min_share:
                continue
            key = (tree.depth(device), -device)
            if best is None or key > (best[0], -best[1]):
                best = (key[0], device, below)
        if best is None:
            break
        _, device, below = best
        device = protective_top(tree, device)
        below = [g for g in current if tree.contains(device, g.device_id)]
        merged = Group(
            outage_ids=[o for g in below for o in g.outage_ids],
            device_id=device,
            reporting_premises=set().union(*(g.reporting_premises for g in below)),
        )
        current = [g for g in current if g not in below] + [merged]
        moved[device] = merged
    result = []
    for group in current:
        if group.device_id not in moved:
            continue
        customers = tree.customers_below(group.device_id)
        result.append(
            RollUp(
                device_id=group.device_id,
                outage_ids=group.outage_ids,
                reporting_premises=len(group.reporting_premises),
                customers_below=customers,
                share=round(len(group.reporting_premises) / customers, 4),
                tied=_tied_below(tree, group.device_id),
            )
        )
    return result


def _tied_below(tree: FeederTree, device_id: int) -> tuple[int, ...]:
    """Devices under ``device_id`` down a single chain with the same customers below them."""
    customers = tree.customers_below(device_id)
    tied: list[int] = []
    node = device_id
    while True:
        children = [
            c
            for c in tree.graph.successors(node)
            if c not in tree.normally_open and tree.customers_below(c) == customers
        ]
        if len(children) != 1:
            return tuple(tied)
        node = children[0]
        tied.append(node)
