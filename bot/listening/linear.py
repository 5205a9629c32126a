"""Regularised logistic regression (binary and multinomial) on the sparse matrices of
`features`, fitted by L-BFGS in numpy: what scikit-learn would do here, without the
~200 MB that scikit-learn and scipy add to an install (measured: bench/listening.py)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bot.listening.features import Floats, Matrix

Objective = Callable[[Floats], tuple[float, Floats]]


def lbfgs(f: Objective, x0: Floats, *, iterations: int = 200, memory: int = 10) -> Floats:
    """Minimise a smooth convex `f` (value, gradient) from `x0`; deterministic."""
    x = x0.copy()
    value, grad = f(x)
    s_list: list[Floats] = []
    y_list: list[Floats] = []
    for _ in range(iterations):
        if float(np.max(np.abs(grad))) < 1e-5:
            break
        q = grad.copy()
        alphas: list[float] = []
        for s, y in zip(reversed(s_list), reversed(y_list), strict=True):
            a = float(np.dot(s, q)) / float(np.dot(y, s))
            alphas.append(a)
            q -= a * y
        if s_list:
            q *= float(np.dot(s_list[-1], y_list[-1])) / float(np.dot(y_list[-1], y_list[-1]))
        for (s, y), a in zip(zip(s_list, y_list, strict=True), reversed(alphas), strict=True):
            b = float(np.dot(y, q)) / float(np.dot(y, s))
            q += s * (a - b)
        direction = -q
        slope = float(np.dot(grad, direction))
        if slope >= 0:  # not a descent direction: start the memory again
            s_list.clear()
            y_list.clear()
            direction, slope = -grad, -float(np.dot(grad, grad))
        step = 1.0 if s_list else 1.0 / max(1.0, float(np.sqrt(-slope)))
        for _ in range(30):
            new_x = x + step * direction
            new_value, new_grad = f(new_x)
            if new_value <= value + 1e-4 * step * slope:
                break
            step *= 0.5
        else:
            break
        s, y = new_x - x, new_grad - grad
        if float(np.dot(s, y)) > 1e-12:
            s_list.append(s)
            y_list.append(y)
            if len(s_list) > memory:
                s_list.pop(0)
                y_list.pop(0)
        converged = value - new_value < 1e-8 * max(1.0, abs(value))
        x, value, grad = new_x, new_value, new_grad
        if converged:
            break
    return x


def _log1pexp(z: Floats) -> Floats:
    return np.logaddexp(0.0, z)


def sigmoid(z: Floats) -> Floats:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def fit_binary(
    x: Matrix, y: Floats, *, offset: Floats, weight: Floats, l2: float, bias_col: int
) -> Floats:
    """Weights of P(y=1) = sigmoid(offset + X w), minimising the weighted log loss plus
    `l2`/2 |w|^2 (the bias column is not shrunk)."""
    shrink = np.full(x.n_cols, l2)
    shrink[bias_col] = 0.0
    total = float(weight.sum())

    def objective(w: Floats) -> tuple[float, Floats]:
        z = offset + x.dot(w)
        loss = weight * (_log1pexp(z) - y * z)
        g = weight * (sigmoid(z) - y)
        value = float(loss.sum()) / total + 0.5 * float(np.dot(shrink * w, w))
        return value, x.tdot(g) / total + shrink * w

    return lbfgs(objective, np.zeros(x.n_cols))


def softmax(z: Floats) -> Floats:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: Floats = e / e.sum(axis=1, keepdims=True)
    return out


def fit_multinomial(
    x: Matrix,
    target: Floats,
    avoid: Floats,
    *,
    offset: Floats,
    l2: float,
    bias_col: int,
) -> Floats:
    """Weights (n_cols, k) of P(team) = softmax(offset + X W). `target` rows are the teams a
    message is for (each row sums to 1 or 0); `avoid` rows mark the teams it is not for
    ("Not for us"), which cost -log(1 - p) each."""
    n_cols, k = x.n_cols, target.shape[1]
    shrink = np.full((n_cols, 1), l2)
    shrink[bias_col] = 0.0
    has_target = target.sum(axis=1)
    total = max(1.0, float(has_target.sum() + avoid.sum()))

    def objective(flat: Floats) -> tuple[float, Floats]:
        w = flat.reshape(n_cols, k)
        p = softmax(offset + x.dot(w))
        logp = np.log(np.maximum(p, 1e-300))
        not_p = np.maximum(1.0 - p, 1e-12)
        loss = -float((target * logp).sum()) - float((avoid * np.log(not_p)).sum())
        g = p * has_target[:, None] - target
        ratio = avoid * p / not_p  # d/dz of -log(1 - p_j) = p_j/(1 - p_j) (e_j - p)
        g += ratio - p * ratio.sum(axis=1, keepdims=True)
        value = loss / total + 0.5 * float((shrink * w * w).sum())
        grad = x.tdot(g) / total + shrink * w
        return value, grad.ravel()

    return lbfgs(objective, np.zeros(n_cols * k)).reshape(n_cols, k)
