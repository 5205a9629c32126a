"""The listening model of one org: how likely its listeners would flag a message, and which
of its teams the message concerns (SPEC "Listening").

Cold (no feedback yet) it scores from VADER's sentiment and the routing rules' keywords.
Trained, it adds what the org's labels teach (see `learn`), and picks its own threshold: the
lowest whose cross-validated precision on those labels is at least 0.8. It is saved as numpy
arrays and JSON (`dumps`/`loads`), never as a pickle, so loading one runs no code."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from bot.listening import learn, serial
from bot.listening.features import (
    Floats,
    Vocabulary,
    cold_logit,
    keyword_lists,
    parse,
)
from bot.listening.linear import sigmoid, softmax


@dataclass(frozen=True)
class Example:
    """One label: `flag` True (a listener would flag it), False (not), None (team info
    only); `team_ok` False means "not for this team" (Not for us)."""

    text: str
    flag: bool | None
    team: str | None = None
    team_ok: bool = True


@dataclass(frozen=True)
class Score:
    flag: float  # 0..1, how likely the org's listeners flag it
    teams: tuple[tuple[str, float], ...]  # best first, confidences 0..1


@dataclass(frozen=True)
class ModelStats:
    version: int
    labels: int
    positives: int
    negatives: int
    precision: float | None  # cross-validated on the org's labels; None without negatives
    recall: float | None
    threshold: float
    routing_top1: float | None = None  # cross-validated, over labels with a team
    routing_top2: float | None = None


@dataclass
class Parts:
    """What a model is made of (shared with `serial`)."""

    keywords: dict[str, list[str]]
    teams: list[str]
    vocab: Vocabulary | None = None
    flag: learn.FlagFit | None = None
    team_weights: Floats | None = None
    route_threshold: float = 1.01
    stats: ModelStats | None = None


class Listener:
    def __init__(self, parts: Parts, *, threshold: float | None = None) -> None:
        self._parts = parts
        self._kw = keyword_lists(parts.keywords, parts.teams)
        base = parts.stats or ModelStats(0, 0, 0, 0, None, None, learn.COLD_THRESHOLD)
        self.threshold = base.threshold if threshold is None else threshold
        if threshold is not None and parts.flag is not None:
            precision, recall = learn.precision_recall(parts.flag.oof, parts.flag.truth, threshold)
            base = replace(base, threshold=threshold, precision=precision, recall=recall)
        elif threshold is not None:
            base = replace(base, threshold=threshold)
        self.stats: ModelStats = base

    @classmethod
    def cold(cls, keywords: Mapping[str, Sequence[str]]) -> Listener:
        """The model before any feedback: `keywords` are each team's routing keywords."""
        return cls(Parts({t: list(k) for t, k in keywords.items()}, list(keywords)))

    @classmethod
    def train(
        cls,
        examples: Sequence[Example],
        *,
        keywords: Mapping[str, Sequence[str]],
        teams: Sequence[str],
        version: int = 1,
        seed: int = 0,
        threshold: float | None = None,
    ) -> Listener:
        """Learn from an org's labels; `teams` are its team keys (labels naming others are
        ignored), `threshold` an explicit `[listening] threshold` over the model's own."""
        return cls(_train(examples, keywords, teams, version, seed), threshold=threshold)

    def with_threshold(self, threshold: float | None) -> Listener:
        return self if threshold is None else Listener(self._parts, threshold=threshold)

    @property
    def trained(self) -> bool:
        return self._parts.vocab is not None

    def score(self, text: str) -> Score:
        parts = self._parts
        parsed = parse(text, self._kw)
        z = cold_logit(parsed)
        if parts.vocab is None:
            return Score(float(sigmoid(np.array(z))), _keyword_teams(parts.teams, parsed.team_hits))
        cols, vals = parts.vocab.row(parsed)
        flag = parts.flag
        if flag is not None:
            z = flag.a * (z + float(np.dot(flag.weights[cols], vals))) + flag.b
        teams: tuple[tuple[str, float], ...]
        if parts.team_weights is not None:
            logits = learn.KEYWORD_WEIGHT * np.array(parsed.team_hits, np.float64)
            logits = logits + vals @ parts.team_weights[cols]
            p = softmax(logits[None, :])[0]
            teams = _ranked(list(zip(parts.teams, (float(v) for v in p), strict=True)))
        else:
            teams = _keyword_teams(parts.teams, parsed.team_hits)
        return Score(float(sigmoid(np.array(z))), teams)

    def suggests(self, score: Score) -> bool:
        return score.flag >= self.threshold

    def routed_teams(self, score: Score) -> tuple[str, ...]:
        """The teams learned routing would use (no rule matched): those whose confidence
        reaches the model's cross-validated routing threshold; () when it is not sure."""
        if self._parts.team_weights is None:
            return ()
        cut = self._parts.route_threshold
        return tuple(team for team, confidence in score.teams[:2] if confidence >= cut)

    def dumps(self) -> bytes:
        return serial.dumps(self._parts)

    @classmethod
    def loads(cls, data: bytes) -> Listener:
        return cls(serial.loads(data))


def _keyword_teams(teams: Sequence[str], hits: Sequence[int]) -> tuple[tuple[str, float], ...]:
    """Teams by their routing keywords alone: 1 match 0.5, 2 matches 0.67, ..."""
    return _ranked([(t, h / (h + 1.0)) for t, h in zip(teams, hits, strict=True) if h])


def _ranked(pairs: list[tuple[str, float]]) -> tuple[tuple[str, float], ...]:
    return tuple(sorted(((t, round(c, 4)) for t, c in pairs), key=lambda tc: -tc[1]))


def _train(
    examples: Sequence[Example],
    keywords: Mapping[str, Sequence[str]],
    teams: Sequence[str],
    version: int,
    seed: int,
) -> Parts:
    team_list = list(dict.fromkeys(teams))
    kw = {t: list(keywords.get(t, ())) for t in team_list}
    index = {t: i for i, t in enumerate(team_list)}
    flags: dict[str, bool] = {}
    team_marks: dict[str, dict[int, bool]] = {}
    for ex in examples:  # oldest first: a later label of the same text wins
        if ex.flag is not None:
            flags[ex.text] = ex.flag
        if ex.team in index:
            team_marks.setdefault(ex.text, {})[index[ex.team]] = ex.team_ok
    texts = list(dict.fromkeys([*flags, *team_marks]))
    kw_lists = keyword_lists(kw, team_list)
    parsed = {t: parse(t, kw_lists) for t in texts}
    vocab = Vocabulary.fit(list(parsed.values())) if texts else None
    positives = sum(flags.values())
    negatives = len(flags) - positives
    parts = Parts(kw, team_list, vocab)
    threshold, precision, recall = learn.COLD_THRESHOLD, None, None
    if vocab is not None and positives >= learn.MIN_CLASS and negatives >= learn.MIN_CLASS:
        y = np.array([1.0 if flags[t] else 0.0 for t in flags])
        parts.flag = learn.fit_flag([parsed[t] for t in flags], y, vocab, seed)
        threshold = learn.choose_threshold(parts.flag.oof, y)
        precision, recall = learn.precision_recall(parts.flag.oof, y, threshold)
    elif negatives:  # too few to learn from: how the cold score does on them
        y = np.array([1.0 if flags[t] else 0.0 for t in flags])
        cold = sigmoid(np.array([cold_logit(parsed[t]) for t in flags]))
        precision, recall = learn.precision_recall(cold, y, threshold)
    top1 = top2 = None
    teams_seen = {i for marks in team_marks.values() for i, ok in marks.items() if ok}
    if vocab is not None and len(teams_seen) >= 2:
        rows = list(team_marks)
        target = np.zeros((len(rows), len(team_list)))
        avoid = np.zeros_like(target)
        for r, text in enumerate(rows):
            for i, ok in team_marks[text].items():
                (target if ok else avoid)[r, i] = 1.0
        sums = target.sum(axis=1, keepdims=True)
        target = np.divide(target, sums, out=np.zeros_like(target), where=sums > 0)
        fit = learn.fit_teams([parsed[t] for t in rows], target, avoid, vocab, seed)
        parts.team_weights, parts.route_threshold = fit.weights, fit.route_threshold
        top1, top2 = fit.top1, fit.top2
    _as_stored(parts)
    parts.stats = ModelStats(
        version, len(examples), positives, negatives, precision, recall, threshold, top1, top2
    )
    return parts


def _as_stored(parts: Parts) -> None:
    """Round the arrays as `serial` stores them (float32), so that a model scores the same
    before `dumps` and after `loads`."""

    def f32(a: Floats) -> Floats:
        return a.astype(np.float32).astype(np.float64)

    if parts.vocab is not None:
        parts.vocab.idf = f32(parts.vocab.idf)
    if parts.flag is not None:
        parts.flag.weights, parts.flag.oof = f32(parts.flag.weights), f32(parts.flag.oof)
    if parts.team_weights is not None:
        parts.team_weights = f32(parts.team_weights)
