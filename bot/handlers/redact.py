"""Remove customer PII (e-mail addresses, phone numbers, payment cards) from message text.

Everything the bot posts goes through :func:`redact` first. The rules, in order:

* Slack links are handled as units: ``<mailto:...>`` becomes ``[email]`` and ``<tel:...>``
  becomes ``[phone]`` (target and label together); user mentions, channel references and
  special mentions (``<@U..>``, ``<#C..|name>``, ``<!here>``) are kept as they are; for web
  links (``<https://...|label>``) e-mail addresses in the target are redacted and the label is
  redacted like ordinary text.
* Bare URLs (``https://...``, ``www....``) only have e-mail addresses redacted: the digits in
  a URL are ids, not phone or card numbers.
* In ordinary text, e-mail addresses are redacted first, then card numbers, then phone
  numbers, so that a card number is never half-redacted as a phone number and the digits
  of an address never look like a phone number.

A card number is 13-19 digits, either contiguous or grouped the way cards are printed
(4-4-4-4, 4-4-4-4-3, 4-4-4-1, Amex 4-6-5, Diners 4-6-4, separated by spaces or dashes),
that passes the Luhn check. Phone numbers are international (``+44 20 7946 0958``,
``+1 (415) 555-0132``), North American (``(415) 555-0132``, ``415-555-0132``,
``415.555.0132``, ``1-800-555-0199``) or trunk-prefixed national (``020 7946 0958``), with
an optional extension. Plain numbers -- order ids, years, amounts, dates, times, versions --
are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["CARD", "EMAIL", "PHONE", "redact", "redact_count"]

EMAIL = "[email]"
PHONE = "[phone]"
CARD = "[card]"

# A Slack "angle bracket" entity: <target> or <target|label>.
# Or a bare URL, which Slack normally wraps but other sources (Teams, tests) may not.
_LINK_OR_URL = re.compile(
    r"<(?P<target>[^<>|\n]*)(?:\|(?P<label>[^<>\n]*))?>"
    # The lookbehind lets a scheme start only at the beginning of a run of scheme characters,
    # which keeps the scan linear on long hyphenated junk.
    r"|(?P<url>(?<![\w@.+-])(?:[A-Za-z][A-Za-z0-9+.-]*://|www\.)[^\s<>]+)"
)

_EMAIL = re.compile(
    r"(?<![\w.%+-])"
    r"[A-Za-z0-9](?:[A-Za-z0-9._%+-]*[A-Za-z0-9_%+-])?"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
    r"(?![A-Za-z0-9-])"
)

# A maximal run of digit groups separated by single spaces or dashes. The card rules are
# applied to windows of whole groups inside the run (see _redact_card_run).
_DIGIT_RUN = re.compile(
    r"(?<![\w.+/-])(?<![0-9][ -])"
    r"(?>[0-9]+(?:[ -][0-9]+)*)"
    r"(?!\w)"
)
_DIGIT_GROUP = re.compile(r"[0-9]+")

_PHONE = re.compile(
    r"""
    (?<![\w.+/#$-])
    (?:
        (?P<intl>
            \+[0-9]{1,3}
            (?:[ .-]?\([0-9]{1,4}\))?
            (?:[ .-]?[0-9]{1,5}){2,6}+
        )
      | (?P<nanp>
            (?:1[ .-]?)?
            (?:\([0-9]{3}\)[ ]?|[0-9]{3}[ .-])
            [0-9]{3}[ .-][0-9]{4}
        )
      | (?P<trunk>
            (?:\(0[0-9]{2,4}\)|0[0-9]{2,4})
            [ -][0-9]{3,4}[ -][0-9]{3,4}
        )
    )
    (?:[ ]?(?:x|ext\.?)[ ]?[0-9]{1,6})?
    (?!\w|[.-][0-9])
    """,
    re.VERBOSE,
)

_NON_DIGIT = re.compile(r"[^0-9]+")

# (min, max) total digits for each phone alternative; NANP is fixed by the pattern itself.
_PHONE_DIGITS = {"intl": (8, 15), "nanp": (10, 11), "trunk": (10, 11)}


def redact(text: str) -> str:
    """Return ``text`` with e-mail addresses, phone numbers and card numbers replaced."""
    return redact_count(text)[0]


def redact_count(text: str) -> tuple[str, int]:
    """Like :func:`redact`, also returning how many items were replaced."""
    out: list[str] = []
    total = 0
    pos = 0
    for match in _LINK_OR_URL.finditer(text):
        plain, n = _redact_plain(text[pos : match.start()])
        out.append(plain)
        total += n
        if match.group("url") is not None:
            replaced, n = _redact_emails(match.group("url"))
        else:
            replaced, n = _redact_slack_link(match.group(0), match.group("target"), match["label"])
        out.append(replaced)
        total += n
        pos = match.end()
    plain, n = _redact_plain(text[pos:])
    out.append(plain)
    return "".join(out), total + n


def _redact_slack_link(whole: str, target: str, label: str | None) -> tuple[str, int]:
    scheme = target.split(":", 1)[0].lower() if ":" in target else ""
    if scheme == "mailto":
        return EMAIL, 1
    if scheme == "tel":
        return PHONE, 1
    if target[:1] in ("@", "#", "!"):
        # <@U123>, <#C123|general>, <!here>, <!subteam^S1|@team>: ids, not customer data.
        return whole, 0
    new_target, n = _redact_emails(target)
    if label is None:
        return f"<{new_target}>", n
    new_label, m = redact_count(label)
    return f"<{new_target}|{new_label}>", n + m


def _redact_plain(text: str) -> tuple[str, int]:
    text, emails = _redact_emails(text)
    text, cards = _sub(_DIGIT_RUN, _redact_card_run, text)
    text, phones = _sub(_PHONE, _redact_phone, text)
    return text, emails + cards + phones


def _redact_emails(text: str) -> tuple[str, int]:
    return _EMAIL.subn(EMAIL, text)


def _sub(
    pattern: re.Pattern[str],
    decide: Callable[[re.Match[str]], tuple[str, int]],
    text: str,
) -> tuple[str, int]:
    """``pattern.subn`` where the callback may keep a match (count 0) or replace several items."""
    out: list[str] = []
    total = 0
    pos = 0
    for match in pattern.finditer(text):
        replacement, n = decide(match)
        if n:
            out.append(text[pos : match.start()])
            out.append(replacement)
            pos = match.end()
            total += n
    out.append(text[pos:])
    return "".join(out), total


def _redact_card_run(match: re.Match[str]) -> tuple[str, int]:
    """Replace every card number inside a run of digit groups.

    Windows of consecutive groups are tried from the left, longest first, so that
    ``"qty 2 4111 1111 1111 1111 12/27"`` still loses the card number.
    """
    run = match.group(0)
    groups = [(g.start(), g.end()) for g in _DIGIT_GROUP.finditer(run)]
    out: list[str] = []
    found = 0
    pos = 0
    i = 0
    while i < len(groups):
        for j in range(min(len(groups), i + 5), i, -1):
            window = groups[i:j]
            lengths = [end - start for start, end in window]
            digits = "".join(run[start:end] for start, end in window)
            if _card_shaped(lengths, ends_run=j == len(groups)) and _luhn_ok(digits):
                out.append(run[pos : window[0][0]])
                out.append(CARD)
                pos = window[-1][1]
                found += 1
                i = j
                break
        else:
            i += 1
    out.append(run[pos:])
    return "".join(out), found


def _card_shaped(lengths: list[int], *, ends_run: bool) -> bool:
    """Whether digit groups of these lengths are laid out like a printed card number.

    A short final group (4-4-4-4-3) must end the run: in ``"4111 1111 1111 1111 415-555-0132"``
    the card is the first four groups, not the first five.
    """
    if not 13 <= sum(lengths) <= 19:
        return False
    if len(lengths) == 1:
        return True
    if lengths in ([4, 6, 5], [4, 6, 4]):
        return True
    *head, last = lengths
    return all(n == 4 for n in head) and (last == 4 or (ends_run and 1 <= last < 4))


def _luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - ord("0")
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _redact_phone(match: re.Match[str]) -> tuple[str, int]:
    kind = match.lastgroup
    if kind is None:  # pragma: no cover - every alternative is a named group
        return match.group(0), 0
    number = _NON_DIGIT.sub("", match.group(kind))
    low, high = _PHONE_DIGITS[kind]
    if low <= len(number) <= high:
        return PHONE, 1
    return match.group(0), 0
