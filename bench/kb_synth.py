"""Synthetic knowledge-base articles and the queries that target them (bench/kb_search.py).

A real hotline base holds thousands of local notices next to its general articles: planned
work on one road, a service hall's hours, repair progress on one feeder, the tariff for one
kind of business. The generator writes such notices, half in Chinese and half in English,
each about a unique road, place or feeder code, with the general words (停电, 检修, 跳闸,
电费, outage, meter ...) in their bodies: they are the distractors of the seeded articles'
queries and the targets of their own queries, which use two-character place names,
one-character typos, English typos and feeder codes mixed with Chinese.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

ZH_FIRST = "东西南北金银玉青白红龙凤安康平和新兴长乐福寿春秋"
ZH_SECOND = "湖山河桥塘湾岭坊园村庄港田林泉溪"
ZH_SUFFIX = ("路", "街", "巷", "大道", "里")
EN_FIRST = (
    "Maple", "Birch", "Harbour", "Mill", "Station", "Church", "Market", "Forest", "Lake",
    "River", "Hill", "Park", "Bridge", "Castle", "Garden", "Meadow", "Willow", "Cedar",
    "Granite", "Silver", "Orchard", "Quarry", "Beacon", "Heather",
)  # fmt: skip
EN_SUFFIX = ("Road", "Street", "Lane", "Avenue", "Close", "Way")
ZH_CAUSES = ("雷击", "大风刮断树枝", "设备老化", "车辆撞杆", "施工挖断电缆")
EN_CAUSES = (
    "a lightning strike",
    "a falling branch",
    "an ageing cable joint",
    "a car hitting a pole",
)
ZH_INDUSTRY = ("餐饮", "商超", "学校", "医院", "农业灌溉", "冷库", "洗车", "理发")
EN_INDUSTRY = ("restaurant", "supermarket", "school", "farm irrigation", "cold store", "bakery")
# The Chinese typos: a character swapped for one that sounds or looks alike.
LOOKALIKE = dict(zip("湖山河桥塘湾岭园村港田林泉溪", "胡三何乔唐弯领元寸巷由琳全西", strict=True))


@dataclass(frozen=True)
class SynthArticle:
    slug: str
    language: str
    category: str
    title: str
    body: str
    key: str  # what the notice is about: notices with one key answer the same query


@dataclass(frozen=True)
class SynthQuery:
    q: str
    kind: str
    relevant: tuple[str, ...]


def _typo(word: str, rng: random.Random) -> str:
    """Two neighbouring letters swapped (a dropped letter in short words)."""
    if len(word) < 5:
        i = rng.randrange(1, len(word))
        return word[:i] + word[i + 1 :]
    i = rng.randrange(1, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def _zh(slug: str, kind: int, rng: random.Random, road: str, feeder: str) -> SynthArticle:
    place = road[:2]
    date = f"{rng.randint(1, 12)}月{rng.randint(1, 28)}日"
    a, b = sorted(rng.sample(range(1, 200), 2))
    if kind == 0:
        return SynthArticle(
            slug, "zh", "outage", f"{road}{date}检修公告",
            f"因{feeder}线路检修，{date}8:00至17:00，{road}{a}号至{b}号将停电。"
            "停电期间请关闭电器，注意安全，如有疑问请拨打95598。",
            f"zh-road:{place}",
        )  # fmt: skip
    if kind == 1:
        return SynthArticle(
            slug, "zh", "service", f"{place}供电营业厅地址和营业时间",
            f"{place}供电营业厅位于{road}{a}号，周一至周五8:30至17:30营业，"
            "可办理新装、增容、过户和电费缴纳业务，节假日暂停营业。",
            f"zh-hall:{place}",
        )  # fmt: skip
    if kind == 2:
        return SynthArticle(
            slug, "zh", "outage", f"{feeder}线抢修进展（{place}）",
            f"{date}，{feeder}线因{rng.choice(ZH_CAUSES)}跳闸，{place}{road}一带部分用户停电，"
            "抢修人员已到达现场，预计当天恢复供电。",
            f"zh-feeder:{feeder}",
        )  # fmt: skip
    industry = rng.choice(ZH_INDUSTRY)
    return SynthArticle(
        slug, "zh", "tariff", f"{place}{industry}用户电价执行说明",
        f"{place}地区{industry}用户执行一般工商业电价，可选择峰谷分时电价，"
        f"电费按月结算，详情可到{road}营业厅咨询。",
        f"zh-tariff:{place}:{industry}",
    )  # fmt: skip


def _en(slug: str, kind: int, rng: random.Random, road: str, feeder: str) -> SynthArticle:
    place = road.split()[0] + " district"
    day = f"{rng.randint(1, 28)} {rng.choice(('March', 'April', 'May', 'June'))}"
    a, b = sorted(rng.sample(range(1, 200), 2))
    if kind == 0:
        return SynthArticle(
            slug, "en", "outage", f"Maintenance notice: {road}, {day}",
            f"Because of maintenance on feeder {feeder}, numbers {a} to {b} of {road} will be "
            f"without power on {day} from 08:00 to 17:00. Please switch off appliances.",
            f"en-road:{road}",
        )  # fmt: skip
    if kind == 1:
        return SynthArticle(
            slug, "en", "service", f"{place} service hall: address and opening hours",
            f"The {place} service hall at {a} {road} is open Monday to Friday 08:30-17:30 "
            "for new connections, capacity increases, account transfers and bill payments.",
            f"en-hall:{place}",
        )  # fmt: skip
    if kind == 2:
        return SynthArticle(
            slug, "en", "outage", f"Repair progress on feeder {feeder} ({place})",
            f"On {day} feeder {feeder} tripped after {rng.choice(EN_CAUSES)}; customers around "
            f"{road} in {place} are without power. The crew is on site.",
            f"en-feeder:{feeder}",
        )  # fmt: skip
    industry = rng.choice(EN_INDUSTRY)
    return SynthArticle(
        slug, "en", "tariff", f"Tariff for {industry} customers in {place}",
        f"{industry.capitalize()} customers in {place} pay the general commercial tariff "
        f"and may choose time-of-use pricing; ask at the {road} service hall.",
        f"en-tariff:{place}:{industry}",
    )  # fmt: skip


def articles(n: int, *, seed: int, start: int = 0) -> list[SynthArticle]:
    """``n`` notices numbered from ``start``, alternately Chinese and English; the same
    arguments give the same notices. Feeder codes are unique; roads repeat once the names
    run out (1,920 Chinese, 144 English), which only makes more notices share a key."""
    rng = random.Random(seed * 1_000_003 + start)
    zh_roads = [f + s + x for f in ZH_FIRST for s in ZH_SECOND for x in ZH_SUFFIX]
    en_roads = [f"{f} {x}" for f in EN_FIRST for x in EN_SUFFIX]
    random.Random(seed).shuffle(zh_roads)
    random.Random(seed + 1).shuffle(en_roads)
    out = []
    for i in range(start, start + n):
        k = i // 2
        slug = f"syn-{i:05d}"
        if i % 2 == 0:
            out.append(_zh(slug, k % 4, rng, zh_roads[k % len(zh_roads)], f"F{1000 + k}"))
        else:
            out.append(_en(slug, k % 4, rng, en_roads[k % len(en_roads)], f"K{1000 + k}"))
    return out


def queries(arts: list[SynthArticle], n: int, *, seed: int) -> list[SynthQuery]:
    """``n`` queries, each aimed at one notice by what makes it unique (its key)."""
    rng = random.Random(seed + 7)
    by_key: dict[str, list[str]] = {}
    for art in arts:
        by_key.setdefault(art.key, []).append(art.slug)
    out = []
    for art in rng.sample(arts, min(n, len(arts))):
        q, kind = _query_for(art, rng)
        out.append(SynthQuery(q, kind, tuple(by_key[art.key])))
    return out


def _query_for(art: SynthArticle, rng: random.Random) -> tuple[str, str]:
    what, _, rest = art.key.partition(":")
    if what == "zh-road":
        if rng.random() < 0.5:
            return f"{rest} 停电", "zh2"  # the two-character place name and a word
        road = re.match(r"\D+?(?=\d)", art.title)
        assert road is not None
        wrong = rest[0] + LOOKALIKE.get(rest[1], rest[1]) + road.group()[2:]
        return f"{wrong}停电", "zht"
    if what == "zh-hall":
        return f"{rest} 营业厅", "zh2"
    if what == "zh-feeder":
        return f"{rest} 跳闸", "mix"
    if what == "zh-tariff":
        place, industry = rest.split(":")
        return f"{place}{industry}电价", "zhq"
    if what == "en-road":
        first, suffix = rest.split(" ", 1)
        return f"{_typo(first, rng)} {suffix} maintenance", "ent"
    if what == "en-hall":
        return f"{rest} service hall hours", "en"
    if what == "en-feeder":
        return f"{rest} 抢修", "mix"
    place, industry = rest.split(":")
    return f"{industry} tariff {place}", "en"
