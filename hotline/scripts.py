"""Answer scripts: what an agent (or the IVR) says when the caller's premise is in a known or
planned outage, in English and Chinese, so the call ends without a new report or order.

The wording follows what the caller needs to hear first: no need to report again, who is
working on it (crew on site, on the way, being sent), and when power is back. Times are local
wall-clock times, with the date when it is not the caller's today. ``public=True`` drops the
address (the IVR speaks to whoever dials; the agent's desk may name it to confirm).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, select
from sqlalchemy.orm import Session

from dispatch.models import LIVE_STATUSES, Crew, WorkOrder
from hotline.call_schemas import CrewState, OutageNow, PlannedRead, Script
from outages.models import Outage, PlannedOutage

# The most advanced live order speaks for the outage: a crew on site beats one on the way.
_PROGRESS = {"on_site": 5, "en_route": 4, "dispatched": 3, "planned": 2, "new": 1}
_CREW_EN = {
    "on_site": "a crew is on site",
    "en_route": "a crew is on the way",
    "dispatched": "a crew has been sent",
    "planned": "a crew is assigned",
    "new": "we are sending a crew",
}
_CREW_ZH = {
    "on_site": "抢修人员已到达现场",
    "en_route": "抢修人员正在赶往现场",
    "dispatched": "已派出抢修人员",
    "planned": "已安排抢修人员",
    "new": "我们正在安排抢修人员",
}


def crew_rank() -> ColumnElement[int]:
    """How far a work order has got (higher: further), for ordering live orders in SQL."""
    return case(_PROGRESS, value=WorkOrder.status, else_=0)


def crew_state(*, session: Session, outage_id: int) -> CrewState | None:
    """The most advanced live work order on the outage and its crew, or None."""
    rank = crew_rank()
    row = session.execute(
        select(WorkOrder.status, WorkOrder.eta_at, WorkOrder.on_site_at, Crew.code)
        .outerjoin(Crew, Crew.id == WorkOrder.crew_id)
        .where(WorkOrder.outage_id == outage_id, WorkOrder.status.in_(LIVE_STATUSES))
        .order_by(rank.desc(), WorkOrder.id)
        .limit(1)
    ).first()
    if row is None:
        return None
    return CrewState(crew=row.code, status=row.status, eta_at=row.eta_at, on_site_at=row.on_site_at)


def _times(moment: dt.datetime, now: dt.datetime, zone: ZoneInfo) -> tuple[str, str]:
    """(English, Chinese) wording of a local time, with the date when not today."""
    local, today = moment.astimezone(zone), now.astimezone(zone).date()
    clock = local.strftime("%H:%M")
    if local.date() == today:
        return clock, f"今天{clock}"
    if local.date() == today + dt.timedelta(days=1):
        return f"{clock} tomorrow", f"明天{clock}"
    return f"{clock} on {local.day} {local.strftime('%b')}", f"{local.month}月{local.day}日{clock}"


def outage_script(
    *,
    outage: Outage | OutageNow,
    crew: CrewState | None,
    now: dt.datetime,
    timezone: str,
    address: str | None = None,
) -> Script:
    """The known-outage script: no new report, who is on it, when power is back."""
    zone = ZoneInfo(timezone)
    where_en = f" at {address}" if address else " in your area"
    where_zh = f"（{address}）" if address else "您所在区域"
    crew_en = _CREW_EN[crew.status] if crew else "we are working on it"
    crew_zh = _CREW_ZH[crew.status] if crew else "我们正在处理"
    if crew and crew.status == "en_route" and crew.eta_at:
        eta_en, eta_zh = _times(crew.eta_at, now, zone)
        crew_en += f" (expected at {eta_en})"
        crew_zh += f"（预计{eta_zh}到达）"
    if outage.etr_at is not None:
        etr_en, etr_zh = _times(outage.etr_at, now, zone)
        back_en, back_zh = f"power back by {etr_en}", f"预计{etr_zh}前恢复供电"
    else:
        back_en = "we will give a restoration time as soon as the crew has assessed the damage"
        back_zh = "抢修人员查明情况后我们会尽快告知恢复时间"
    en = (
        f"No need for a new report: we know about the power outage{where_en}. "
        f"{crew_en[0].upper()}{crew_en[1:]}, {back_en}."
    )
    zh = f"无需重复报修：我们已掌握{where_zh}的停电情况，{crew_zh}，{back_zh}。"
    return Script(kind="outage", en=en, zh=zh)


def planned_script(
    *,
    planned: PlannedOutage | PlannedRead,
    now: dt.datetime,
    timezone: str,
    upcoming: bool = False,
) -> Script:
    """Planned work now (no report needed) or in the coming days (a reminder)."""
    zone = ZoneInfo(timezone)
    start_en, start_zh = _times(planned.starts_at, now, zone)
    end_en, end_zh = _times(planned.ends_at, now, zone)
    if upcoming:
        return Script(
            kind="planned_soon",
            en=(
                f"Planned work ({planned.reason}) will cut the power from {start_en} "
                f"until {end_en}."
            ),
            zh=f"计划停电（{planned.reason}）：{start_zh}至{end_zh}。",
        )
    return Script(
        kind="planned",
        en=(
            f"No need for a report: this is planned work ({planned.reason}) that began at "
            f"{start_en}; power back by {end_en}."
        ),
        zh=f"无需报修：这是计划停电（{planned.reason}），{start_zh}开始，预计{end_zh}前恢复供电。",
    )
