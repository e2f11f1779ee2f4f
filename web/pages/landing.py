"""The landing page at ``/``: what stormdesk offers and a link to each face, in two languages.

Rendered on the server in English or Chinese (``?lang=`` first, then the browser's
Accept-Language), so it needs no script. It shows the one public figure everyone looks for
first, how many outages there are and how many customers are off, with plural forms per
language (``plural``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from geo.types import Text
from outages.service import count_active
from web.deps import SessionDep

router = APIRouter(tags=["pages"])

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
BRAND = "stormdesk"
LANGS = ("en", "zh-CN")
# CLDR plural categories: English has "one" and "other", Chinese only "other".
PLURAL_RULES: dict[str, Callable[[int], str]] = {
    "en": lambda n: "one" if n == 1 else "other",
    "zh-CN": lambda n: "other",
}
Forms = dict[str, str]


def plural(lang: str, n: int, forms: Forms) -> str:
    """``forms[category]`` with ``{n}`` filled in, the category chosen by the language's rule.

    >>> plural("en", 1, {"one": "{n} outage", "other": "{n} outages"})
    '1 outage'
    """
    category = PLURAL_RULES[lang](n)
    return forms.get(category, forms["other"]).format(n=f"{n:,}")


STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Outages and repairs",
        "lead": "Power outage intake and repair dispatch for an electric utility, on a "
        "synthetic grid over central Helsinki.",
        "language": "Language",
        "public": "For customers",
        "staff": "For staff (login)",
        "status": "Power status",
        "status_text": "Is my power on? Check an address, report a fault, track your report.",
        "outages": "Outage map",
        "outages_text": "Current outages by area and region, restoration times, planned work.",
        "console": "Dispatch console",
        "console_text": "Dispatchers, agents and supervisors: the live map, outages, dispatch.",
        "crew": "Crew page",
        "crew_text": "Field crews: my route, my jobs, one tap per step.",
        "desk": "Service desk",
        "desk_text": "Hotline agents: calls, tickets and the knowledge base.",
        "developers": "For developers",
        "docs": "API documentation (OpenAPI)",
        "open311": "Open311 GeoReport v2 services",
        "now": "Now",
        "none": "No known outages right now.",
        "credit": "Map data © OpenStreetMap contributors, ODbL · synthetic grid for demonstration",
    },
    "zh-CN": {
        "title": "停电报修与抢修调度",
        "lead": "面向供电企业的停电报修受理与抢修调度系统，演示数据为赫尔辛基市中心的模拟电网。",
        "language": "语言",
        "public": "客户服务",
        "staff": "员工入口（需登录）",
        "status": "供电状态",
        "status_text": "我家有电吗？查询地址、报修故障、查询报修进度。",
        "outages": "停电地图",
        "outages_text": "当前停电的区域和地区、预计恢复时间、计划检修。",
        "console": "调度台",
        "console_text": "调度员、客服和班长：实时地图、停电事件与派工。",
        "crew": "抢修班组",
        "crew_text": "抢修人员：我的路线、我的工单，一键更新进度。",
        "desk": "客服工作台",
        "desk_text": "热线客服：来电、工单与知识库。",
        "developers": "开发者",
        "docs": "接口文档（OpenAPI）",
        "open311": "Open311 GeoReport v2 服务",
        "now": "当前",
        "none": "目前没有已知的停电。",
        "credit": "地图数据 © OpenStreetMap 贡献者，ODbL · 演示用模拟电网",
    },
}
OUTAGE_FORMS: dict[str, Forms] = {
    "en": {"one": "{n} outage", "other": "{n} outages"},
    "zh-CN": {"other": "{n} 处停电"},
}
CUSTOMER_FORMS: dict[str, Forms] = {
    "en": {"one": "{n} customer off", "other": "{n} customers off"},
    "zh-CN": {"other": "{n} 户停电"},
}


def choose_language(asked: str | None, accept_language: str | None) -> str:
    """``?lang=`` when it names one of ours, else the first of the browser's we have."""
    if asked in LANGS:
        return asked
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return "en"


def render_landing(*, root_path: str, lang: str, outages: int, customers: int) -> str:
    """The page as one HTML document; ``root_path`` prefixes every local URL."""
    words = STRINGS[lang]
    summary = (
        f"{plural(lang, outages, OUTAGE_FORMS[lang])} · "
        f"{plural(lang, customers, CUSTOMER_FORMS[lang])}"
        if outages
        else words["none"]
    )
    return TEMPLATES.get_template("landing.html").render(
        root=root_path,
        static_url=f"{root_path}/static",
        brand=BRAND,
        lang=lang,
        langs=LANGS,
        t=words,
        summary=summary,
    )


@router.get("/", response_class=HTMLResponse)
def landing(
    request: Request,
    session: SessionDep,
    lang: Annotated[Text | None, Query(max_length=16, description="en or zh-CN")] = None,
    accept_language: Annotated[Text | None, Header(max_length=500)] = None,
) -> HTMLResponse:
    """The landing page: links to the status page, outage map, console, crew page and desk."""
    chosen = choose_language(lang, accept_language)
    outages, customers = count_active(session=session)
    html = render_landing(
        root_path=request.scope.get("root_path", ""),
        lang=chosen,
        outages=outages,
        customers=customers,
    )
    return HTMLResponse(html, headers={"Content-Language": chosen, "Vary": "Accept-Language"})
