"""What the listening model reads in a message: hashed word and character n-grams (a TF-IDF
analogue with no vocabulary to store) and VADER's sentiment.

Hashing instead of a fitted vocabulary keeps the model small and the features of a message
independent of the training set: a word nobody labelled yet still has a bucket, and its
weight is simply zero. The hash is CRC-32 (stable across processes, unlike `hash()`), and
its top bit gives each n-gram a sign so that collisions cancel out on average."""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import numpy.typing as npt

from bot.handlers.sentiment import _analyzer, strip_markup

BITS = 20
BUCKETS = 1 << BITS
MASK = BUCKETS - 1
CHAR_NGRAMS = (3, 4, 5)
MIN_DF_FROM = 200  # from this many messages on, n-grams seen in one message only are dropped
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

# The dense features, after the hashed buckets (their names say what each one is).
COMPOUND_BINS = (-0.75, -0.5, -0.25, -0.05, 0.05, 0.25, 0.5, 0.75)  # a nonlinear sentiment
DENSE = (
    *("compound", "neg", "neu", "pos", "keyword", "question", "bang"),
    *(f"compound<={edge}" for edge in COMPOUND_BINS),
)
N_DENSE = len(DENSE)

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Parsed:
    """One message, read once: its hashed n-grams (bucket -> signed count, words and
    characters apart), its dense features, and its cold-start logit."""

    words: dict[int, float]
    chars: dict[int, float]
    dense: tuple[float, ...]
    compound: float
    team_hits: tuple[int, ...]  # keyword matches per team, in the keywords' team order


def normalise(text: str) -> str:
    return strip_markup(text).lower()


def _bucket(gram: str, into: dict[int, float]) -> None:
    h = zlib.crc32(gram.encode())
    key = h & MASK
    into[key] = into.get(key, 0.0) + (1.0 if h >> 31 else -1.0)


def parse(text: str, keywords: Sequence[Sequence[str]] = ()) -> Parsed:
    plain = strip_markup(text)
    low = plain.lower()
    tokens = _WORD.findall(low)
    words: dict[int, float] = {}
    chars: dict[int, float] = {}
    previous = "<s>"
    for token in tokens:
        _bucket("w:" + token, words)
        _bucket(f"b:{previous} {token}", words)
        previous = token
        padded = f" {token} "
        for n in CHAR_NGRAMS:
            for i in range(len(padded) - n + 1):
                _bucket(padded[i : i + n], chars)
    vader = _analyzer().polarity_scores(plain)
    compound = float(vader["compound"])
    hits = tuple(_hits(low, tokens, team) for team in keywords)
    dense = (
        compound,
        float(vader["neg"]),
        float(vader["neu"]),
        float(vader["pos"]),
        1.0 if any(hits) else 0.0,
        1.0 if "?" in plain else 0.0,
        1.0 if "!" in plain else 0.0,
        *(1.0 if compound <= edge else 0.0 for edge in COMPOUND_BINS),
    )
    return Parsed(words, chars, dense, compound, hits)


def _hits(low: str, tokens: Sequence[str], keywords: Sequence[str]) -> int:
    """How many of one team's routing keywords the message has (phrases by substring)."""
    found = 0
    for keyword in keywords:
        k = keyword.lower()
        if (" " in k and k in low) or k in tokens:
            found += 1
    return found


def cold_logit(parsed: Parsed) -> float:
    """The score before any feedback, as a logit: 0 at VADER's own negative threshold
    (compound -0.05), higher the more negative, and one step up for a routing keyword."""
    return -6.0 * (parsed.compound + 0.05) + (1.0 if any(parsed.team_hits) else 0.0)


def keyword_lists(keywords: Mapping[str, Sequence[str]], teams: Sequence[str]) -> list[list[str]]:
    return [list(keywords.get(team, ())) for team in teams]


@dataclass
class Matrix:
    """A sparse matrix in CSR form over local column ids (what numpy lacks): rows are
    messages, columns the buckets seen in training, then the dense features, then a bias."""

    rows: Ints  # the row of each entry (sorted)
    cols: Ints
    vals: Floats
    n_rows: int
    n_cols: int

    def dot(self, w: Floats) -> Floats:
        """X @ w for a vector or a (n_cols, k) matrix."""
        if w.ndim == 1:
            return cast(
                Floats,
                np.bincount(self.rows, weights=self.vals * w[self.cols], minlength=self.n_rows),
            )
        out = np.zeros((self.n_rows, w.shape[1]))
        for k in range(w.shape[1]):
            out[:, k] = np.bincount(
                self.rows, weights=self.vals * w[self.cols, k], minlength=self.n_rows
            )
        return out

    def tdot(self, g: Floats) -> Floats:
        """X.T @ g for a vector or a (n_rows, k) matrix."""
        if g.ndim == 1:
            return cast(
                Floats,
                np.bincount(self.cols, weights=self.vals * g[self.rows], minlength=self.n_cols),
            )
        out = np.zeros((self.n_cols, g.shape[1]))
        for k in range(g.shape[1]):
            out[:, k] = np.bincount(
                self.cols, weights=self.vals * g[self.rows, k], minlength=self.n_cols
            )
        return out

    def take(self, which: Ints) -> Matrix:
        """The rows `which`, renumbered 0..len-1 in that order."""
        starts = np.searchsorted(self.rows, which, side="left")
        ends = np.searchsorted(self.rows, which, side="right")
        lengths = ends - starts
        before = np.cumsum(lengths) - lengths  # where each row's entries start in the result
        index = np.arange(int(lengths.sum())) + np.repeat(starts - before, lengths)
        rows = np.repeat(np.arange(len(which)), lengths)
        return Matrix(rows, self.cols[index], self.vals[index], len(which), self.n_cols)


class Vocabulary:
    """The buckets seen in training (sorted), their IDF, and where the dense features sit."""

    def __init__(self, buckets: Ints, idf: Floats, n_docs: int) -> None:
        self.buckets = buckets
        self.idf = idf
        self.unseen_idf = math.log(1 + n_docs) + 1.0
        self.n_cols = len(buckets) + N_DENSE + 1

    @classmethod
    def fit(cls, parsed: Sequence[Parsed]) -> Vocabulary:
        seen: list[Ints] = []
        for p in parsed:
            seen.append(np.fromiter(p.words, np.int64, len(p.words)))
            seen.append(np.fromiter(p.chars, np.int64, len(p.chars)) + BUCKETS)
        everything = np.concatenate(seen) if seen else np.zeros(0, np.int64)
        buckets, df = np.unique(everything, return_counts=True)
        n = len(parsed)
        if n >= MIN_DF_FROM:  # an n-gram of one message teaches nothing about the next
            buckets, df = buckets[df >= 2], df[df >= 2]
        return cls(buckets, np.log((1 + n) / (1 + df)) + 1.0, n)

    def row(self, p: Parsed) -> tuple[Ints, Floats]:
        """One message's local columns and values: sublinear TF x IDF, words and chars each
        L2-normalised to 1/sqrt(2); unseen buckets count in the norm and are then dropped."""
        cols: list[Ints] = []
        vals: list[Floats] = []
        for offset, grams in ((0, p.words), (BUCKETS, p.chars)):
            if not grams:
                continue
            keys = np.fromiter(grams, np.int64, len(grams)) + offset
            counts = np.fromiter(grams.values(), np.float64, len(grams))
            tf = np.sign(counts) * (1.0 + np.log(np.maximum(np.abs(counts), 1.0)))
            tf[counts == 0] = 0.0
            at = np.searchsorted(self.buckets, keys)
            at = np.minimum(at, len(self.buckets) - 1) if len(self.buckets) else at
            known = self.buckets[at] == keys if len(self.buckets) else np.zeros(len(keys), bool)
            weight = tf * np.where(known, self.idf[at] if len(self.idf) else 0.0, self.unseen_idf)
            norm = float(np.sqrt(np.dot(weight, weight)))
            if norm > 0:
                cols.append(at[known])
                vals.append(weight[known] / (norm * math.sqrt(2.0)))
        base = len(self.buckets)
        cols.append(np.arange(base, base + N_DENSE + 1, dtype=np.int64))
        vals.append(np.array((*p.dense, 1.0)))
        return np.concatenate(cols), np.concatenate(vals)

    def matrix(self, parsed: Sequence[Parsed]) -> Matrix:
        rows: list[Ints] = []
        cols: list[Ints] = []
        vals: list[Floats] = []
        for i, p in enumerate(parsed):
            c, v = self.row(p)
            rows.append(np.full(len(c), i, np.int64))
            cols.append(c)
            vals.append(v)
        return Matrix(
            np.concatenate(rows),
            np.concatenate(cols),
            np.concatenate(vals),
            len(parsed),
            self.n_cols,
        )
