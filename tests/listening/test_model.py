"""The listening model (SPEC "Listening"): cold start from sentiment and the rules'
keywords, what it learns from labels, the threshold it picks for itself, an explicit
threshold, and its bytes (numbers and JSON, read back to the same scores)."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from bot.listening.learn import COLD_THRESHOLD, choose_threshold
from bot.listening.model import Example, Listener
from bot.listening.serial import UnknownFormat
from tests.listening import synthetic

KEYWORDS = {"billing": ["invoice", "refund"], "shipping": ["package", "delivery"]}


@pytest.fixture(scope="module")
def trained() -> Listener:
    return Listener.train(
        synthetic.examples(240, seed=1), keywords={}, teams=synthetic.TEAMS, version=3
    )


def test_cold_model_scores_from_sentiment_and_keywords() -> None:
    cold = Listener.cold(KEYWORDS)
    angry = cold.score("This is terrible, nobody answers and I am furious")
    happy = cold.score("Thanks so much, great work, love it")
    neutral = cold.score("Where is my invoice")
    neutral_no_keyword = cold.score("Where is my hat")
    assert cold.suggests(angry) and not cold.suggests(happy)
    assert neutral.flag > neutral_no_keyword.flag  # a routing keyword is a reason to look
    assert cold.suggests(neutral) and not cold.suggests(neutral_no_keyword)
    assert neutral.teams == (("billing", 0.5),)
    assert cold.score("the invoice refund and the package").teams[0] == ("billing", 0.6667)
    assert cold.routed_teams(neutral) == ()  # the rules route keyword matches themselves
    assert cold.threshold == COLD_THRESHOLD
    stats = cold.stats
    assert (stats.version, stats.labels, stats.precision, stats.recall) == (0, 0, None, None)


def test_training_learns_flags_and_teams_and_says_how_well(trained: Listener) -> None:
    stats = trained.stats
    assert stats.version == 3 and stats.labels == 240
    assert stats.positives + stats.negatives == len({e.text for e in synthetic.examples(240, 1)})
    assert stats.precision is not None and stats.precision >= 0.8
    assert stats.recall is not None and stats.recall > 0.8
    assert stats.routing_top1 is not None and stats.routing_top1 > 0.9
    held_out = synthetic.rows(200, seed=99)
    said = [trained.suggests(trained.score(text)) for text, _, _ in held_out]
    truth = [flag for _, flag, _ in held_out]
    tp = sum(s and t for s, t in zip(said, truth, strict=True))
    assert tp / sum(said) >= 0.9 and tp / sum(truth) >= 0.9
    top = [trained.score(text).teams[0][0] for text, flag, _ in held_out if flag]
    teams = [team for _, flag, team in held_out if flag]
    assert sum(a == b for a, b in zip(top, teams, strict=True)) / len(teams) >= 0.9
    score = trained.score("the courier lost my parcel, nobody answers")
    assert trained.routed_teams(score) == ("shipping",)
    confidences = [c for _, c in score.teams]
    assert confidences == sorted(confidences, reverse=True) and len(confidences) == 4
    assert abs(sum(c for _, c in score.teams) - 1.0) < 1e-3


def test_the_threshold_is_the_lowest_with_precision_at_least_0_8() -> None:
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3])
    truth = np.array([1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0])
    assert choose_threshold(scores, truth) == 0.5  # top 5: 4 of 5 = 0.8
    assert choose_threshold(scores, truth, precision=0.9) == 0.8
    ties = np.array([0.9, 0.5, 0.5, 0.5])
    assert choose_threshold(ties, np.array([1.0, 1.0, 0.0, 0.0])) == 0.9  # a tie goes whole


def test_without_negatives_the_figures_are_none_and_teams_still_learn() -> None:
    positives = [e for e in synthetic.examples(120, seed=2) if e.flag]
    model = Listener.train(positives, keywords={}, teams=synthetic.TEAMS)
    assert model.stats.precision is None and model.stats.recall is None
    assert model.stats.negatives == 0 and model.threshold == COLD_THRESHOLD
    assert model.score("my password reset email never comes").teams[0][0] == "account"


def test_not_for_us_lowers_that_team() -> None:
    base = synthetic.examples(160, seed=4)
    text = "the dashboard shows a fee I did not expect"
    before = Listener.train(base, keywords={}, teams=synthetic.TEAMS)
    taught = [*base, *[Example(text, True, "billing", team_ok=False)] * 3]
    after = Listener.train(taught, keywords={}, teams=synthetic.TEAMS)
    assert dict(after.score(text).teams)["billing"] < dict(before.score(text).teams)["billing"]


def test_labels_of_unknown_teams_are_ignored() -> None:
    extra = [*synthetic.examples(120, seed=5), Example("the legal contract", True, "legal")]
    model = Listener.train(extra, keywords={}, teams=synthetic.TEAMS)
    assert "legal" not in dict(model.score("the legal contract").teams)


def test_an_explicit_threshold_overrides_the_model_s_own(trained: Listener) -> None:
    strict = trained.with_threshold(0.9999)
    assert strict.threshold == 0.9999 and strict.stats.threshold == 0.9999
    score = trained.score("my package never arrived")
    assert trained.suggests(score) and not strict.suggests(score)
    assert strict.stats.recall is not None and trained.stats.recall is not None
    assert strict.stats.recall <= trained.stats.recall
    assert trained.with_threshold(None) is trained
    direct = Listener.train(
        synthetic.examples(240, seed=1), keywords={}, teams=synthetic.TEAMS, threshold=0.9
    )
    assert direct.threshold == 0.9


def test_dumps_and_loads_give_the_same_scores(trained: Listener) -> None:
    blob = trained.dumps()
    loaded = Listener.loads(blob)
    texts = [text for text, _, _ in synthetic.rows(50, seed=7)] + ["", "🙂", "<@U1> :wave:"]
    for text in texts:
        assert loaded.score(text) == trained.score(text)
    assert loaded.stats == trained.stats and loaded.threshold == trained.threshold
    assert Listener.loads(Listener.cold(KEYWORDS).dumps()).score("where is my invoice") == (
        Listener.cold(KEYWORDS).score("where is my invoice")
    )
    # Numbers and JSON only: every member of the archive is a plain array.
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        for name in archive.namelist():
            np.load(io.BytesIO(archive.read(name)), allow_pickle=False)
    again = Listener.train(
        synthetic.examples(240, seed=1), keywords={}, teams=synthetic.TEAMS, version=3
    )
    assert again.dumps() == blob  # deterministic for the same labels and seed


@pytest.mark.parametrize("data", [b"", b"not a model", b"PK\x03\x04garbage"])
def test_loads_refuses_what_is_not_a_model(data: bytes) -> None:
    with pytest.raises(UnknownFormat):
        Listener.loads(data)
