"""The multi-year history generator's pure core (seeded; territory summary in, frames out).

``territory`` (the plain summary it runs on), ``weather`` (severity and typhoon days),
``outages`` (events and their restoration steps), ``calls`` (hourly calls and their
drivers) and ``generate`` (all of it for five years).
"""

from scenarios.history.calls import CallRates, draw_calls
from scenarios.history.generate import History, HistoryConfig, generate_history
from scenarios.history.outages import OutageRates
from scenarios.history.territory import Feeder, TerritorySummary, synthetic_summary

__all__ = [
    "CallRates",
    "Feeder",
    "History",
    "HistoryConfig",
    "OutageRates",
    "TerritorySummary",
    "draw_calls",
    "generate_history",
    "synthetic_summary",
]
