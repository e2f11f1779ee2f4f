"""A report as an HTML fragment: headline figures, its tables and SVG charts, in en or zh.

The reports page (``/reports``) fetches this fragment with the supervisor's token and
places it in the page, so the page shell carries no data and every number comes from the
same ``StatsReport`` the CSV and XLSX exports are written from.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from hotline.stats import StatsReport
from hotline.stats.labels import word
from web.pages.svg_charts import MAX_BARS, bar_chart, line_chart

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
RATE_SUFFIX = "_rate"
# Shares shown as percentages beside the ``*_rate`` columns (the plan's 95% intervals).
RATE_NAMES = frozenset(
    {
        "service_level",
        "service_level_low",
        "service_level_high",
        "abandon_low",
        "abandon_high",
        "ivr_share",
    }
)
# The table that each chart draws: (section, label column, value column).
CHARTS = (
    ("contacts_by_hour", "hour", "contacts"),
    ("contacts_by_channel", "channel", "contacts"),
    ("contacts_by_region", "region", "contacts"),
    ("orders_by_region", "region", "orders"),
    ("orders_by_cause", "cause", "orders"),
    ("calls_by_region", "region", "calls_offered"),
    ("calls_by_hour", "hour", "calls_offered"),
)


def show(name: str, value: object) -> str:
    """A cell as text: rates as percentages, missing as a dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, float) and (name.endswith(RATE_SUFFIX) or name in RATE_NAMES):
        return f"{value * 100:.1f}%"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def _table(name: str, frame: pd.DataFrame, lang: str) -> dict[str, object]:
    columns = [str(c) for c in frame.columns]
    rows = [
        [show(columns[i], v.item() if hasattr(v, "item") else v) for i, v in enumerate(row)]
        for row in frame.itertuples(index=False)
    ]
    return {
        "name": name,
        "title": word(name, lang),
        "heads": [word(c, lang) for c in columns],
        "rows": rows,
    }


def charts(report: StatsReport, lang: str) -> list[str]:
    """The SVG charts of the report's sections that have something to draw."""
    out = []
    for section, label, value in CHARTS:
        frame = report.sections.get(section)
        if frame is None or frame.empty:
            continue
        out.append(
            bar_chart(
                word(section, lang),
                [str(v) for v in frame[label]],
                [float(v) for v in frame[value]],
            )
        )
    daily = report.sections.get("daily_saidi")
    if daily is not None and not daily.empty:
        worst = daily.nlargest(MAX_BARS, "saidi_min").sort_values("day")
        out.append(
            bar_chart(
                word("daily_saidi", lang),
                [str(d)[5:] for d in worst["day"]],
                [float(v) for v in worst["saidi_min"]],
                highlight=[bool(v) for v in worst["major_event_day"]],
            )
        )
    forecast = report.sections.get("forecast")
    if forecast is not None and not forecast.empty:
        total = forecast.groupby("hour", sort=True)[["mean", "lo", "hi", "agents_required"]].sum()
        out.append(
            line_chart(
                word("forecast", lang),
                [str(h)[5:] for h in total.index],
                {
                    word("mean", lang): [float(v) for v in total["mean"]],
                    word("agents_required", lang): [float(v) for v in total["agents_required"]],
                },
                band=([float(v) for v in total["lo"]], [float(v) for v in total["hi"]]),
            )
        )
    out += roster_charts(report, lang)
    table = report.sections.get("indicators")
    if table is not None and not table.empty:
        months = sorted(set(table["month"]))
        series = {
            word(name, lang): [
                None if pd.isna(v) else float(v)
                for v in table[table["indicator"] == name].sort_values("month")["value"]
            ]
            for name in ("answer_rate", "onsite_rate", "restore_rate", "satisfaction_rate")
        }
        out.append(line_chart(word("indicators", lang), months, series))
    return out


def roster_charts(report: StatsReport, lang: str) -> list[str]:
    """A roster plan's week: the forecast with its interval, then required vs rostered."""
    frame = report.sections.get("half_hours")
    if frame is None or frame.empty:
        return []
    columns = [
        "calls_forecast",
        "calls_lo",
        "calls_hi",
        "calls_to_agents",
        "required_agents",
        "required_agents_no_ivr",
        "rostered_agents",
    ]
    week = frame.groupby("time", sort=True)[columns].sum()
    labels = [str(t)[5:] for t in week.index]

    def values(column: str) -> list[float | None]:
        return [float(v) for v in week[column]]

    forecast = line_chart(
        word("roster_forecast", lang),
        labels,
        {word(c, lang): values(c) for c in ("calls_forecast", "calls_to_agents")},
        band=([float(v) for v in week["calls_lo"]], [float(v) for v in week["calls_hi"]]),
    )
    agents = line_chart(
        word("roster_agents", lang),
        labels,
        {
            word(c, lang): values(c)
            for c in ("required_agents_no_ivr", "required_agents", "rostered_agents")
        },
    )
    return [forecast, agents]


def render_report(report: StatsReport, lang: str, extra_charts: list[str] | None = None) -> str:
    """The fragment: title, period, headline, charts, then every table."""
    headline = [(word(name, lang), show(name, value)) for name, value in report.headline.items()]
    return TEMPLATES.get_template("report_fragment.html").render(
        title=word(report.kind, lang),
        period_label=word("period", lang),
        period=report.period.label,
        as_of_label=word("as_of", lang),
        as_of=report.as_of.astimezone(report.period.zone).strftime("%Y-%m-%d %H:%M"),
        headline_title=word("headline", lang),
        headline=headline,
        charts=[*(extra_charts or []), *charts(report, lang)],
        tables=[_table(n, f, lang) for n, f in report.sections.items()],
    )
