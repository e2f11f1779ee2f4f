"""The centre's numbers: the daily report, monthly indicators, the reported (上报) form,
and their exports.

``period`` (local days to UTC bounds), ``sources`` (the records, read set-based),
``calls`` (answer rate, service level, wait, abandonment), ``daily`` (the report's tables,
pure pandas), ``indicators`` (targets and trends), ``service`` (the reports a supervisor
asks for), ``export`` (CSV and XLSX), ``labels`` (English and Chinese words).
"""

from hotline.stats.daily import StatsReport
from hotline.stats.period import InvalidPeriod, Period
from hotline.stats.service import daily_report, indicator_report, period_report, reported_form

__all__ = [
    "InvalidPeriod",
    "Period",
    "StatsReport",
    "daily_report",
    "indicator_report",
    "period_report",
    "reported_form",
]
