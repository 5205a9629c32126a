"""Names in the config resolved to ids when Crosstalk starts (config/names.py says which
values are names).

Resolution happens once, before the config reaches the store or a handler, so nothing
downstream ever sees a name: the resolved config is the cache. A config of ids makes no
call at all. A name that is not found refuses the start with one line naming its key,
as a config error does; so does a platform that cannot be asked (no token, a missing
scope, unreachable).
"""

from __future__ import annotations

import logging
from typing import Protocol

from config.load import ConfigError
from config.names import (
    HOW_SLACK_CHANNEL,
    HOW_SLACK_USER,
    HOW_TEAMS_USER,
    Name,
    NameKind,
    names_in,
    with_ids,
)
from config.schema import CrosstalkConfig
from config.settings import Settings

log = logging.getLogger("crosstalk.names")
_PRIVATE = " (a private channel is seen only once the bot is in it: /invite @crosstalk there)"


class NameProblem(Exception):
    """One name cannot be resolved for a reason of its own (it is ambiguous)."""


class LookupFailed(Exception):
    """The platform could not be asked at all (credentials, scope, network)."""


class NameResolver(Protocol):
    platform: str

    def lookup(self, name: Name) -> str | None:
        """The id `name` stands for; None when there is none. Raises NameProblem or
        LookupFailed."""
        ...


class NamesNotResolved(ConfigError):
    """A config error found at start: one line per problem, each naming its key."""

    def report(self) -> str:
        return "\n".join(f"crosstalk: {self.path}: {p}" for p in self.problems)


def _how(name: Name) -> str:
    if name.kind is NameKind.SLACK_CHANNEL:
        return HOW_SLACK_CHANNEL
    return f"{HOW_SLACK_USER}; {HOW_TEAMS_USER}"


def resolve_config(
    config: CrosstalkConfig, resolver: NameResolver | None, *, path: str
) -> CrosstalkConfig:
    """`config` with every name replaced by its id; the same object when it names none."""
    raw = config.model_dump()
    found = names_in(raw)
    if not found:
        return config
    if resolver is None:
        where, name = found[0]
        raise NamesNotResolved(
            path,
            [
                f"{where}: {name.text!r} is a Slack name, resolved through Slack at start, and"
                f" SLACK_BOT_TOKEN is not set: set it, or write the id ({_how(name)})"
            ],
        )
    ids: dict[Name, str] = {}
    problems: list[str] = []
    for where, name in found:
        try:
            got = ids.get(name) or resolver.lookup(name)
        except NameProblem as exc:
            problems.append(f"{where}: {exc}")
            continue
        except LookupFailed as exc:
            raise NamesNotResolved(path, [f"{where}: {name.text!r} not resolved: {exc}"]) from None
        if got is None:
            hint = _PRIVATE if name.kind is NameKind.SLACK_CHANNEL else ""
            problems.append(f'{where}: no {name.kind} "{name.text}"{hint}')
        else:
            ids[name] = got
    if problems:
        raise NamesNotResolved(path, problems)
    log.info("%d names in the config resolved through %s", len(ids), resolver.platform)
    return CrosstalkConfig.model_validate(with_ids(raw, ids))


def platform_resolver(settings: Settings) -> NameResolver | None:
    """Slack's resolver when a bot token is set (Teams names are refused by the config)."""
    if settings.slack_bot_token is None:
        return None
    from bot.adapters.slack.names import SlackNames

    return SlackNames(settings.slack_bot_token.get_secret_value(), settings.slack_api_base)


def resolved(settings: Settings, config: CrosstalkConfig) -> CrosstalkConfig:
    """The config the server runs on: names resolved, ids untouched (no call for them)."""
    if not names_in(config.model_dump()):
        return config
    return resolve_config(config, platform_resolver(settings), path=settings.config_path)
