"""Teams activities shaped as the msteams docs show them (conversationUpdate on install,
channel messages with mention entities and `;messageid=` threads, message-action and
dialog invokes, Action.Execute), and a sample org that lives partly in Slack and partly
in Teams."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC
from typing import Any

from botframework.connector.auth import AppCredentials, PasswordServiceClientCredentialFactory

from bot.demo.org import ORG_TOML
from bot.demo.standins.bot_connector import BOT_ID, TENANT
from bot.demo.standins.serving import request_time

JSONDict = dict[str, Any]
APP_ID = BOT_ID.removeprefix("28:")
BOT_NAME = "Crosstalk"
TEAM_ID = "19:7d4c0f1a2b3c4d5e6f708192a3b4c5d6@thread.tacv2"  # its General channel too
GROUP_ID = "0b7e2c6a-4d8f-4e2a-9c1b-3f5d7e9a1b2c"
PRODUCT = "19:product0a1b2c3d4e5f60718293a4b5c6d7e8@thread.tacv2"
ENGINEERING = "19:engineering1b2c3d4e5f60718293a4b5c6d7@thread.tacv2"
CUSTOMERS = "19:customers2c3d4e5f60718293a4b5c6d7e8f9@thread.tacv2"
OTHER_TENANT = "11111111-2222-3333-4444-555555555555"

PAM = "3c8a9f0e-1d2b-4c5a-8e7f-6a5b4c3d2e1f"  # product (Teams)
PIA = "4d9b0a1f-2e3c-4d6b-9f80-7b6c5d4e3f20"  # product (Teams)
EVE = "5eac1b20-3f4d-4e7c-a091-8c7d6e5f4031"  # engineering (Teams)
LIZ = "6fbd2c31-4a5e-4f8d-b1a2-9d8e7f605142"  # a Teams listener, in no team
MGR = "7ace3d42-5b6f-4a9e-c2b3-ae9f80716253"  # a manager in Teams
TEAMS_PEOPLE = {
    PAM: "Pam Reyes",
    PIA: "Pia Novak",
    EVE: "Eve Adams",
    LIZ: "Liz Moreau",
    MGR: "Mia Grant",
}

MIXED_ORG_TOML = (
    ORG_TOML.replace(
        'slack_team_ids = ["T0001"]',
        f'slack_team_ids = ["T0001"]\nteams_tenant_ids = ["{TENANT}"]',
    )
    .replace(
        'slack_channel = "C0PRODUCT"\nmembers = ["U0PAM", "U0PIA", "U0CAL"]',
        f'teams_channel = "{PRODUCT}"\nmembers = ["{PAM}", "{PIA}", "U0CAL"]',
    )
    .replace(
        'slack_channel = "C0ENG"\nmembers = ["U0EVE", "U0ED"]',
        f'slack_channel = "C0ENG"\nteams_channel = "{ENGINEERING}"\n'
        f'members = ["U0EVE", "U0ED", "{EVE}"]',
    )
    .replace('managers = ["U0MGR"]', f'managers = ["U0MGR", "{MGR}"]')
)
assert PRODUCT in MIXED_ORG_TOML and ENGINEERING in MIXED_ORG_TOML and TENANT in MIXED_ORG_TOML

_ids = itertools.count()


def message_id() -> str:
    """A Teams message id: epoch milliseconds (as Teams makes them) on the clock requests
    are dated on (``serving.request_clock``), made unique by a counter; the connector's
    own ids, from the same clock, are 10,000 s later."""
    return str(int(request_time().timestamp() * 1000) - 10_000_000 + next(_ids))


def _now() -> str:
    at = request_time().astimezone(UTC)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def person(aad: str) -> JSONDict:
    return {"id": f"29:1{aad[:12]}", "name": TEAMS_PEOPLE.get(aad, "Someone"), "aadObjectId": aad}


def _base(
    kind: str,
    service_url: str,
    conversation_id: str,
    *,
    user: str,
    channel: str | None,
    tenant: str,
    activity_id: str | None = None,
) -> JSONDict:
    channel_data: JSONDict = {"tenant": {"id": tenant}}
    if channel is not None:
        channel_data.update(
            teamsChannelId=channel,
            teamsTeamId=TEAM_ID,
            channel={"id": channel},
            team={"id": TEAM_ID},
        )
    return {
        "type": kind,
        "id": activity_id or f"f:{uuid.uuid4()}",
        "timestamp": _now(),
        "localTimestamp": _now().replace("Z", "+01:00"),
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": person(user),
        "conversation": {
            "isGroup": channel is not None,
            "conversationType": "channel" if channel else "personal",
            "tenantId": tenant,
            "id": conversation_id,
        },
        "recipient": {"id": BOT_ID, "name": BOT_NAME},
        "entities": [{"type": "clientInfo", "locale": "en-GB", "country": "GB", "platform": "Web"}],
        "channelData": channel_data,
        "locale": "en-GB",
    }


def bot_added(service_url: str, *, tenant: str = TENANT, by: str = PAM) -> JSONDict:
    """The bot installed in the team: conversationUpdate with the bot in membersAdded."""
    activity = _base(
        "conversationUpdate", service_url, TEAM_ID, user=by, channel=None, tenant=tenant
    )
    activity["conversation"] = {
        "isGroup": True,
        "conversationType": "channel",
        "tenantId": tenant,
        "id": TEAM_ID,
    }
    activity["membersAdded"] = [{"id": BOT_ID}]
    activity["channelData"] = {
        "team": {"id": TEAM_ID, "name": "Acme Product", "aadGroupId": GROUP_ID},
        "eventType": "teamMemberAdded",
        "tenant": {"id": tenant},
    }
    activity.pop("entities")
    return activity


def channel_message(
    service_url: str,
    channel: str,
    text: str,
    *,
    user: str,
    root: str | None = None,
    mention_bot: bool = False,
    tenant: str = TENANT,
    activity_id: str | None = None,
) -> JSONDict:
    """A message in a channel: a new post, or a reply in the thread of `root`."""
    mid = activity_id or message_id()
    conversation = f"{channel};messageid={root or mid}"
    activity = _base(
        "message",
        service_url,
        conversation,
        user=user,
        channel=channel,
        tenant=tenant,
        activity_id=mid,
    )
    if mention_bot:
        tag = f"<at>{BOT_NAME}</at>"
        text = f"{tag} {text}"
        activity["entities"].insert(
            0, {"type": "mention", "text": tag, "mentioned": {"id": BOT_ID, "name": BOT_NAME}}
        )
    activity.update(text=text, textFormat="plain")
    activity["attachments"] = [{"contentType": "text/html", "content": f"<div>{text}</div>"}]
    if root:
        activity["replyToId"] = root
    return activity


def message_payload(message: str, text: str, author: str, root: str | None = None) -> JSONDict:
    return {
        "linkToMessage": f"https://teams.microsoft.com/l/message/{CUSTOMERS}/{message}",
        "id": message,
        "replyToId": root,
        "createdDateTime": _now(),
        "lastModifiedDateTime": None,
        "deleted": False,
        "summary": None,
        "importance": "normal",
        "locale": "en-us",
        "body": {"contentType": "html", "content": f"<p>{text}</p>"},
        "from": {
            "device": None,
            "conversation": None,
            "user": {
                "userIdentityType": "aadUser",
                "id": author,
                "displayName": TEAMS_PEOPLE.get(author, "A customer"),
            },
            "application": None,
        },
        "reactions": [],
        "mentions": [],
    }


def flag_action(
    service_url: str,
    name: str,
    channel: str,
    message: str,
    text: str,
    *,
    user: str,
    author: str,
    data: JSONDict | None = None,
    tenant: str = TENANT,
) -> JSONDict:
    """composeExtension/fetchTask (`name`) or /submitAction of "Flag for stakeholders"."""
    conversation = f"{channel};messageid={message}"
    activity = _base("invoke", service_url, conversation, user=user, channel=channel, tenant=tenant)
    activity["name"] = name
    activity["channelData"]["source"] = {"name": "message"}
    activity["value"] = {
        "commandId": "flagForStakeholders",
        "commandContext": "message",
        "requestId": uuid.uuid4().hex,
        "messagePayload": message_payload(message, text, author),
        "context": {"theme": "default"},
    }
    if data is not None:
        activity["value"]["data"] = data
    return activity


def card_invoke(
    service_url: str, channel: str, card: str, verb: str, value: str, *, user: str
) -> JSONDict:
    """Action.Execute on a card: invoke adaptiveCard/action."""
    conversation = f"{channel};messageid={card}"
    activity = _base("invoke", service_url, conversation, user=user, channel=channel, tenant=TENANT)
    activity["name"] = "adaptiveCard/action"
    activity["replyToId"] = card
    activity["value"] = {
        "action": {"type": "Action.Execute", "verb": verb, "data": {"ct": verb, "value": value}},
        "trigger": "manual",
    }
    return activity


def task_invoke(
    service_url: str, channel: str, card: str, name: str, data: JSONDict, *, user: str
) -> JSONDict:
    """task/fetch (a card's Action.Submit with msteams task/fetch) or task/submit."""
    conversation = f"{channel};messageid={card}"
    activity = _base("invoke", service_url, conversation, user=user, channel=channel, tenant=TENANT)
    activity["name"] = name
    activity["replyToId"] = card
    activity["value"] = {"type": name, "data": data, "context": {"theme": "default"}}
    return activity


class _FixedToken(AppCredentials):  # type: ignore[misc]
    def __init__(self, app_id: str, token: str) -> None:
        super().__init__(app_id=app_id)
        self._token = token

    def get_access_token(self, force_refresh: bool = False) -> str:
        return self._token


class FixedTokenCredentials(PasswordServiceClientCredentialFactory):  # type: ignore[misc]
    """The bot's credentials with a fixed outbound token instead of a trip to Entra ID;
    inbound checks (the app id) are the real ones."""

    def __init__(self, app_id: str = APP_ID, token: str = "bot-token") -> None:
        super().__init__(app_id, "not-used")
        self.token = token

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> AppCredentials:
        return _FixedToken(app_id, self.token)
