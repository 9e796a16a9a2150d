"""What the library knows of words: in how many documents each stem is, which words it holds as written,
and the known words nearest a misspelt one (by trigrams, then by edits)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, text

from .postgres_text import DOCUMENTS, STEM, WORDS, tagged
from .query import SPELLING_WORD_MAX, Synonyms
from .reading import stems_of

# How near a word must look to be offered for a misspelt one (pg_trgm's similarity).
NEAR_WORDS = 0.2


def document_count(connection: Connection) -> int:
    """How many documents the library holds."""
    found = connection.execute(
        text("SELECT documents FROM search_lexemes WHERE lexeme = :lexeme"), {"lexeme": DOCUMENTS}
    ).scalar()
    return int(found or 0)


def frequencies(connection: Connection, stems: Sequence[str]) -> dict[str, int]:
    """In how many documents each stem is."""
    if not stems:
        return {}
    found = connection.execute(
        text("SELECT lexeme, documents FROM search_lexemes WHERE lexeme = ANY(:lexemes)"),
        {"lexemes": [tagged(STEM, s) for s in stems]},
    )
    return {lexeme.partition("/")[2]: int(n) for lexeme, n in found}


def known_words(connection: Connection, words: Sequence[str], synonyms: Synonyms) -> set[str]:
    """Which words the library holds as written or as their stem, are stop words, or have synonyms."""
    if not words:
        return set()
    stems = {word: stems_of(word) for word in words}
    lexemes = [tagged(WORDS, w) for w in words] + [tagged(STEM, s) for found in stems.values() for s in found]
    held = {
        lexeme
        for (lexeme,) in connection.execute(
            text("SELECT lexeme FROM search_lexemes WHERE lexeme = ANY(:lexemes) AND documents > 0"),
            {"lexemes": lexemes},
        )
    }
    known = set()
    for word in words:
        found = stems[word]
        if (
            tagged(WORDS, word) in held
            or not found
            or any(synonyms.alternatives(s) or tagged(STEM, s) in held for s in found)
        ):
            known.add(word)
    return known


def near_words(connection: Connection, word: str, *, reach: int = 2, limit: int = 1) -> list[str]:
    """Words of the library at most `reach` edits from this one, with its first letter, nearest and
    most common first."""
    if len(word) > SPELLING_WORD_MAX:
        return []
    # Within the search's own transaction, which ends with it.
    connection.execute(text("SELECT set_config('pg_trgm.similarity_threshold', :t, true)"), {"t": str(NEAR_WORDS)})
    rows = connection.execute(
        text(
            "SELECT substr(lexeme, 7), documents FROM search_lexemes "
            "WHERE lexeme LIKE 'words/%' AND substr(lexeme, 7) % :word AND documents > 0 "
            "ORDER BY similarity(substr(lexeme, 7), :word) DESC LIMIT 50"
        ),
        {"word": word},
    ).all()
    scored = []
    for candidate, documents in rows:
        if candidate == word or not candidate.startswith(word[0]):
            continue
        distance = edits(word, candidate)
        if distance <= reach:
            scored.append((distance, -int(documents), candidate))
    return [candidate for _d, _n, candidate in sorted(scored)[:limit]]


def edits(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (adjacent swaps count one), as Whoosh's spelling counts."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[len(b)]
