"""Documents and queries in PostgreSQL's full-text terms, by pure functions.

Both engines read words the same way: the analyzer of search/query.py (the same stems and stop words)
makes the lexemes here, and a query is parsed by the same parser, then written as a `tsquery`. So the
two engines find the same documents for the same query. A stem is one lexeme, its positions weighted
(A to D) by the field each is in: how much a match there counts when ranking. The fields a review's
conclusions are in (title, factors, summary, countermeasures) also keep their stems tagged
("factors/connect"), so that `factors:` asks for exactly them and a word found there counts again;
keyword values are tagged with their facet ("service/checkout").
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator

from whoosh import query

from .documents import SearchDocument
from .query import TEXT_FIELDS, analyzer
from .whoosh_index import analyzer_unstemmed

# How much a match counts when ranking, by weight: ts_rank's array is {D, C, B, A}.
RANK_WEIGHTS = "{0.3, 0.45, 0.8, 0.7}"
# The parts of a document, and the weight of their words.
FIELD_WEIGHTS = {
    "title": "A",
    "factors": "B",
    "summary": "B",
    "impact": "C",
    "countermeasures": "C",
    "lessons": "C",
    "alerts": "C",
    "labels": "C",
    "body": "D",
}
EVERY_WEIGHT = frozenset("ABCD")
# The fields a review's conclusions are in also keep their words tagged ("factors/connect"): a word
# found there counts on top of its other places, as in BM25F, and `factors:` asks for exactly them.
TAGGED_FIELDS = ("title", "factors", "summary", "countermeasures")
# The weights of the other fields: a word asked of all of them is asked of the whole document (a word
# of a tagged field is in the document's plain lexemes too).
UNTAGGED = frozenset(weight for field, weight in FIELD_WEIGHTS.items() if field not in TAGGED_FIELDS)
# The field of every word of a document (Whoosh's `content`): a plain lexeme here.
CONTENT = "content"
# Keyword values are whole lexemes tagged with their facet ("service/checkout"), found exactly.
KEYWORD_WEIGHTS = {"service": "B", "tag": "B", "team": "C", "category": "D", "severity": "D", "type": "D", "year": "D"}
# Positions of one field start this far after the last of the previous one, so that a phrase never
# runs from one field into the next.
FIELD_GAP = 20
# Lexeme counts kept in search_lexemes: stems (for rarity), words as written (for spelling).
WORDS = "words"
STEM = "stem"
DOCUMENTS = "#documents"
# PostgreSQL's limits: a lexeme of at most 2,047 bytes, positions up to 16,383 and 256 of them a
# lexeme, and a vector of at most 1 MB of lexemes.
LEXEME_BYTES = 2_000
POSITION_MAX = 16_383
POSITIONS_KEPT = 256
VECTOR_BYTES = 900_000


class _Analyzers(threading.local):
    """This thread's analyzers, kept: a stemmer remembers the words it stemmed (a new one knows none)."""

    def __init__(self) -> None:
        self.stemmed = analyzer()
        self.written = analyzer_unstemmed()


_kept: _Analyzers | None = None


def _analyzers() -> _Analyzers:
    global _kept
    if _kept is None:
        _kept = _Analyzers()
    return _kept


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
    positions: dict[str, dict[int, str]] = defaultdict(dict)
    analyze = _analyzers().stemmed
    start = 0
    for field in FIELD_WEIGHTS:  # the long body last
        last = start
        for token in analyze(text_of(document, field), positions=True):
            last = min(start + token.pos + 1, POSITION_MAX)
            positions[token.text].setdefault(last, FIELD_WEIGHTS[field])
            if field in TAGGED_FIELDS:
                positions[tagged(field, token.text)].setdefault(last, FIELD_WEIGHTS[field])
        start = last + FIELD_GAP
    stems = {lexeme for lexeme in positions if "/" not in lexeme}
    for field, values in keyword_values(document).items():
        for value in values:
            if value:
                positions[tagged(field, value)].setdefault(1, KEYWORD_WEIGHTS[field])
    entries: list[str] = []
    size = 0
    for lexeme, found in positions.items():
        size += len(lexeme.encode("utf-8"))
        if len(lexeme.encode("utf-8")) > LEXEME_BYTES or size > VECTOR_BYTES:
            continue
        kept = sorted(found.items())[:POSITIONS_KEPT]
        entries.append(quoted(lexeme) + ":" + ",".join(f"{p}{weight}" for p, weight in kept))
    return " ".join(entries), stems, set(_written_words(document))


def _written_words(document: SearchDocument) -> Iterator[str]:
    """Every word of the text fields in lower case, as written (not stemmed)."""
    analyze = _analyzers().written
    for field in FIELD_WEIGHTS:
        for token in analyze(text_of(document, field)):
            yield token.text


def tsquery_of(node: query.Query, *, weighted: bool = True) -> str | None:
    """The query as a tsquery literal; None when it matches everything (no words). Unweighted, a field's
    words are found in any field: what GIN answers from the index alone, never reading a document."""
    if isinstance(node, query.Every):
        return None
    written = _written(node, weighted)
    return written if written is not None else ""


Operand = tuple[str, frozenset[str]]


def _operand(field: str, text: str) -> Operand | None:
    """A word of a field as a lexeme and the weights it may have there."""
    if field in TAGGED_FIELDS:
        return tagged(field, text), EVERY_WEIGHT
    if field == CONTENT:
        # Every word of the document; ranked, only where no tagged lexeme counts it already.
        return text, UNTAGGED
    if field in FIELD_WEIGHTS:
        return text, frozenset(FIELD_WEIGHTS[field])
    if field == WORDS:
        stems = [t.text for t in _analyzers().stemmed(text)]
        return (stems[0], EVERY_WEIGHT) if stems else None
    if field in KEYWORD_WEIGHTS:
        return tagged(field, text), EVERY_WEIGHT
    return None


def _rendered(operand: Operand, weighted: bool) -> str:
    lexeme, weights = operand
    if not weighted or weights == EVERY_WEIGHT:
        return quoted(lexeme)
    return quoted(lexeme) + ":" + "".join(sorted(weights))


def _merged(terms: Iterable[query.Term], weighted: bool, *, whole: bool = True) -> list[str]:
    """Terms ORed, one lexeme each with the union of their weights (a word asked of every text field
    is the plain lexeme)."""
    weights: dict[str, frozenset[str]] = {}
    for term in terms:
        operand = _operand(term.fieldname, str(term.text))
        if operand is not None:
            weights[operand[0]] = weights.get(operand[0], frozenset()) | operand[1]
    return [
        _rendered((lexeme, EVERY_WEIGHT if whole and found >= UNTAGGED else found), weighted)
        for lexeme, found in weights.items()
    ]


def _flattened(node: query.Or, terms: list[query.Term], others: list[query.Query]) -> None:
    """The terms of nested ORs (a word's fields, and its synonyms in each), and what else they hold."""
    for child in node.subqueries:
        if isinstance(child, query.Or):
            _flattened(child, terms, others)
        elif isinstance(child, query.Term):
            terms.append(child)
        else:
            others.append(child)


def _written(node: query.Query, weighted: bool) -> str | None:
    """A node as tsquery text; None for a node that asks nothing (it drops out of its parent)."""
    if isinstance(node, query.Term):
        written = _merged([node], weighted)
        return written[0] if written else None
    if isinstance(node, query.Phrase):
        operands = [_operand(node.fieldname, str(w)) for w in node.words]
        if not operands or None in operands:
            return None
        # A phrase of every word (content) is found in any field, as in Whoosh's content.
        whole = [(o[0], EVERY_WEIGHT if o[1] >= UNTAGGED else o[1]) for o in operands if o is not None]
        return "(" + " <-> ".join(_rendered(o, weighted) for o in whole) + ")"
    if isinstance(node, query.Not):
        inner = _written(node.query, weighted)
        return f"!({inner})" if inner else None
    if isinstance(node, query.AndNot):
        positive, negative = _written(node.a, weighted), _written(node.b, weighted)
        if positive is None:
            return None
        return f"({positive}) & !({negative})" if negative else positive
    if isinstance(node, query.AndMaybe):
        return _written(node.a, weighted)
    if isinstance(node, query.Or):
        terms: list[query.Term] = []
        others: list[query.Query] = []
        _flattened(node, terms, others)
        parts = _merged(terms, weighted) + [p for p in (_written(o, weighted) for o in others) if p]
        return "(" + " | ".join(parts) + ")" if parts else None
    if isinstance(node, query.And):
        parts = [p for p in (_written(child, weighted) for child in node.subqueries) if p]
        return "(" + " & ".join(parts) + ")" if parts else None
    return None


def ranked_groups(node: query.Query) -> dict[str, str]:
    """The query's asked-for words (not those under NOT), grouped by stem, each as a tsquery of its
    lexemes: each group is ranked by how rare its stem is."""
    terms: dict[str, list[query.Term]] = defaultdict(list)
    phrases: dict[str, list[str]] = defaultdict(list)
    for leaf in _positive_leaves(node):
        if isinstance(leaf, query.Phrase):
            phrase = _written(leaf, True)
            if phrase is not None:
                phrases[" ".join(_stem(leaf.fieldname, w) for w in leaf.words)].append(phrase)
        else:
            terms[_stem(leaf.fieldname, leaf.text)].append(leaf)
    # Ranked, a word's plain lexeme counts only where no tagged lexeme counts it already.
    groups = {key: _merged(found, True, whole=False) for key, found in terms.items()}
    for key, written in phrases.items():
        groups.setdefault(key, []).extend(dict.fromkeys(written))
    return {key: " | ".join(parts) for key, parts in groups.items() if parts}


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


def _stem(field: str, word: object) -> str:
    """A word of a query term as a stem: text fields hold stems already, keyword and written words
    are analyzed."""
    if field in FIELD_WEIGHTS or field == CONTENT:
        return str(word)
    stems = [t.text for t in _analyzers().stemmed(str(word))]
    return stems[0] if stems else str(word).lower()


def query_terms(node: query.Query) -> set[str]:
    """The words of text fields the query asks for, as analyzed: what a highlight marks."""
    found: set[str] = set()
    for leaf in _positive_leaves(node):
        if leaf.fieldname in TEXT_FIELDS or leaf.fieldname == WORDS:
            words: Iterable[object] = leaf.words if isinstance(leaf, query.Phrase) else [leaf.text]
            found.update(_stem(leaf.fieldname, w) for w in words)
    return found
