"""Reliability indices: IEEE 1366-2012 with major event days, and DL/T 836 beside them.

No maintained Python library computes these from outage records, so they are written here
over pandas: ``records`` (the interruption table and how days are attributed),
``from_outages`` (stormdesk's outages and affected premises into that table), ``ieee1366``
(the indices), ``med`` (the 2.5-beta major event days), ``dlt836`` (the Chinese supply
reliability figures) and ``report`` (all of them per system, region, feeder and cause for
all, normal and major event days).
"""

from outages.reliability.dlt836 import Causes, dlt836_indices
from outages.reliability.from_outages import interruptions_from_outages
from outages.reliability.ieee1366 import INDEX_NAMES, IndexOptions, components, indices
from outages.reliability.med import Threshold, daily_saidi, major_event_days, thresholds
from outages.reliability.records import (
    COLUMNS,
    MOMENTARY_MAX_MIN,
    InvalidInterruptions,
    empty_interruptions,
    prepare,
)
from outages.reliability.report import ReliabilityReport, reliability_report

__all__ = [
    "COLUMNS",
    "INDEX_NAMES",
    "MOMENTARY_MAX_MIN",
    "Causes",
    "IndexOptions",
    "InvalidInterruptions",
    "ReliabilityReport",
    "Threshold",
    "components",
    "daily_saidi",
    "dlt836_indices",
    "empty_interruptions",
    "indices",
    "interruptions_from_outages",
    "major_event_days",
    "prepare",
    "reliability_report",
    "thresholds",
]
