"""A realistic sample org used by the tests, `crosstalk demo` and the benchmarks."""

from __future__ import annotations

ORG_TOML = """
[org]
name = "Acme"
timezone = "Europe/London"
slack_team_ids = ["T0001"]
business_hours = "Mon-Fri 09:00-17:30"

[flagging]
reaction = "mega"

[routing]
default_teams = ["success"]

[broadcast]
mirror = "origin"

[[teams]]
key = "success"
name = "Customer Success"
slack_channel = "C0SUCCESS"
members = ["U0ANN", "U0CAL"]
sla = "2h"

[[teams]]
key = "billing"
name = "Billing"
slack_channel = "C0BILLING"
members = ["U0BOB", "U0BEA"]
sla = "4h"

[[teams]]
key = "product"
name = "Product"
slack_channel = "C0PRODUCT"
members = ["U0PAM", "U0PIA", "U0CAL"]
sla = "1d"
timezone = "America/New_York"
business_hours = "Mon-Fri 09:00-17:00"

[[teams]]
key = "engineering"
name = "Engineering"
slack_channel = "C0ENG"
members = ["U0EVE", "U0ED"]
sla = "4h"

[[teams]]
key = "legal"
name = "Legal"
slack_channel = "C0LEGAL"
members = ["U0LEO"]
sla = "1d"

[[routes]]
keywords = ["invoice", "refund", "charged", "billing", "card"]
teams = ["billing"]
topics = ["billing"]

[[routes]]
keywords = ["feature", "roadmap", "dashboard", "export", "integration"]
teams = ["product"]

[[routes]]
keywords = ["error", "bug", "broken", "crash", "outage", "down"]
teams = ["engineering"]
topics = ["reliability"]

[[routes]]
keywords = ["gdpr", "contract", "lawyer", "privacy", "dpa"]
teams = ["legal"]

[[routes]]
sentiment = "negative"
keywords = ["cancel", "churn", "leaving", "competitor"]
teams = ["success"]
topics = ["churn-risk"]

[roi]
managers = ["U0MGR"]
hourly_rate = 75
currency = "USD"

[api]
tokens = ["test-token"]
"""

CHANNELS = {
    "C0SUCCESS": "cs-escalations",
    "C0BILLING": "billing",
    "C0PRODUCT": "product-feedback",
    "C0ENG": "eng-triage",
    "C0LEGAL": "legal",
    "C0CUSTOMERS": "customer-feedback",
    "C0SHARED": "ext-globex",
}

USERS = {
    "U0ANN": "Ann Lee",
    "U0CAL": "Cal Ortiz",
    "U0BOB": "Bob Stone",
    "U0BEA": "Bea Kim",
    "U0PAM": "Pam Reyes",
    "U0PIA": "Pia Novak",
    "U0EVE": "Eve Adams",
    "U0ED": "Ed Park",
    "U0LEO": "Leo Grant",
    "U0MGR": "Mia Grant",
    "U0SAM": "Sam Hill",
}
