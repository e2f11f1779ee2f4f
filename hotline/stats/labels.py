"""Words of the reports in English and Chinese: titles, section names and column heads.

A name that has no entry is shown as it is (a feeder code, a region code), so adding a
column never breaks a page; the exports keep the machine names in their header rows so a
spreadsheet formula does not depend on the reader's language.
"""

from __future__ import annotations

LANGUAGES = ("en", "zh")

WORDS: dict[str, tuple[str, str]] = {
    "daily": ("Daily report", "日报"),
    "indicators": ("Monthly indicators", "指标月报"),
    "reported": ("Reported form", "上报报表"),
    "reliability": ("Reliability indices", "供电可靠性指标"),
    "staffing": ("Forecast and roster", "话务预测与排班"),
    "wallboard": ("Wallboard", "实时监控大屏"),
    "headline": ("Headline figures", "主要指标"),
    "calls_by_region": ("Calls by region", "各区域话务"),
    "contacts_by_channel": ("Contacts by channel", "按渠道受理量"),
    "calls_by_channel": ("Calls by channel", "按渠道话务"),
    "calls_by_type": ("Calls by type", "按类型话务"),
    "calls_by_hour": ("Calls by hour", "按小时话务"),
    "disposition": ("Type", "类型"),
    "abandoned": ("Abandoned", "放弃"),
    "contacts_by_category": ("Contacts by type", "按类型受理量"),
    "contacts_by_region": ("Contacts by region", "按区域受理量"),
    "contacts_by_hour": ("Contacts by hour", "按小时受理量"),
    "orders_by_region": ("Fault orders by region", "按区域故障工单"),
    "orders_by_feeder": ("Fault orders by feeder", "按线路故障工单"),
    "orders_by_cause": ("Fault orders by cause", "按原因故障工单"),
    "tickets_by_type": ("Tickets by type and class", "按类型工单"),
    "satisfaction": ("Satisfaction from return visits", "回访满意度"),
    "items": ("Items", "上报项目"),
    "contacts": ("Contacts", "受理量"),
    "calls_offered": ("Calls offered", "呼入量"),
    "answer_rate": ("Answer rate", "接通率"),
    "service_level": ("Service level (20 s)", "服务水平(20秒)"),
    "average_wait_s": ("Average wait (s)", "平均等待(秒)"),
    "abandon_rate": ("Abandonment", "放弃率"),
    "orders": ("Fault orders", "故障工单"),
    "onsite_met": ("On site in time", "按时到达现场"),
    "onsite_rate": ("On-site clock met", "到达现场及时率"),
    "restore_met": ("Restored in time", "按时恢复供电"),
    "restore_rate": ("Restore clock met", "恢复供电及时率"),
    "tickets": ("Tickets", "工单数"),
    "tickets_answered_on_time_rate": ("Tickets answered in time", "工单按时办结率"),
    "tickets_overdue": ("Tickets overdue", "超时工单"),
    "satisfaction_rate": ("Satisfaction", "满意率"),
    "contacted_on_time": ("Contacted in time", "按时联系"),
    "answered": ("Answered", "已答复"),
    "answered_on_time": ("Answered in time", "按时答复"),
    "overdue": ("Overdue", "超时"),
    "ticket_type": ("Type", "类型"),
    "ticket_class": ("Class", "分类"),
    "region": ("Region", "区域"),
    "feeder": ("Feeder", "线路"),
    "cause": ("Cause", "原因"),
    "channel": ("Channel", "渠道"),
    "category": ("Type", "类型"),
    "hour": ("Hour", "小时"),
    "source": ("Source", "来源"),
    "visits": ("Return visits", "回访数"),
    "reached": ("Reached", "回访成功"),
    "satisfied": ("Satisfied", "满意"),
    "rate": ("Rate", "比率"),
    "month": ("Month", "月份"),
    "indicator": ("Indicator", "指标"),
    "value": ("Value", "数值"),
    "target": ("Target", "目标"),
    "met": ("Met", "达标"),
    "change": ("Change", "环比变化"),
    "item": ("Item", "项目"),
    "period": ("Period", "统计周期"),
    "as_of": ("As of", "截至"),
    "export": ("Export", "导出"),
    "daily_saidi": (
        "Daily SAIDI (min), major event days in red",
        "每日SAIDI(分钟),红色为重大事件日",
    ),
    "reliability_system": ("Indices: system", "系统指标"),
    "reliability_region": ("Indices by region", "按区域指标"),
    "reliability_feeder": ("Indices by feeder", "按线路指标"),
    "reliability_cause": ("Indices by cause", "按原因指标"),
    "thresholds": ("Major event day thresholds (2.5 beta)", "重大事件日阈值(2.5β)"),
    "major_event_days": ("Major event days", "重大事件日"),
    "major_event_day": ("Major event day", "重大事件日"),
    "saidi_min": ("SAIDI (min)", "SAIDI(分钟)"),
    "saifi": ("SAIFI", "SAIFI"),
    "caidi_min": ("CAIDI (min)", "CAIDI(分钟)"),
    "rs1_pct": ("RS-1 (%)", "供电可靠率RS-1(%)"),
    "aihc1_h": ("AIHC-1 (h)", "用户平均停电时间(小时)"),
    "aitc1": ("AITC-1", "用户平均停电次数"),
    "day_class": ("Days", "日类别"),
    "group": ("Group", "分组"),
    "scope": ("Scope", "范围"),
    "customers_served": ("Customers served", "用户数"),
    "day": ("Day", "日期"),
}


def word(name: str, lang: str) -> str:
    """``name`` in ``lang`` (``en`` or ``zh``), else the name itself."""
    pair = WORDS.get(name)
    if pair is None:
        return name
    return pair[1] if lang == "zh" else pair[0]
