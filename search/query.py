"""A person's query as Whoosh reads it: the fields searched and their weights, the syntax an expert may
use, responder vocabulary, plain words when the syntax cannot be read, and fuzzy words as a fallback.

What a query can cost is bounded here: no wildcards or ranges (they expand over every word in the
index), control characters dropped, at most QUERY_CHARS characters and QUERY_TERMS words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from whoosh import qparser, query
from whoosh.analysis import Analyzer, StemmingAnalyzer
from whoosh.fields import Schema

# Searched by default, with how much a match in each counts (BM25F): every word of a report in one
# field (`content`), and again what the review concluded (contributing factors, the summary, the
# title) and the exact services, teams and tags, so that a word there counts more. One field for the
# rest keeps a plain word to a few postings lists to score instead of one a section (Whoosh scores
# document by document, in Python). Set against the relevance benchmark
# (benchmarks/bench_relevance.py), where a title boost above 2 ranked reports that share one common
# word of their title above those that describe the symptom.
FIELD_BOOSTS = {
    "content": 1.0,
    "title": 1.0,
    "factors": 1.5,
    "summary": 2.0,
    "service": 2.0,
    "team": 1.0,
    "tag": 1.5,
}
# The analyzed text fields: `content` holds every word (the sections shown only in fragments, the
# alerts, services, teams and tags as words); the others may also be named (factor:staging).
TEXT_FIELDS = ("content", "title", "factors", "summary", "countermeasures")
# Names an expert may type before a colon, and the field each means.
ALIASES = {
    "content": ["body", "impact", "lessons", "alerts", "labels", "text"],
    "factors": ["factor", "cause", "causes"],
    "countermeasures": ["countermeasure", "action", "actions"],
    "service": ["services"],
    "team": ["teams", "company"],
    "tag": ["tags"],
    "category": ["categories"],
}
QUERY_CHARS = 1_000
QUERY_TERMS = 32
SYNONYM_BOOST = 0.8
# Longer "words" (a pasted hash or log line) get no spelling help, suggested or fuzzy: no person misspelt
# them, and spelling automata grow with a word's length.
SPELLING_WORD_MAX = 30


def analyzer() -> Analyzer:
    """The analyzer of every text field: words, lower case, English stop words out, stems."""
    return StemmingAnalyzer()


def clean(q: str) -> str:
    """The query as searched: control characters and wildcards out (a wildcard expands over every word
    of the index), whitespace collapsed, at most QUERY_CHARS characters and QUERY_TERMS words (a pasted
    log is searched by its first words)."""
    kept = "".join(" " if unicodedata.category(c)[0] == "C" or c in "*?" else c for c in q[: QUERY_CHARS * 2])
    words = re.sub(r"\s+", " ", kept).strip()[:QUERY_CHARS].split(" ")
    return " ".join(words[:QUERY_TERMS])


@dataclass(frozen=True)
class Synonyms:
    """Groups of words and phrases (as analyzed token tuples) that mean the same to a responder."""

    groups: tuple[tuple[tuple[str, ...], ...], ...]

    @classmethod
    def load(cls, paths: Iterable[Path]) -> Synonyms:
        """Read synonym files (a group a line, comma-separated, # comments); ValueError naming a bad line."""
        analyze = analyzer()
        groups = []
        for path in paths:
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                line = line.split("#", 1)[0].strip()
                if not line:
                    continue
                entries = [tuple(t.text for t in analyze(part.strip())) for part in line.split(",")]
                entries = [e for e in dict.fromkeys(entries) if e]
                if len(entries) < 2:
                    raise ValueError(f"{path}:{number}: a synonym group needs two or more words, comma-separated")
                groups.append(tuple(entries))
        return cls(tuple(groups))

    def alternatives(self, word: str) -> list[tuple[str, ...]]:
        """The other entries of every group holding this analyzed word."""
        found: list[tuple[str, ...]] = []
        for group in self.groups:
            if (word,) in group:
                found.extend(entry for entry in group if entry != (word,) and entry not in found)
        return found


EXPERT = re.compile(r'\w:|"|\b(AND|OR|NOT)\b')


def is_expert(text: str) -> bool:
    """Whether the query uses the syntax (a field, a phrase, an operator): then every part must hold."""
    return EXPERT.search(text) is not None


def parser(schema: Schema, *, expert: bool) -> qparser.MultifieldParser:
    """The syntax: fields (service:checkout), "phrases", AND, OR, NOT, (groups); no wildcards, ranges
    or fuzzy operators. Plain words are ORed, and a document that holds more of them ranks higher
    (people describe a symptom in more words than any one report uses); in an expert's query every
    part must hold."""
    fields = [name for name in FIELD_BOOSTS if name in schema]
    # (No coordination bonus for plain words: with_synonyms() rebuilds the OR without it, and the
    # ranking was tuned so.)
    group = qparser.AndGroup if expert else qparser.OrGroup
    found = qparser.MultifieldParser(fields, schema, fieldboosts=FIELD_BOOSTS, group=group)
    for plugin in (qparser.WildcardPlugin, qparser.RangePlugin, qparser.BoostPlugin):
        found.remove_plugin_class(plugin)
    found.add_plugin(qparser.FieldAliasPlugin(ALIASES))
    return found


def words_query(schema: Schema, q: str) -> query.Query:
    """The query as plain words, no syntax: what a query the parser cannot read is searched as; no
    words at all ("*", only punctuation) is everything."""
    words = [t.text for t in analyzer()(re.sub(r"[^\w\s]", " ", q))][:QUERY_TERMS]
    if not words:
        return query.Every()
    fields = [name for name in FIELD_BOOSTS if name in TEXT_FIELDS and name in schema]
    return query.Or([query.Or([query.Term(f, w, boost=FIELD_BOOSTS[f]) for f in fields]) for w in dict.fromkeys(words)])


def with_synonyms(q: query.Query, synonyms: Synonyms) -> query.Query:
    """Each word of a text field also matches its synonyms (a little lower). A phrase ("error rate")
    is looked for in `content` only when the word is searched there too: it holds every section, and
    a phrase is the dearest thing to match (positions read for every document holding its words)."""
    in_content = {text for field, text in q.iter_all_terms() if field == "content"}

    def expand(node: query.Query) -> query.Query:
        if isinstance(node, query.Term) and node.fieldname in TEXT_FIELDS and isinstance(node.text, str):
            others = synonyms.alternatives(node.text)
            if node.fieldname != "content" and node.text in in_content:
                others = [entry for entry in others if len(entry) == 1]
            if others:
                return query.Or([node, *(_entry(node.fieldname, e, node.boost * SYNONYM_BOOST) for e in others)])
            return node
        return node if node.is_leaf() else node.apply(expand)

    return expand(q)


def fuzzy_words(text: str) -> query.Query:
    """The words as typed (not stemmed), each matching any word of the library one edit away (two for
    long words): what is searched when the exact words find nothing and nothing better is known."""
    words = [w.lower() for w in re.findall(r"\w+", text) if 4 <= len(w) <= SPELLING_WORD_MAX][:QUERY_TERMS]
    return query.Or([query.FuzzyTerm("words", w, maxdist=2 if len(w) >= 8 else 1, prefixlength=1) for w in words])


def _entry(field: str, tokens: tuple[str, ...], boost: float) -> query.Query:
    if len(tokens) == 1:
        return query.Term(field, tokens[0], boost=boost)
    return query.Phrase(field, list(tokens), boost=boost)
