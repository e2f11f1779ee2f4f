"""Word segmentation for knowledge-base search: jieba in Python, ``simple`` tsvectors in SQL.

PostgreSQL's ``simple`` parser keeps a run of Han characters as one token ("我家停电了"), so
a search for "停电" would never match; Debian's PostgreSQL has no Chinese parser. The text is
therefore cut here with jieba's ``cut_for_search`` (which also yields the short words inside
long ones: "阶梯电价" -> "阶梯", "电价") and stored space-joined, so the ``simple`` parser
sees one token per word. Single Han characters are kept as well, in the lowest weight, so a
one-character query ("表", "闸") still has something to match: those of the title in weight
C, those of the body in D, each once (repetitions would double the tsvector for little).

pg_trgm gets the Latin side only (words, account numbers, codes such as "10kV"): trigrams
of Han text match little (a two-character word has no trigram of its own inside a sentence)
and ``word_similarity`` over long Han runs is slow. The Latin words of every version also go
into a vocabulary (``kb_term``), where pg_trgm finds the word a typo meant.

Text is NFKC-normalized (full-width Latin and digits become ASCII) and case-folded on both
sides, so queries and documents meet in one form.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from dataclasses import dataclass

import jieba

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
WORD = re.compile(r"\w+")
LATIN = re.compile(r"[a-z]")
LATIN_OR_DIGIT = re.compile(r"[a-z0-9]")
# Words every article has; in an OR query they would rank by noise.
_STOPWORD_TEXT = (
    "的 了 是 在 和 与 及 或 我 你 您 他 她 它 我们 你们 吗 呢 吧 啊 呀 么 什么 怎么 怎么办 如何 "
    "哪里 哪些 为什么 请问 一个 这个 那个 可以 能 会 要 就 也 都 还 又 把 被 让 给 对 从 向 "
    "a an and are as at be but by can do does for from how i if in is it its my no not of on "
    "or our should so than that the their then there this to was we what when where which "
    "who why will with you your"
)
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
# Hotline words jieba's general dictionary does not hold as one word.
DOMAIN_WORDS = (
    "停电",
    "复电",
    "来电",
    "跳闸",
    "电表箱",
    "智能电表",
    "峰谷电价",
    "分时电价",
    "阶梯电价",
    "漏电保护器",
    "漏保",
    "故障报修",
    "计划停电",
    "欠费停电",
    "电压低",
    "电压不稳",
    "窃电",
    "违约用电",
    "户号",
    "95598",
)
MIN_PREFIX_CHARS = 4

_ready = threading.Lock()
_initialized = False


def _jieba() -> None:
    """Load jieba's dictionary once (about 0.5 s), quietly, with the hotline's words."""
    global _initialized
    if _initialized:
        return
    with _ready:
        if not _initialized:
            jieba.setLogLevel(logging.WARNING)
            jieba.initialize()
            for word in DOMAIN_WORDS:
                jieba.add_word(word)
            _initialized = True


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def words(text: str) -> list[str]:
    """The searchable words of ``text`` in order (duplicates kept, stopwords dropped)."""
    _jieba()
    out: list[str] = []
    for token in jieba.cut_for_search(normalize(text)):
        for part in WORD.findall(token):
            if part not in STOPWORDS and part != "_":
                out.append(part)
    return out


def han_chars(text: str) -> list[str]:
    """The distinct Han characters of ``text`` that are not stopwords, in first-seen order."""
    return [c for c in dict.fromkeys(HAN.findall(normalize(text))) if c not in STOPWORDS]


def latin_text(text: str) -> str:
    """``text`` without its Han characters, folded and with single spaces: pg_trgm's input."""
    return " ".join(HAN.sub(" ", normalize(text)).split())


@dataclass(frozen=True)
class Document:
    """What goes into an article version's search columns."""

    title_words: str
    body_words: str
    title_chars: str
    body_chars: str
    trigram_text: str


def document(title: str, body: str) -> Document:
    """Space-joined words for ``setweight(to_tsvector('simple', ...))`` and the trigram text."""
    return Document(
        title_words=" ".join(words(title)),
        body_words=" ".join(words(body)),
        title_chars=" ".join(han_chars(title)),
        body_chars=" ".join(han_chars(body)),
        trigram_text=latin_text(f"{title}\n{body}"),
    )


# The tsvectors of a version, from the ``Document`` fields bound as parameters.
TITLE_TSVECTOR_SQL = (
    "setweight(to_tsvector('simple', :title_words), 'A') || "
    "setweight(to_tsvector('simple', :title_chars), 'C')"
)
TSVECTOR_SQL = (
    "setweight(to_tsvector('simple', :title_words), 'A') || "
    "setweight(to_tsvector('simple', :body_words), 'B') || "
    "setweight(to_tsvector('simple', :title_chars), 'C') || "
    "setweight(to_tsvector('simple', :body_chars), 'D')"
)


@dataclass(frozen=True)
class Query:
    """A search query cut like the documents.

    ``terms``: one tsquery term per word; ``char_terms``: the Han characters of its longer
    words (the fallback when the words find too little: a wrong character, an unusual cut);
    ``latin``: the Latin words pg_trgm may correct; ``probe``: the Latin side for
    ``word_similarity``.
    """

    words: tuple[str, ...]
    chars: tuple[str, ...]
    terms: tuple[str, ...]
    char_terms: tuple[str, ...]
    latin: tuple[str, ...]
    probe: str | None


def term(word: str) -> str:
    """A word as a tsquery term (Latin words of four letters or more also match longer
    forms: "meter" finds "meters")."""
    # Words hold only \w characters, so quoting cannot be broken out of.
    prefix = ":*" if LATIN.search(word) and len(word) >= MIN_PREFIX_CHARS else ""
    return f"'{word}'{prefix}"


def latin_words(text: str) -> list[str]:
    """The distinct Latin words of ``text`` long enough for trigrams to say anything."""
    return [w for w in dict.fromkeys(words(text)) if LATIN.search(w) and len(w) >= 3]


def query(text: str) -> Query:
    """Cut a query into its words, the fallback characters and the Latin side."""
    found = tuple(dict.fromkeys(words(text)))
    chars = tuple(c for c in han_chars(text) if c not in found)
    return Query(
        words=found,
        chars=chars,
        terms=tuple(term(w) for w in found),
        char_terms=tuple(term(c) for c in chars),
        latin=tuple(latin_words(text)),
        probe=latin_text(text) if LATIN_OR_DIGIT.search(normalize(text)) else None,
    )
