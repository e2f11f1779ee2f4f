"""Planned-work reasons in both languages of the public pages.

A planned outage's reason is free text typed by staff (in English, as the console is), and
the public pages speak English and Chinese. Rather than machine-translate, the commonest
kinds of work are a small vocabulary: a reason that names one of them ("Transformer
replacement", "transformer replacement on Fredrikinkatu") gets its wording in both languages;
any other reason is shown as typed, marked as English, so a Chinese reader at least sees
that it was not translated rather than a wrong translation.
"""

from __future__ import annotations

import re

# code -> (English wording, Chinese wording, the words that name it in typed text); the
# first entry that matches wins, so specific work comes before "line".
REASONS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "transformer": ("Transformer replacement or maintenance", "变压器更换或检修", ("transformer",)),
    "cable": ("Cable replacement or repair", "电缆更换或维修", ("cable",)),
    "trees": ("Tree trimming near power lines", "线路树木修剪", ("tree", "vegetation")),
    "line": ("Overhead line maintenance", "架空线路检修", ("overhead line", "line work", "line")),
    "switchgear": ("Switchgear maintenance", "开关设备检修", ("switchgear", "switch", "breaker")),
    "pole": ("Pole replacement", "电杆更换", ("pole",)),
    "substation": ("Substation maintenance", "变电站检修", ("substation",)),
    "meter": ("Meter replacement", "电表更换", ("meter",)),
    "upgrade": ("Network upgrade", "电网升级改造", ("upgrade", "reinforcement", "new connection")),
    "inspection": ("Inspection and testing", "设备巡检与试验", ("inspection", "testing", "test")),
}


def reason_code(reason: str) -> str | None:
    """The vocabulary entry a typed reason names (the first in ``REASONS`` order), or None."""
    text = reason.lower()
    for code, (_, _, words) in REASONS.items():
        if any(re.search(rf"\b{re.escape(word)}", text) for word in words):
            return code
    return None


def reason_texts(reason: str) -> dict[str, str]:
    """The reason in ``en`` and ``zh-CN``; an unknown reason is the typed text in ``en`` only."""
    code = reason_code(reason)
    if code is None:
        return {"en": reason}
    english, chinese, _ = REASONS[code]
    return {"en": english, "zh-CN": chinese}
