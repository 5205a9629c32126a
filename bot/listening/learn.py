"""How a model learns from an org's feedback: the flag scorer (logistic regression over
n-grams and sentiment, on top of the cold-start score), the team scorer (multinomial over the
org's teams), and the thresholds each picks for itself from cross-validated predictions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.listening import linear
from bot.listening.features import Floats, Ints, Matrix, Parsed, Vocabulary, cold_logit

MIN_CLASS = 5  # positives and negatives a learned flag scorer needs (below: the cold one)
FOLDS = 5
FLAG_C = 10.0  # inverse regularisation, as scikit-learn's C (chosen in bench/listening.py)
TEAM_C = 100.0
TEAM_CV_ROWS = 2000  # routing's cross-validation on a sample past this (it is k models x teams)
KEYWORD_WEIGHT = 1.0  # a routing keyword's pull towards its team, in logits
PRECISION = 0.8  # SPEC: the threshold gives a precision of at least 0.8 on the org's labels
ROUTE_PRECISION = 0.9  # learned routing replaces default_teams only this sure of its top team
COLD_THRESHOLD = 0.5  # sigmoid(cold logit 0): VADER's compound -0.05


@dataclass
class FlagFit:
    weights: Floats
    a: float  # Platt scaling of the logit: p = sigmoid(a z + b)
    b: float
    oof: Floats  # cross-validated calibrated scores of the labels (for the threshold)
    truth: Floats


@dataclass
class TeamFit:
    weights: Floats  # (n_cols, teams)
    route_threshold: float
    top1: float | None  # cross-validated, over the labelled texts
    top2: float | None


def folds(labels: Ints, k: int, seed: int) -> Ints:
    """A fold number per row, stratified by label, shuffled by `seed`."""
    rng = np.random.default_rng(seed)
    out = np.zeros(len(labels), np.int64)
    for value in np.unique(labels):
        where = np.flatnonzero(labels == value)
        rng.shuffle(where)
        out[where] = np.arange(len(where)) % k
    return out


def flag_offsets(parsed: Sequence[Parsed]) -> Floats:
    return np.array([cold_logit(p) for p in parsed])


def _fit_flag_weights(x: Matrix, y: Floats, offset: Floats) -> Floats:
    n = max(1, x.n_rows)
    return linear.fit_binary(
        x, y, offset=offset, weight=np.ones(x.n_rows), l2=1.0 / (FLAG_C * n), bias_col=x.n_cols - 1
    )


def fit_flag(parsed: Sequence[Parsed], y: Floats, vocab: Vocabulary, seed: int) -> FlagFit:
    x = vocab.matrix(parsed)
    offset = flag_offsets(parsed)
    k = int(min(FOLDS, (y == 1).sum(), (y == 0).sum()))
    fold = folds(y.astype(np.int64), k, seed)
    oof_z = np.zeros(len(y))
    for f in range(k):
        train, test = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
        w = _fit_flag_weights(x.take(train), y[train], offset[train])
        oof_z[test] = offset[test] + x.take(test).dot(w)
    a, b = platt(oof_z, y)
    weights = _fit_flag_weights(x, y, offset)
    return FlagFit(weights, a, b, linear.sigmoid(a * oof_z + b), y)


def platt(z: Floats, y: Floats) -> tuple[float, float]:
    """Calibrate logits on held-out predictions (one-feature logistic regression, with the
    prior-corrected targets Platt suggests so that a clean separation stays finite)."""
    pos, neg = float(y.sum()), float(len(y) - y.sum())
    target = np.where(y == 1, (pos + 1) / (pos + 2), 1 / (neg + 2))
    rows = np.repeat(np.arange(len(z)), 2)
    cols = np.tile(np.array([0, 1]), len(z))
    vals = np.column_stack([z, np.ones(len(z))]).ravel()
    x = Matrix(rows, cols, vals, len(z), 2)
    w = linear.fit_binary(
        x, target, offset=np.zeros(len(z)), weight=np.ones(len(z)), l2=0.0, bias_col=1
    )
    return float(w[0]), float(w[1])


def choose_threshold(scores: Floats, truth: Floats, precision: float = PRECISION) -> float:
    """The threshold with the most recall whose precision over `scores` is at least
    `precision` (the highest of those with as much recall: the lowest would only add false
    ones); if none reaches it, the one with the best lower bound on precision."""
    order = np.argsort(-scores, kind="stable")
    s, t = scores[order], truth[order]
    tp = np.cumsum(t)
    k = np.arange(1, len(s) + 1)
    last_of_tie = np.append(s[1:] < s[:-1], True)  # a threshold takes every tied score
    ok = (tp / k >= precision) & last_of_tie
    if ok.any():  # the most recall; of thresholds with as much, the highest (fewest false)
        candidates = np.flatnonzero(ok)
        best = candidates[tp[candidates] == tp[candidates].max()][0]
        return float(s[best])
    p = tp / k
    lower = (p + 1.0 / (2 * k) - np.sqrt(p * (1 - p) / k + 1.0 / (4 * k * k))) / (1 + 1.0 / k)
    lower[~last_of_tie] = -1.0
    return float(s[int(np.argmax(lower))])


def precision_recall(
    scores: Floats, truth: Floats, threshold: float
) -> tuple[float | None, float | None]:
    said = scores >= threshold
    positives = float(truth.sum())
    tp = float((said & (truth == 1)).sum())
    precision = tp / float(said.sum()) if said.any() and positives < len(truth) else None
    recall = tp / positives if positives and positives < len(truth) else None
    return precision, recall


def team_offsets(parsed: Sequence[Parsed]) -> Floats:
    return KEYWORD_WEIGHT * np.array([p.team_hits for p in parsed], dtype=np.float64)


def _fit_team_weights(x: Matrix, target: Floats, avoid: Floats, offset: Floats) -> Floats:
    n = max(1, x.n_rows)
    return linear.fit_multinomial(
        x, target, avoid, offset=offset, l2=1.0 / (TEAM_C * n), bias_col=x.n_cols - 1
    )


def fit_teams(
    parsed: Sequence[Parsed], target: Floats, avoid: Floats, vocab: Vocabulary, seed: int
) -> TeamFit:
    x = vocab.matrix(parsed)
    offset = team_offsets(parsed)
    labelled = np.flatnonzero(target.sum(axis=1) > 0)
    if len(labelled) > TEAM_CV_ROWS:
        labelled = np.sort(np.random.default_rng(seed).permutation(labelled)[:TEAM_CV_ROWS])
    top = np.argmax(target, axis=1)
    k = min(FOLDS, len(labelled))
    top1 = top2 = None
    route_threshold = 1.01  # never, until cross-validation shows it can
    if k >= 2:
        fold = np.full(len(parsed), -1)
        fold[labelled] = folds(top[labelled], k, seed)
        confidence, hit1, hit2 = [], [], []
        for f in range(k):
            train, test = np.flatnonzero((fold != f) & (fold >= 0)), np.flatnonzero(fold == f)
            if not len(test):
                continue
            w = _fit_team_weights(x.take(train), target[train], avoid[train], offset[train])
            p = linear.softmax(offset[test] + x.take(test).dot(w))
            ranked = np.argsort(-p, axis=1)
            truth = target[test] > 0
            rows = np.arange(len(test))
            confidence.append(p[rows, ranked[:, 0]])
            hit1.append(truth[rows, ranked[:, 0]])
            hit2.append(hit1[-1] | truth[rows, ranked[:, min(1, p.shape[1] - 1)]])
        conf, h1, h2 = np.concatenate(confidence), np.concatenate(hit1), np.concatenate(hit2)
        top1, top2 = float(h1.mean()), float(h2.mean())
        route_threshold = choose_threshold(conf, h1.astype(np.float64), ROUTE_PRECISION)
        if float(h1[conf >= route_threshold].mean()) < ROUTE_PRECISION:
            route_threshold = 1.01
    weights = _fit_team_weights(x, target, avoid, offset)
    return TeamFit(weights, route_threshold, top1, top2)
