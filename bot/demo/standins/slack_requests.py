"""Real-shaped, correctly signed inbound Slack requests for ``POST /slack/events``.

Every builder returns ``SignedRequest(body, headers)`` (a 2-tuple, so
``body, headers = event_message(...)`` works) ready to post::

    body, headers = event_message("T0001", "C0BILLING", "U0ANN", "refund please", ts)
    await session.post(f"{server}/slack/events", data=body, headers=headers)

Shapes follow the samples in the Slack API docs and bolt-python's tests. Keyword-only
options shared by the builders:

- ``secret``: the signing secret (default :data:`DEFAULT_SIGNING_SECRET`)
- ``timestamp``: the signing time (default: now on ``serving.request_clock``, which the test
  server sets to its own clock; Crosstalk rejects anything over 5 minutes off)
- ``retry_num`` / ``retry_reason``: add ``X-Slack-Retry-Num`` / ``X-Slack-Retry-Reason``
- events also take ``api_app_id``, ``bot_user_id`` (in ``authorizations``),
  ``event_time``, ``is_ext_shared_channel`` and ``enterprise_id``.
"""

from bot.demo.standins.slack.events import (
    event_app_mention,
    event_message,
    event_message_changed,
    event_message_deleted,
    event_reaction_added,
    url_verification,
)
from bot.demo.standins.slack.interactions import (
    block_action,
    message_shortcut,
    slash_command,
    view_submission,
)
from bot.demo.standins.slack.payloads import new_event_id, new_trigger_id, rich_text_blocks
from bot.demo.standins.slack.signing import (
    DEFAULT_API_APP_ID,
    DEFAULT_BOT_USER_ID,
    DEFAULT_SIGNING_SECRET,
    DEFAULT_VERIFICATION_TOKEN,
    SignedRequest,
    sign,
)

__all__ = [
    "DEFAULT_API_APP_ID",
    "DEFAULT_BOT_USER_ID",
    "DEFAULT_SIGNING_SECRET",
    "DEFAULT_VERIFICATION_TOKEN",
    "SignedRequest",
    "block_action",
    "event_app_mention",
    "event_message",
    "event_message_changed",
    "event_message_deleted",
    "event_reaction_added",
    "message_shortcut",
    "new_event_id",
    "new_trigger_id",
    "rich_text_blocks",
    "sign",
    "slash_command",
    "url_verification",
    "view_submission",
]
