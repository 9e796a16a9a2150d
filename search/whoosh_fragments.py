"""The fragment of a section that shows a hit's words, as Whoosh's highlighter makes it, for less.

Whoosh's `highlight()` runs the section through the whole analyzer (a chain of generators, a few
microseconds a word) and then its fragmenter. Here the section's distinct words are stemmed once
each (and remembered), a section with none of the query's words is passed over without more work,
and only the stretches around the words found are cut into words (by the analyzer's own expression)
and given to Whoosh's fragmenter, scorer and formatter: the same fragment, marked the same way. A
fragment never reaches further than its characters and context allow, so words farther from every
match cannot change it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from whoosh.analysis import Analyzer, Token
from whoosh.highlight import FIRST, BasicFragmentScorer, ContextFragmenter, HtmlFormatter, top_fragments

# The analyzer's tokenizer: RegexTokenizer's default expression (whoosh.analysis.tokenizers.
# default_pattern, words may hold "*" and inner dots), its group made non-capturing for findall().
WORD = re.compile(r"[\w\*]+(?:\.?[\w\*]+)*", re.UNICODE)
INSIDE_A_WORD = re.compile(r"[\w*.]")
STEMS_REMEMBERED = 100_000


class Fragments:
    """Marked fragments of text for a set of analyzed query words."""

    def __init__(self, analyzer: Analyzer, *, maxchars: int = 240, surround: int = 60) -> None:
        self._analyzer = analyzer
        # Words before a match that may open its fragment, and after it that it may take in (a
        # fragment counts the characters of words only, so allow twice over for what lies between).
        self._before = 2 * surround
        self._after = 2 * (maxchars + surround)
        self._fragmenter = ContextFragmenter(maxchars=maxchars, surround=surround)
        self._formatter = HtmlFormatter(tagname="mark", between=" … ")
        self._scorer = BasicFragmentScorer()
        self._stem = lru_cache(maxsize=STEMS_REMEMBERED)(self._analyzed)

    def best(self, text: str, words: frozenset[str]) -> str:
        """The best fragment of text holding any of the words, marked; "" when it holds none."""
        forms = {form for form in set(WORD.findall(text.lower())) if self._stem(form) in words}
        if not forms:
            return ""
        fragments = self._fragmenter.fragment_tokens(text, self._tokens(text, forms, self._stretches(text, forms)))
        shown: str = self._formatter(text, top_fragments(fragments, 1, self._scorer, FIRST, 1))
        return shown

    def _stretches(self, text: str, forms: set[str]) -> list[tuple[int, int]]:
        """Where the words are, with what may come into their fragments around them."""
        stretches: list[tuple[int, int]] = []
        for match in WORD.finditer(text):
            if match.group().lower() not in forms:
                continue
            start, end = max(0, match.start() - self._before), min(len(text), match.end() + self._after)
            while end < len(text) and INSIDE_A_WORD.match(text, end):
                end += 1  # not inside a word
            if stretches and start <= stretches[-1][1]:
                stretches[-1] = (stretches[-1][0], end)
                continue
            while start > 0 and INSIDE_A_WORD.match(text, start - 1):
                start -= 1
            stretches.append((start, end))
        return stretches

    def _tokens(self, text: str, forms: set[str], stretches: list[tuple[int, int]]) -> Iterator[Token]:
        token = Token(positions=False, chars=True, removestops=False, mode="query")
        for start, end in stretches:
            for match in WORD.finditer(text, start, end):
                form = match.group().lower()
                token.startchar, token.endchar = match.span()
                token.matched = form in forms
                token.text = (self._stem(form) or form) if token.matched else form
                yield token

    def _analyzed(self, word: str) -> str | None:
        """The word as the index holds it (None for a stop word)."""
        for token in self._analyzer(word):
            found: str = token.text
            return found
        return None
