"""Finding the knowledge-base entry that answers a question.

BM25 over each entry's question, topic and answer, with a guard against weak
matches: an entry is returned only when it contains at least half of the
question's informative words, weighted by how rare each word is across the
knowledge base. Below that the assistant says it does not know rather than
answering a different question.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from common.store import KnowledgeEntry

MIN_COVERAGE = 0.5
_K1 = 1.2
_B = 0.75
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
# Words that say nothing about what is asked, whichever business it is.
_STOPWORD_TEXT = """
a about also am an and any anyone anything anywhere are as at be been but by
can could did do does doing for from get got had has have hello hey hi how i
i'd i'll i'm if in is it it's its just know let like many me might much my need
of ok okay on or our please should so some something somewhere tell than thanks
that that's the their them then there there's these they this to us want was we
we're were what what's when where which who why will with would yes you you're
your yours
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


@dataclass(frozen=True)
class Match:
    entry: KnowledgeEntry
    score: float
    coverage: float


def _stem(word: str) -> str:
    """A crude common root: `rentals` and `rent`, `parking` and `park` meet."""
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    for suffix in ("ing", "ed", "al"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def tokens(text: str) -> list[str]:
    """The informative words of `text`, lower-cased and lightly stemmed."""
    words = _WORD.findall(text.lower().replace("\u2019", "'"))
    return [_stem(word) for word in words if word not in _STOPWORDS]


def _document(entry: KnowledgeEntry) -> list[str]:
    parts: Iterable[str | None] = (entry.question, entry.topic, entry.answer)
    return tokens(" ".join(part for part in parts if part))


@lru_cache(maxsize=256)
def _index(
    texts: tuple[tuple[str | None, str | None, str], ...],
) -> tuple[list[list[str]], float, Counter[str]]:
    """Tokens of every entry, their average length and document frequencies.

    Kept per knowledge base (keyed by its texts), so a warm instance
    tokenises a business's entries once, not on every question.
    """
    documents = [
        _document(KnowledgeEntry(answer=answer, question=question, topic=topic))
        for question, topic, answer in texts
    ]
    average_length = sum(len(doc) for doc in documents) / len(documents) or 1.0
    frequency = Counter(term for doc in documents for term in set(doc))
    return documents, average_length, frequency


def rank(entries: Sequence[KnowledgeEntry], query: str) -> list[Match]:
    """Every entry sharing a word with `query`, best first."""
    terms = set(tokens(query))
    if not terms or not entries:
        return []

    texts = tuple((entry.question, entry.topic, entry.answer) for entry in entries)
    documents, average_length, frequency = _index(texts)
    total = len(documents)
    idf = {
        term: math.log(1 + (total - frequency[term] + 0.5) / (frequency[term] + 0.5))
        for term in terms
    }
    weight = sum(idf.values())

    matches: list[Match] = []
    for entry, doc in zip(entries, documents, strict=True):
        counts = Counter(doc)
        shared = [term for term in terms if counts[term]]
        if not shared:
            continue
        norm = _K1 * (1 - _B + _B * len(doc) / average_length)
        score = sum(
            idf[term] * counts[term] * (_K1 + 1) / (counts[term] + norm)
            for term in shared
        )
        coverage = sum(idf[term] for term in shared) / weight
        matches.append(Match(entry, score, coverage))
    return sorted(matches, key=lambda match: (-match.score, -match.coverage))


def best_match(
    entries: Sequence[KnowledgeEntry],
    query: str,
    min_coverage: float = MIN_COVERAGE,
) -> Match | None:
    """The entry that answers `query`, or None when none does well enough."""
    for match in rank(entries, query):
        if match.coverage >= min_coverage:
            return match
    return None
