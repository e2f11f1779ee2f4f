"""Call forecasts on held-out storm weeks: the nowcast against statsforecast's MSTL.

Run from the repository root: ``.venv/bin/python -m bench.forecast`` (``--quick`` for a
smaller territory). It generates five years of history on a 1,000,000-customer territory
in 5 regions (``scenarios.history``), takes every week with a typhoon day from the third
year on, and for each, with only the hours before its Monday 00:00 to learn from:

- the baseline: ``baseline_forecast`` (MSTL with 24 h and 168 h seasons, AutoETS trend,
  last 8 weeks) for the whole week, with its 80 % interval;
- the nowcast: ``fit_nowcast`` once, then every hour of the week the next hour's calls
  from the live outage state at that hour, with its 80 % interval.

Storm hours are the region-hours with at least 1 % of the region's customers out. WAPE is
sum |actual - forecast| / sum actual over them; coverage is the share of hours inside the
80 % interval, over storm hours and over every hour of the storm weeks.
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from bench.common import record
from hotline.forecast import (
    baseline_forecast,
    coverage,
    fit_nowcast,
    live_state,
    storm_weeks,
    wape,
)
from scenarios.history import HistoryConfig, generate_history, synthetic_summary

TZ = "Asia/Shanghai"
STORM_SHARE = 0.01


def week_of(hourly: pd.DataFrame, week: pd.Timestamp, served: pd.Series) -> pd.DataFrame:
    """Actuals, baseline and nowcast of one held-out week, joined per region and hour."""
    base = baseline_forecast(hourly, week)
    model = fit_nowcast(hourly, week, horizon_h=1)
    origins = pd.date_range(week, periods=168, freq="h")
    now = pd.concat([model.predict(o, live_state(hourly, o)) for o in origins])
    actual = hourly[(hourly["hour"] >= week) & (hourly["hour"] < week + pd.Timedelta(days=7))]
    joined = actual.merge(base, on=["region", "hour"]).merge(
        now, on=["region", "hour"], suffixes=("_base", "_now")
    )
    storm = joined["customers_out"] >= STORM_SHARE * joined["region"].map(served)
    return joined.assign(storm=storm.to_numpy(), week=week)


def scores(frame: pd.DataFrame) -> dict[str, float]:
    storm = frame[frame["storm"]]
    return {
        "storm_hours": float(len(storm)),
        "storm_calls": float(storm["calls"].sum()),
        "wape_now": wape(storm["calls"], storm["mean_now"]),
        "wape_base": wape(storm["calls"], storm["mean_base"]),
        "cover_now_storm": coverage(storm["calls"], storm["lo_now"], storm["hi_now"]),
        "cover_now_all": coverage(frame["calls"], frame["lo_now"], frame["hi_now"]),
        "cover_base_all": coverage(frame["calls"], frame["lo_base"], frame["hi_base"]),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=None, help="default 1,000,000")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="200,000 customers")
    parser.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args(argv)
    customers = args.customers or (200_000 if args.quick else 1_000_000)
    territory = synthetic_summary(n_customers=customers, n_feeders=customers // 200)
    config = HistoryConfig(years=5, seed=args.seed)
    history = generate_history(territory, config)
    served = history.served.groupby("region")["customers"].sum()
    weeks = [w for w in storm_weeks(history.typhoon_days, TZ) if w.year >= config.start.year + 2]
    frames, lines = [], []
    started = time.perf_counter()
    for week in weeks:
        frame = week_of(history.hourly, week, served)
        frames.append(frame)
        s = scores(frame)
        lines.append(
            f"| {week.date()} | {s['storm_hours']:.0f} | {s['storm_calls']:,.0f} | "
            f"{s['wape_now']:.1%} | {s['wape_base']:.1%} | {s['cover_now_storm']:.1%} | "
            f"{s['cover_now_all']:.1%} | {s['cover_base_all']:.1%} |"
        )
    elapsed = time.perf_counter() - started
    total = scores(pd.concat(frames, ignore_index=True))
    header = [
        f"Territory: {customers:,} customers on {customers // 200:,} feeders in 5 regions; "
        f"history: 5 years, seed {args.seed}, {len(history.typhoon_days)} typhoon days; "
        f"{len(weeks)} held-out storm weeks from {config.start.year + 2} on, each forecast "
        f"from only the hours before it ({elapsed:.0f} s for all of them).",
        "",
        "| week | storm hours | calls in them | nowcast WAPE | MSTL WAPE | nowcast 80 % "
        "cover (storm) | nowcast 80 % cover (all) | MSTL 80 % cover (all) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *lines,
        f"| **all** | {total['storm_hours']:.0f} | {total['storm_calls']:,.0f} | "
        f"**{total['wape_now']:.1%}** | {total['wape_base']:.1%} | "
        f"{total['cover_now_storm']:.1%} | **{total['cover_now_all']:.1%}** | "
        f"{total['cover_base_all']:.1%} |",
        "",
        f"Storm-hour WAPE: nowcast {total['wape_now']:.1%} against MSTL's "
        f"{total['wape_base']:.1%}, {1 - total['wape_now'] / total['wape_base']:.0%} lower "
        "(targets: <= 15 % and at least 30 % lower). The nowcast is the next hour's "
        "forecast from the live state; MSTL's is the week-ahead forecast a roster is made on.",
    ]
    body = "\n".join(header) + "\n"
    print(body)
    if not args.no_record:
        record("Call forecast", "bench.forecast", body)


if __name__ == "__main__":
    main()
