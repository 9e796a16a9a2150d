"""Documents and queries in PostgreSQL's full-text terms, by pure functions.

Both engines read words the same way: the analyzer of search/query.py (the same stems and stop words)
makes the lexemes here, and a query is parsed by the same parser, then written as a `tsquery`. So the
two engines find the same documents for the same query. A lexeme is tagged with its field
("title/connect"), which lets an expert's `title:` query and a phrase stay within one field; its
weight (A to D) is how much a match in that field counts when ranking.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator

from whoosh import query

from .documents import SearchDocument
from .query import TEXT_FIELDS, analyzer
from .whoosh_index import analyzer_unstemmed

# How much a match counts, by weight: ts_rank's array is {D, C, B, A}.
RANK_WEIGHTS = "{0.05, 0.35, 0.5, 1.0}"
FIELD_WEIGHTS = {
    "title": "A",
    "factors": "A",
    "summary": "A",
    "impact": "B",
    "countermeasures": "B",
    "alerts": "B",
    "service": "B",
    "tag": "B",
    "lessons": "C",
    "body": "C",
    "labels": "C",
    "team": "C",
    "category": "D",
    "severity": "D",
    "type": "D",
    "year": "D",
}
# The document's words as written (the dictionary of "did you mean"), and its stems (for rarity).
WORDS = "words"
STEM = "stem"
DOCUMENTS = "#documents"
# PostgreSQL's limits: a lexeme of at most 2,047 bytes, positions up to 16,383 and 256 of them a
# lexeme, and a vector of at most 1 MB of lexemes.
LEXEME_BYTES = 2_000
POSITION_MAX = 16_383
POSITIONS_KEPT = 256
VECTOR_BYTES = 900_000


def quoted(lexeme: str) -> str:
    """A lexeme as tsvector and tsquery literals write it."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def tagged(field: str, word: str) -> str:
    """A word as a lexeme of one field."""
    return f"{field}/{word}"


def keyword_values(document: SearchDocument) -> dict[str, tuple[str, ...]]:
    """The exact values of a document's keyword fields, as Whoosh keeps them (lower case)."""
    return {
        "service": tuple(v.lower() for v in document.services),
        "team": tuple(v.lower() for v in document.teams),
        "tag": tuple(v.lower() for v in document.tags),
        "category": tuple(v.lower() for v in document.categories),
        "severity": (document.severity,),
        "type": (document.type,),
        "year": (str(document.year),),
    }


def text_of(document: SearchDocument, field: str) -> str:
    """A text field's words (labels: the services, teams and tags as words)."""
    if field == "labels":
        return "\n".join([*document.services, *document.teams, *document.tags])
    return str(getattr(document, field))


def vector_of(document: SearchDocument) -> tuple[str, set[str], set[str]]:
    """The document's tsvector literal, its stems and its words as written."""
    positions: dict[str, list[int]] = defaultdict(list)
    weights: dict[str, str] = {}
    stems: set[str] = set()
    words: set[str] = set()
    analyze = analyzer()
    for field in TEXT_FIELDS:
        text = text_of(document, field)
        for token in analyze(text, positions=True):
            lexeme = tagged(field, token.text)
            positions[lexeme].append(min(token.pos + 1, POSITION_MAX))
            weights[lexeme] = FIELD_WEIGHTS.get(field, "D")
            stems.add(token.text)
    words.update(_written_words(document))
    for field, values in keyword_values(document).items():
        for value in values:
            if value:
                lexeme = tagged(field, value)
                positions[lexeme].append(1)
                weights[lexeme] = FIELD_WEIGHTS[field]
    entries: list[str] = []
    size = 0
    for lexeme, found in positions.items():
        size += len(lexeme.encode("utf-8"))
        if len(lexeme.encode("utf-8")) > LEXEME_BYTES or size > VECTOR_BYTES:
            continue
        kept = sorted(set(found))[:POSITIONS_KEPT]
        weight = weights[lexeme]
        entries.append(quoted(lexeme) + ":" + ",".join(f"{p}{weight}" for p in kept))
    for word in words:
        lexeme = tagged(WORDS, word)
        size += len(lexeme.encode("utf-8"))
        if len(lexeme.encode("utf-8")) <= LEXEME_BYTES and size <= VECTOR_BYTES:
            entries.append(quoted(lexeme))
    return " ".join(entries), stems, words


def _written_words(document: SearchDocument) -> Iterator[str]:
    """Every word of the text fields in lower case, as written (not stemmed)."""
    analyze = analyzer_unstemmed()
    for field in TEXT_FIELDS:
        for token in analyze(text_of(document, field)):
            yield token.text


def tsquery_of(node: query.Query) -> str | None:
    """The query as a tsquery literal; None when it matches everything (no words)."""
    if isinstance(node, query.Every):
        return None
    written = _written(node)
    return written if written is not None else "''"


def _written(node: query.Query) -> str | None:
    """A node as tsquery text; None for a node that asks nothing (it drops out of its parent)."""
    if isinstance(node, query.Term):
        return quoted(tagged(node.fieldname, str(node.text)))
    if isinstance(node, query.Phrase):
        words = [quoted(tagged(node.fieldname, str(w))) for w in node.words]
        return "(" + " <-> ".join(words) + ")" if words else None
    if isinstance(node, query.Not):
        inner = _written(node.query)
        return f"!({inner})" if inner else None
    if isinstance(node, query.AndNot):
        positive, negative = _written(node.a), _written(node.b)
        if positive is None:
            return None
        return f"({positive}) & !({negative})" if negative else positive
    if isinstance(node, query.AndMaybe):
        return _written(node.a)
    if isinstance(node, (query.And, query.Or)):
        parts = [p for p in (_written(child) for child in node.subqueries) if p]
        if not parts:
            return None
        joiner = " & " if isinstance(node, query.And) else " | "
        return "(" + joiner.join(parts) + ")"
    if isinstance(node, query.Every):
        return None
    return None


def ranked_groups(node: query.Query) -> dict[str, list[str]]:
    """The query's asked-for words (not those under NOT), grouped by stem: each group is ranked by how
    rare its stem is, as a tsquery ORing its lexemes across fields."""
    groups: dict[str, list[str]] = defaultdict(list)
    for leaf in _positive_leaves(node):
        written = _written(leaf)
        if written is None:
            continue
        words = leaf.words if isinstance(leaf, query.Phrase) else [leaf.text]
        key = " ".join(_stem(str(w)) for w in words)
        if written not in groups[key]:
            groups[key].append(written)
    return dict(groups)


def _positive_leaves(node: query.Query) -> Iterator[query.Query]:
    if isinstance(node, query.Not):
        return
    if isinstance(node, query.AndNot):
        yield from _positive_leaves(node.a)
        return
    if isinstance(node, (query.Term, query.Phrase)):
        yield node
        return
    if isinstance(node, query.AndMaybe):
        yield from _positive_leaves(node.a)
        yield from _positive_leaves(node.b)
        return
    if isinstance(node, (query.And, query.Or)):
        for child in node.subqueries:
            yield from _positive_leaves(child)


def _stem(word: str) -> str:
    stems = [t.text for t in analyzer()(word)]
    return stems[0] if stems else word.lower()


def query_terms(node: query.Query) -> set[str]:
    """The words of text fields the query asks for, as analyzed: what a highlight marks."""
    found: set[str] = set()
    for leaf in _positive_leaves(node):
        if leaf.fieldname in TEXT_FIELDS or leaf.fieldname == WORDS:
            words: Iterable[object] = leaf.words if isinstance(leaf, query.Phrase) else [leaf.text]
            found.update(_stem(str(w)) for w in words)
    return found
