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


@dataclass(frozen=True)
class RollUp:
    """A decision: these outages become one outage on ``device_id``, and why."""

    device_id: int
    outage_ids: list[int]
    reporting_premises: int
    customers_below: int
    share: float


def plan_rollups(tree: FeederTree, groups: Iterable[Group], rule: RollUpRule) -> list[RollUp]:
    """Merge groups bottom-up into the lowest devices whose downstream set explains them.

    A device qualifies when at least two groups sit strictly below or at it (so a lower
    device would not explain them as well), enough distinct premises below it reported,
    and they are a large enough share of its customers. The deepest qualifying device is
    merged first, then the search repeats, so outages climb only as far as evidence goes.
    """
    current = [Group(list(g.outage_ids), g.device_id, set(g.reporting_premises)) for g in groups]
    moved: dict[int, Group] = {}
    while True:
        best: tuple[int, int, list[Group]] | None = None
        candidates = {
            a
            for g in current
            for a in tree.ancestors(g.device_id)
            if tree.kinds.get(a) != "transformer"
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
            )
        )
    return result
