"""Routing rules (SPEC "Routing") on configs parsed the way the server parses them."""

from __future__ import annotations

import pytest

from bot.demo.org import ORG_TOML
from bot.handlers.route import Routing, route, with_override
from config.load import parse_config
from config.schema import CrosstalkConfig

TEAMS = """
[org]
name = "Acme"

[routing]
default_teams = ["success"]

[[teams]]
key = "success"
name = "Customer Success"
slack_channel = "C0SUCCESS"

[[teams]]
key = "billing"
name = "Billing"
slack_channel = "C0BILLING"

[[teams]]
key = "product"
name = "Product"
slack_channel = "C0PRODUCT"

[[teams]]
key = "legal"
name = "Legal"
slack_channel = "C0LEGAL"
"""


def config(routes: str, teams: str = TEAMS) -> CrosstalkConfig:
    return parse_config(teams + routes, "test.toml")


def routed(
    cfg: CrosstalkConfig,
    text: str,
    *,
    channel: str = "C0CUSTOMERS",
    sentiment: str = "neutral",
) -> Routing:
    return route(text=text, channel_id=channel, sentiment=sentiment, config=cfg)


KEYWORDS = config('[[routes]]\nkeywords = ["refund", "charged twice"]\nteams = ["billing"]\n')


@pytest.mark.parametrize(
    ("text", "teams"),
    [
        ("Refund!", ("billing",)),
        ("I want a REFUND, now.", ("billing",)),
        ("(refund)", ("billing",)),
        ("refund", ("billing",)),
        ("THEY CHARGED TWICE.", ("billing",)),
        ("they charged twice", ("billing",)),
        ("It was refunded already", ("success",)),
        ("refunds are slow", ("success",)),
        ("prerefund", ("success",)),
        ("refund_policy", ("success",)),
        ("", ("success",)),
    ],
)
def test_keywords_are_case_insensitive_whole_words(text: str, teams: tuple[str, ...]) -> None:
    assert routed(KEYWORDS, text).teams == teams


def test_regex_matches_anywhere_case_insensitively() -> None:
    cfg = config('[[routes]]\nregex = "INV-\\\\d{4,}"\nteams = ["billing"]\n')
    assert cfg.routes[0].regex == "INV-\\d{4,}"
    assert routed(cfg, "about inv-20931, please").teams == ("billing",)
    assert routed(cfg, "about INV-12 please").teams == ("success",)


def test_channels_match_the_source_channel() -> None:
    cfg = config('[[routes]]\nchannels = ["C0VIP", "C0SHARED"]\nteams = ["product"]\n')
    assert routed(cfg, "hello", channel="C0SHARED").teams == ("product",)
    assert routed(cfg, "hello", channel="C0VIP").teams == ("product",)
    assert routed(cfg, "hello", channel="C0CUSTOMERS").teams == ("success",)


def test_sentiment_one_or_several() -> None:
    one = config('[[routes]]\nsentiment = "negative"\nteams = ["legal"]\n')
    many = config('[[routes]]\nsentiment = ["negative", "neutral"]\nteams = ["legal"]\n')
    assert routed(one, "x", sentiment="negative").teams == ("legal",)
    assert routed(one, "x", sentiment="neutral").teams == ("success",)
    assert routed(many, "x", sentiment="neutral").teams == ("legal",)
    assert routed(many, "x", sentiment="positive").teams == ("success",)


def test_criteria_within_a_rule_must_all_hold() -> None:
    cfg = config(
        "[[routes]]\n"
        'keywords = ["cancel", "leaving"]\n'
        'sentiment = "negative"\n'
        'channels = ["C0SHARED"]\n'
        'regex = "acct-\\\\d+"\n'
        'teams = ["legal"]\n'
    )
    text = "We are leaving, acct-42"
    assert routed(cfg, text, channel="C0SHARED", sentiment="negative").teams == ("legal",)
    # Take away any one criterion and the rule does not match.
    assert routed(cfg, text, channel="C0OTHER", sentiment="negative").teams == ("success",)
    assert routed(cfg, text, channel="C0SHARED", sentiment="neutral").teams == ("success",)
    assert routed(
        cfg, "We are staying, acct-42", channel="C0SHARED", sentiment="negative"
    ).teams == ("success",)
    assert routed(cfg, "We are leaving", channel="C0SHARED", sentiment="negative").teams == (
        "success",
    )


def test_every_matching_rule_adds_its_teams_in_rule_order() -> None:
    cfg = config(
        '[[routes]]\nkeywords = ["export"]\nteams = ["product"]\n'
        '[[routes]]\nkeywords = ["invoice"]\nteams = ["billing", "product"]\n'
        '[[routes]]\nkeywords = ["gdpr"]\nteams = ["legal"]\n'
    )
    r = routed(cfg, "The invoice export breaks GDPR")
    assert r.teams == ("product", "billing", "legal")
    assert r.matched_rules == (0, 1, 2)
    assert routed(cfg, "invoice please").teams == ("billing", "product")
    assert routed(cfg, "invoice please").matched_rules == (1,)


def test_topics_only_rules_match_earlier_tags_and_team_keys() -> None:
    cfg = config(
        '[[routes]]\nkeywords = ["outage"]\ntopics = ["reliability"]\n'
        '[[routes]]\nkeywords = ["contract"]\nteams = ["legal"]\n'
        '[[routes]]\ntopics = ["reliability", "security"]\nteams = ["product"]\n'
        '[[routes]]\ntopics = ["legal"]\nteams = ["billing"]\n'
        '[[routes]]\ntopics = ["billing"]\nteams = ["success"]\n'
    )
    # "outage" tags reliability -> product; "contract" reaches legal -> billing -> success.
    r = routed(cfg, "The outage breaks our contract")
    # A topics-only rule's topics are its condition: matching one does not tag the others.
    assert r.teams == ("legal", "product", "billing", "success")
    assert r.tags == ("reliability",)
    assert r.topics == ("reliability", "legal", "product", "billing", "success")
    assert r.matched_rules == (0, 1, 2, 3, 4)
    # A tag alone: reliability reaches product; nothing tags legal or billing.
    r = routed(cfg, "an outage")
    assert (r.teams, r.topics, r.matched_rules) == (
        ("product",),
        ("reliability", "product"),
        (0, 2),
    )
    # A topics rule only sees what earlier rules gave: a later tag does not reach back.
    late = config(
        '[[routes]]\ntopics = ["urgent"]\nteams = ["legal"]\n'
        '[[routes]]\nkeywords = ["asap"]\ntopics = ["urgent"]\n'
    )
    assert routed(late, "asap").teams == ("success",)
    assert routed(late, "asap").topics == ("urgent", "success")


def test_no_match_goes_to_the_default_teams() -> None:
    r = routed(KEYWORDS, "hello there")
    assert r == Routing(teams=("success",), tags=(), matched_rules=(), fallback=True)
    assert not r.teaches  # nobody chose the default teams: no routing label
    assert r.topics == ("success",)
    none = config("", TEAMS.replace('default_teams = ["success"]', "default_teams = []"))
    assert routed(none, "hello").teams == ()
    assert routed(none, "hello").topics == ()


def test_topics_are_tags_then_team_keys_without_repeats() -> None:
    r = routed(parse_config(ORG_TOML), "You charged me twice and the export is broken.")
    assert r.teams == ("billing", "product", "engineering")
    assert r.tags == ("billing", "reliability")
    assert r.topics == ("billing", "reliability", "product", "engineering")


def test_the_flagger_s_choice_replaces_the_teams_and_keeps_the_rule_tags() -> None:
    r = routed(parse_config(ORG_TOML), "You charged me twice and the export is broken.")
    chosen = with_override(r, ("legal", "billing"))
    assert chosen.teams == ("legal", "billing")
    # "billing" is both a rule tag and a team key: it stays a tag after the override.
    assert chosen.topics == ("billing", "reliability", "legal")
    assert chosen.matched_rules == r.matched_rules
    assert with_override(r, ()).topics == ("billing", "reliability")


def test_sample_org_routes() -> None:
    cfg = parse_config(ORG_TOML)
    assert routed(cfg, "We are leaving for a competitor", sentiment="negative").teams == (
        "success",
    )
    assert routed(cfg, "We are leaving for a competitor", sentiment="negative").topics == (
        "churn-risk",
        "success",
    )
    assert routed(cfg, "We are leaving for a competitor", sentiment="positive").teams == (
        "success",
    )
    assert routed(cfg, "We are leaving for a competitor", sentiment="positive").topics == (
        "success",
    )
    assert routed(cfg, "Is our DPA signed?").teams == ("legal",)
