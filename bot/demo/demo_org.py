"""The org `crosstalk demo` plays: the test org (bot.demo.org) grown to what a company that
gets something out of Crosstalk looks like. Every team has at least five people, so the
network figures clear the privacy floor (METRICS "Network figures"); Engineering also lives
in Microsoft Teams, where a Teams listener flags customer messages; Crosstalk listens in
the customer channels and suggests what to flag; two objectives (OGST) tie flags to what
the business wants.

The tests keep using bot.demo.org as it is: their figures are worked out by hand from it.
"""

from __future__ import annotations

from bot.demo.org import ORG_TOML
from bot.demo.standins import teams_activities as ta
from bot.demo.standins.bot_connector import TENANT

# The people the test org does not have: Slack id -> name.
MORE_PEOPLE = {
    "U0SUE": "Sue Park",
    "U0SID": "Sid Rao",
    "U0SKY": "Sky Tan",
    "U0BEN": "Ben Cole",
    "U0BRI": "Bri Shaw",
    "U0BAY": "Bay Lin",
    "U0PAT": "Pat Dunn",
    "U0PER": "Per Holm",
    "U0EMI": "Emi Sato",
    "U0ELI": "Eli Moss",
    "U0EZR": "Ezra Bell",
    "U0LIV": "Liv Berg",
    "U0LOU": "Lou Vidal",
    "U0LAR": "Lars Eke",
    "U0LEA": "Lea Roux",
}

_MEMBERS = {
    '["U0ANN", "U0CAL"]': '["U0ANN", "U0CAL", "U0SUE", "U0SID", "U0SKY"]',
    '["U0BOB", "U0BEA"]': '["U0BOB", "U0BEA", "U0BEN", "U0BRI", "U0BAY"]',
    '["U0PAM", "U0PIA", "U0CAL"]': '["U0PAM", "U0PIA", "U0CAL", "U0PAT", "U0PER"]',
    '["U0LEO"]': '["U0LEO", "U0LIV", "U0LOU", "U0LAR", "U0LEA"]',
}

TRIAGE = "C0TRIAGE"  # #listening-triage, where suggestions are posted
LISTENING = f"""
[listening]
channels = ["C0CUSTOMERS", "C0SHARED"]
triage_channel = "{TRIAGE}"
"""

OBJECTIVES = """
[[objectives]]
key = "retention"
objective = "Keep the customers who complain"
goal = "Retain 50k USD of at-risk revenue per quarter"
strategies = ["Every churn signal reaches Success and Billing the same day"]
kpi = "retained_value"
target = 50000
period = "quarter"
topics = ["billing", "churn-risk"]

[[objectives]]
key = "quality"
objective = "Fix what customers trip over"
goal = "Answer 80% of reliability flags across teams"
kpi = "answer_rate"
target = 0.8
period = "quarter"
topics = ["reliability"]
"""


def _demo_toml() -> str:
    text = ORG_TOML.replace(
        'slack_team_ids = ["T0001"]',
        f'slack_team_ids = ["T0001"]\nteams_tenant_ids = ["{TENANT}"]',
    )
    for before, after in _MEMBERS.items():
        assert before in text, before
        text = text.replace(before, after)
    engineering = 'slack_channel = "C0ENG"\nmembers = ["U0EVE", "U0ED"]'
    assert engineering in text
    text = text.replace(
        engineering,
        f'slack_channel = "C0ENG"\nteams_channel = "{ta.ENGINEERING}"\n'
        f'members = ["U0EVE", "U0ED", "U0EMI", "U0ELI", "U0EZR", "{ta.EVE}"]',
    )
    text = text.replace(
        'managers = ["U0MGR"]',
        f'managers = ["U0MGR", "{ta.MGR}"]\nmonthly_tool_cost = 2500  # licences and hosting',
    )
    return text + LISTENING + OBJECTIVES


DEMO_TOML = _demo_toml()
