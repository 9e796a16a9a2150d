"""Which documents a plain query matches in a large library (search/narrowing.py), by its pure rule."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pytest
from whoosh import query

from search.narrowing import narrowed
from search.query import Synonyms, parser
from search.reading import parsed
from search.whoosh_index import schema

SYNONYMS = Synonyms(((("db",), ("databas",)),))


def plain(text: str) -> query.Query:
    found = schema()
    return parsed({False: parser(found, expert=False), True: parser(found, expert=True)}, found, text)[0]


def counts(known: Mapping[str, int]) -> Callable[[Sequence[str]], Mapping[str, int]]:
    def frequencies(stems: Sequence[str]) -> Mapping[str, int]:
        return {stem: known[stem] for stem in stems if stem in known}

    return frequencies


def content_words(found: query.Query | None) -> set[str]:
    assert found is not None
    return {str(text) for field, text in found.iter_all_terms() if field == "content"}


def test_a_small_library_or_a_rare_query_is_matched_as_asked() -> None:
    frequencies = counts({"gatewai": 800, "timeout": 900})
    assert narrowed(plain("gateway timeout"), SYNONYMS, frequencies, 1_000) is None
    assert narrowed(plain("gateway timeout"), SYNONYMS, counts({"gatewai": 300, "timeout": 400}), 50_000) is None


def test_the_rarer_words_narrow_and_the_common_ones_only_rank() -> None:
    frequencies = counts({"gatewai": 300, "timeout": 600, "error": 40_000})
    found = narrowed(plain("gateway timeout error"), SYNONYMS, frequencies, 50_000)
    assert isinstance(found, query.Or)
    assert content_words(found) == {"gatewai", "timeout"}


def test_common_words_are_asked_together_rarest_first_until_few_would_match() -> None:
    frequencies = counts({"zookeep": 8_000, "outag": 20_000, "error": 40_000, "disk": 30_000})
    found = narrowed(plain("zookeeper outage errors disk"), SYNONYMS, frequencies, 50_000)
    assert isinstance(found, query.And)
    # 8,000, then x 0.4 = 3,200, then x 0.6 = 1,920, then x 0.8: each step still above 1,000 / 8.
    assert content_words(found) == {"zookeep", "outag", "disk", "error"}
    fewer = narrowed(plain("zookeeper outage"), SYNONYMS, frequencies, 50_000)
    assert content_words(fewer) == {"zookeep", "outag"}


def test_a_word_stands_with_its_synonyms() -> None:
    frequencies = counts({"db": 20_000, "databas": 30_000, "latenc": 2_000})
    found = narrowed(plain("database latency"), SYNONYMS, frequencies, 50_000)
    assert isinstance(found, query.And)
    assert content_words(found) == {"latenc", "databas", "db"}
    (database,) = [part for part in found.subqueries if "db" in content_words(part)]
    assert content_words(database) == {"databas", "db"}


@pytest.mark.parametrize("text", ['"connection pool"', "service:checkout"])
def test_a_phrase_or_a_keyword_value_alone_is_never_narrowed(text: str) -> None:
    # The same words, common enough to narrow as plain words, narrow nothing as a phrase or a value.
    frequencies = counts({"connect": 40_000, "pool": 30_000, "checkout": 45_000})
    assert isinstance(narrowed(plain("connection pool"), SYNONYMS, frequencies, 50_000), query.And)
    assert narrowed(plain(text), SYNONYMS, frequencies, 50_000) is None
