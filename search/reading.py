"""What every engine does the same way with a person's query: reading it (plain words when its syntax
cannot be read), the words "did you mean" considers and corrects, and the telling words of a
description; and which fields of a hit show fragments."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from whoosh import query
from whoosh.fields import Schema
from whoosh.qparser import MultifieldParser
from whoosh.qparser.common import QueryParserError

from .query import SPELLING_WORD_MAX, analyzer, is_expert, words_query

# Words "did you mean" considers: letters only, not a field's name or value.
WORD = re.compile(rf"(?<![\w:])[^\W\d_]{{2,{SPELLING_WORD_MAX}}}(?![\w:])")
HIGHLIGHT_FIELDS = ("summary", "factors", "impact", "lessons", "countermeasures", "body", "title")
HIGHLIGHTS_SHOWN = 3
TELLING_WORDS = 24
# Of a description, the first characters are what its telling words are drawn from.
DESCRIPTION_CHARS = 20_000


def parsed(parsers: Mapping[bool, MultifieldParser], schema: Schema, text: str) -> tuple[query.Query, bool]:
    """The query, or its plain words when the syntax cannot be read or names a field that does not
    exist; and whether it was read as plain words."""
    try:
        found = parsers[is_expert(text)].parse(text)
    except QueryParserError:
        return words_query(schema, text), True
    unknown = any(field not in schema for field, _text in found.iter_all_terms())
    if found is query.NullQuery or unknown:
        return words_query(schema, text), True
    return found, False


def corrections(text: str, correct: Callable[[str], str | None]) -> tuple[str | None, list[str], list[str]]:
    """The text with each word `correct` knows a better word for replaced (None when none is); the
    words it replaced, and those it had no answer for (unknown, with no better word known).

    `correct` answers the word itself when it is known, a better word, or None when it has none."""
    unknown: list[str] = []
    replaced: list[str] = []

    def one(match: re.Match[str]) -> str:
        word = match.group(0)
        plain = word.lower()
        if word.isupper() and plain in ("and", "or", "not"):
            return word
        better = correct(plain)
        if better == plain:
            return word
        unknown.append(plain)
        if better is None:
            return word
        replaced.append(better)
        return better

    suggestion = WORD.sub(one, text)
    return (suggestion if replaced else None), replaced, unknown


def stems_of(word: str) -> list[str]:
    """A word's analyzed form (none for a stop word)."""
    return [token.text for token in analyzer()(word)]


def telling_words(text: str, frequencies: Callable[[Sequence[str]], Mapping[str, int]], total: int) -> list[str]:
    """The words of a description that say most about it: frequent in it, rare in the library (tf-idf);
    `frequencies` tells in how many documents each word is, `total` how many there are."""
    seen: dict[str, int] = {}
    for token in analyzer()(text[:DESCRIPTION_CHARS]):
        seen[token.text] = seen.get(token.text, 0) + 1
    counts = frequencies(list(seen))
    scored = []
    for word, tf in seen.items():
        df = counts.get(word, 0)
        if df:
            scored.append((tf * (1.0 + (max(1, total) / (1 + df))) ** 0.5, word))
    return [word for _score, word in sorted(scored, reverse=True)[:TELLING_WORDS]]
