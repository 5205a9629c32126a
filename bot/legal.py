"""GET /privacy and GET /terms: the pages the Teams app package's privacyUrl and
termsOfUseUrl point at (bot/adapters/teams/package.py), as plain, accessible HTML.

The text is the config's (`[legal] privacy`, `terms`, or their `_file`s), else a default
that says what this Crosstalk stores, for how long, and whom to ask. Configured text is
shown as text (escaped; blank lines separate paragraphs), never as markup. Pages are built
once at start; the Content-Security-Policy allows nothing but their one inline style.
"""

from __future__ import annotations

import base64
import hashlib
import html

from aiohttp import web

from config.schema import CrosstalkConfig

STYLE = (
    "body{font:1rem/1.6 system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;"
    "color:#1b1b1b;background:#fff}h1{font-size:1.6rem}h2{font-size:1.15rem;margin-top:1.6rem}"
    "a{color:#3730a3}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
CSP = (
    f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "public, max-age=3600",
}
TITLES = {"privacy": "Privacy notice", "terms": "Terms of use"}


def _contact(config: CrosstalkConfig) -> str:
    return config.legal.contact or f"the people who run Crosstalk at {config.org.name}"


def default_privacy(config: CrosstalkConfig) -> str:
    org, days = config.org.name, config.retention.inbox_days
    redacted = (
        " E-mail addresses, phone numbers and card numbers in it are replaced by placeholders"
        " before it is stored."
        if config.broadcast.redact_pii
        else ""
    )
    return f"""Crosstalk is run by {org} for its own people. It stores only what it needs to
send customer conversations to the teams they concern and to report how that goes.

## What Crosstalk stores
The text of each message someone flags, with who flagged it, where, and the customer or
CRM reference they gave.{redacted}

Each team's interpretations of a flag, the outcomes recorded for it (kind, amount, note)
and the ratings the person who flagged it gave.

Timings: when a flag was raised, when each team's card was posted, acknowledged, first
answered and resolved.

Labels: the topics and teams a flag was routed to, corrections such as "Not for us", and
labels given to suggestions.

The chat platform's ids of the people and channels involved. No passwords: the platform
credentials live in the server's environment, never in its database.

## How long
Events received from Slack or Teams are deleted {days} days after they are handled. Flags,
interpretations, timings, labels and outcomes are kept for {org}'s reports until they are
erased; everything about one customer can be erased on request.

## Who sees it
The members of the teams a flag is sent to, the channel it came from, and {org}'s managers
named in Crosstalk's configuration (figures only). Nothing is sold or shared with anyone
else; {org} may send flags and outcomes to its own CRM.

## Contact
Questions, and requests to see or erase data: {_contact(config)}.
"""


def default_terms(config: CrosstalkConfig) -> str:
    org = config.org.name
    return f"""Crosstalk is provided by {org} to its own people, to share what customers say
with every team that can act on it.

## Use
Flag messages for work: to get a customer's question, problem or idea to the teams it
concerns. Do not flag messages to collect information about colleagues.

## Availability
Crosstalk is provided as it is, without a promise that it is always available. Its software
is open source, under the Apache License 2.0.

## Contact
{_contact(config)}.
"""


def render(title: str, org: str, text: str) -> str:
    """`text` as HTML: "## " lines are headings, blank lines end paragraphs, all escaped."""
    blocks: list[str] = []
    for chunk in text.strip().split("\n\n"):
        chunk = chunk.strip()
        if chunk.startswith("## "):
            head, _, rest = chunk.partition("\n")
            blocks.append(f"<h2>{html.escape(head[3:].strip())}</h2>")
            chunk = rest.strip()
        if chunk:
            blocks.append(f"<p>{html.escape(' '.join(chunk.split()))}</p>")
    heading = html.escape(f"{title}: Crosstalk at {org}")
    body = "\n".join(blocks)
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{heading}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n<main>\n<h1>{heading}</h1>\n{body}\n</main>\n</body>\n</html>\n"
    )


def pages(config: CrosstalkConfig) -> dict[str, str]:
    defaults = {"privacy": default_privacy, "terms": default_terms}
    return {
        page: render(TITLES[page], config.org.name, config.legal.page_text(page) or make(config))
        for page, make in defaults.items()
    }


def mount(app: web.Application, config: CrosstalkConfig) -> None:
    for page, body in pages(config).items():

        async def handler(request: web.Request, body: str = body) -> web.Response:
            return web.Response(text=body, content_type="text/html", headers=HEADERS)

        app.router.add_get(f"/{page}", handler)
