"""Which documents a plain query matches in a large library, the same in both engines.

A person's query is a few plain words ORed, and in a large library its common words ("error",
"database", "failed") are in most documents: ORed, they would make nearly the whole library a match,
to be counted, faceted and ranked on every search, and a total of "46,557 results" says nothing. So, as
a common-terms query does, in a library of more than NARROWED_TO documents, when the words asked
would match more than NARROWED_TO, the common ones narrow nothing: a match must hold one of the rarer
words (the rarest whose documents add up to NARROWED_TO at most), or, when even the rarest word is
common, the rarest words together (as many as bring the expected matches well under NARROWED_TO).
The common words still rank what matched. A word stands with its synonyms: "errors" is matched by a
document saying "5xx". An expert's query (fields, phrases, AND, OR, NOT) is matched as written, and
a smaller library matches any word asked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from whoosh import query

from .query import ALIASES, TEXT_FIELDS, Synonyms, with_synonyms
from .reading import stems_of

NARROWED_TO = 1_000
# How many times more documents hold words of one query together than their counts would say.
TOGETHER = 8
# Fields whose terms are stems: the text fields, and the sections that are in `content`.
STEMMED = frozenset([*TEXT_FIELDS, *ALIASES["content"]])


def narrowed(
    wanted: query.Query,
    synonyms: Synonyms,
    frequencies: Callable[[Sequence[str]], Mapping[str, int]],
    total: int,
) -> query.Query | None:
    """What a document must match instead of the plain query `wanted` (before its synonyms), in a
    library of `total` documents where `frequencies` tells how many hold each stem; None: `wanted`
    with its synonyms, as it is."""
    groups = [with_synonyms(q, synonyms) for q in words_asked(wanted).values()]
    if not groups or total <= NARROWED_TO:
        return None
    asked: set[str] = set()
    for group in groups:
        stems, phrases = _alternatives(group)
        asked |= stems | {word for phrase in phrases for word in phrase}
    counts = frequencies(sorted(asked))
    rarity = sorted((_holding(group, counts), n) for n, group in enumerate(groups))
    if sum(df for df, _ in rarity) <= NARROWED_TO:
        return None
    chosen = [rarity[0]]
    for pair in rarity[1:]:
        if sum(df for df, _ in chosen) + pair[0] > NARROWED_TO:
            break
        chosen.append(pair)
    if sum(df for df, _ in chosen) <= NARROWED_TO:
        return query.Or([groups[n] for _, n in chosen])
    # The words of one query often go together ("infinite loop"): more of them are asked together than
    # their counts alone would say is enough.
    together = [rarity[0]]
    expected = float(min(rarity[0][0], total))
    for df, n in rarity[1:]:
        if expected * TOGETHER <= NARROWED_TO:
            break
        together.append((df, n))
        expected *= min(df, total) / max(1, total)
    return query.And([groups[n] for _, n in together])


def words_asked(wanted: query.Query) -> dict[str, query.Query]:
    """A plain query's words by stem, each the OR of the terms asking for it (in every field)."""
    found: dict[str, list[query.Query]] = {}
    for leaf in wanted.leaves() if not wanted.is_leaf() else [wanted]:
        if isinstance(leaf, query.Term) and isinstance(leaf.text, str):
            found.setdefault(_stem(leaf), []).append(leaf)
    return {stem: (leaves[0] if len(leaves) == 1 else query.Or(leaves)) for stem, leaves in found.items()}


def _stem(term: query.Term) -> str:
    """A term's stem: text fields hold stems already; keyword values and words as written are analyzed."""
    if term.fieldname in STEMMED:
        return str(term.text)
    stems = stems_of(str(term.text))
    return stems[0] if stems else str(term.text).lower()


def _alternatives(group: query.Query) -> tuple[set[str], set[tuple[str, ...]]]:
    """The stems a word's text terms ask for, and the words of its synonym phrases."""
    stems: set[str] = set()
    phrases: set[tuple[str, ...]] = set()
    for leaf in group.leaves() if not group.is_leaf() else [group]:
        if isinstance(leaf, query.Phrase) and leaf.fieldname in STEMMED:
            phrases.add(tuple(str(word) for word in leaf.words))
        elif isinstance(leaf, query.Term) and leaf.fieldname in STEMMED:
            stems.add(str(leaf.text))
    return stems, phrases


def _holding(group: query.Query, counts: Mapping[str, int]) -> int:
    """About how many documents hold a word or one of its synonyms (at most): the sum of its stems'
    counts, a phrase counted as its rarest word."""
    stems, phrases = _alternatives(group)
    return sum(counts.get(stem, 0) for stem in stems) + sum(
        min((counts.get(word, 0) for word in phrase), default=0) for phrase in phrases
    )
