"""One Teams activity, already authenticated and from a claimed tenant: translated and
handed over. Events go to the inbox (durable, de-duplicated, worked on off the request);
dialogs and button presses get their answer in the invoke response, as Teams wants.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from collections.abc import Coroutine
from typing import Any
from urllib.parse import quote

from bot.adapters.teams import forms, listening, references, translate
from bot.adapters.teams.gateway import TeamsGateway
from bot.adapters.teams.roi import answer_roi
from bot.core.cache import Bounded
from bot.core.cards import Content
from bot.core.events import BAD_INPUT, Command, FlagRequest
from bot.core.gateway import GatewayError
from bot.core.refs import Platform
from bot.handlers import flag, interpret, outcomes
from bot.handlers.help import help_text
from bot.handlers.roi import command as roi_command
from bot.runtime import Runtime
from config.schema import TeamConfig

log = logging.getLogger("crosstalk.teams")
Answer = dict[str, Any] | None
ANSWERED = 1000  # recent commands remembered, so a redelivered one is answered once
HELP = (
    "To flag a customer message, use “Flag for stakeholders” in its “…” menu (More actions), "
    "or reply to it with @Crosstalk flag."
)


class Turns:
    def __init__(self, runtime: Runtime, gateway: TeamsGateway) -> None:
        self.runtime = runtime
        self.gateway = gateway
        self.org = runtime.org
        self._refs_seen: Bounded[str, bool] = Bounded()  # references saved unchanged
        self._answered: OrderedDict[str, None] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()

    def later(self, work: Coroutine[Any, Any, None]) -> None:
        """Work that must not hold the request (Teams gives up after 10-15 s)."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _answer_later(self, activity: translate.Activity, content: Content) -> None:
        async def send() -> None:
            try:
                await self.gateway.answer(activity, content)
            except GatewayError as exc:
                log.warning("teams: answer not sent: %s", exc)

        self.later(send())

    async def _remember(self, activity: translate.Activity) -> None:
        refs = references.unseen(activity, self._refs_seen)
        if not refs:
            return
        now = self.runtime.clock.now()
        await self.runtime.db.run(
            lambda s: references.remember(s, self.org.org_id, activity, refs, now)
        )
        for ref in refs:
            self._refs_seen.put(json.dumps(ref, sort_keys=True), True)

    async def handle(self, activity: translate.Activity) -> Answer:
        """One activity; one of the wrong shape (a string where Teams sends an object, an
        id that is no number) is answered as ignored, never with a 500."""
        try:
            return await self._handle(activity)
        except BAD_INPUT as exc:
            log.warning("teams: ignored a malformed %s activity: %r", activity.get("type"), exc)
            return {} if activity.get("type") == "invoke" else None

    async def _handle(self, activity: translate.Activity) -> Answer:
        await self._remember(activity)
        self.gateway.remember_person(activity.get("from") or {})
        kind = activity.get("type")
        if kind in ("conversationUpdate", "installationUpdate"):
            if translate.bot_added(activity):
                self.later(self._remember_team_channels(activity))
            return None
        if kind == "invoke":
            return await self._invoke(activity)
        if kind == "message":
            await self._message(activity)
        elif kind in ("messageUpdate", "messageDelete"):
            await self._submit(activity, translate.message_event(activity))
        return None

    async def _submit(self, activity: translate.Activity, event: Any) -> None:
        if event is not None:
            await self.runtime.submit(translate.dedupe_key(activity), event)

    async def _message(self, activity: translate.Activity) -> None:
        if translate.card_action(activity) is not None:  # Action.Submit on an older client
            await self._press(activity)
            return
        if await listening.press(self.runtime, activity) is not None:  # an older client
            return
        in_channel = translate.place(activity).channel_id is not None
        if in_channel and not translate.bot_mentioned(activity):
            if await listening.on_message(self.runtime, activity):  # watched: to be scored
                return
            await self._submit(activity, translate.message_event(activity))
            return
        # A mention in a channel, or anything said to the bot in a chat: a command.
        event = translate.mention_event(activity)
        if isinstance(event, FlagRequest):
            await self._submit(activity, event)
        elif isinstance(event, Command):
            self._command(activity, event)

    def _command(self, activity: translate.Activity, command: Command) -> None:
        # Commands are answered, not stored: a redelivery is recognised in memory.
        key = translate.dedupe_key(activity)
        if key in self._answered:
            return
        self._answered[key] = None
        while len(self._answered) > ANSWERED:
            self._answered.popitem(last=False)
        if command.name == "dashboard" or (
            command.name == "roi" and roi_command.wants_link(command.args)
        ):
            self.later(self._dashboard(activity, command))
            return
        if command.name == "roi":
            self.later(self._roi(activity, command))
            return
        if command.name == "flag-help":
            self._answer_later(activity, (HELP,))
            return
        reaction = self.org.config.flagging.reaction
        self._answer_later(activity, (help_text(Platform.TEAMS, reaction=reaction),))

    async def _roi(self, activity: translate.Activity, command: Command) -> None:
        self._answer_later(activity, await answer_roi(self.runtime, command))

    async def _dashboard(self, activity: translate.Activity, command: Command) -> None:
        """`@Crosstalk dashboard`: a manager's sign-in link, sent in a 1:1 chat (a link said
        in a channel could be opened by anyone there first)."""
        text = await roi_command.dashboard_link(
            db=self.runtime.db,
            org=self.org,
            clock=self.runtime.clock,
            user=command.user,
            public_url=self.runtime.settings.public_url,
        )
        private = translate.place(activity).channel_id is None
        if private or not roi_command.is_manager(self.org, command.user) or "://" not in text:
            self._answer_later(activity, (text,))
            return
        try:
            await self.gateway.direct_message(command.user, (text,), marker=None)
        except GatewayError as exc:
            log.warning("teams: dashboard link not sent: %s", exc)
            self._answer_later(activity, ("The link could not be sent in a 1:1 chat; try there.",))
            return
        self._answer_later(activity, ("I sent you a dashboard link in a 1:1 chat.",))

    async def _press(self, activity: translate.Activity) -> str:
        """A button acting on a card; the message for the presser alone. A repeat of the
        same activity (a retry) is recorded once and answered as done."""
        said = await listening.press(self.runtime, activity)  # a suggestion's button
        if said is not None:
            return said
        event = translate.card_action(activity)
        rating = None if event is not None else translate.rating(activity)
        if event is None and rating is None:
            return "This button is not known to Crosstalk."
        pressed = event or rating
        assert pressed is not None
        answer = await self.runtime.handle_now(translate.dedupe_key(activity), pressed)
        if answer is not None and answer.message:
            return answer.message
        return "Done." if rating is None else f"Thanks: rated {rating.score}/5."

    async def _invoke(self, activity: translate.Activity) -> Answer:
        name = activity.get("name")
        if name == "composeExtension/fetchTask":
            return await self._flag_form(activity)
        if name == "composeExtension/submitAction":
            event = translate.flag_submission(activity)
            if event is None:
                # Just after a just-in-time install Teams submits without the message:
                # answer with the form again, and the next submit carries it.
                return await self._flag_form(activity, again=True)
            await self._submit(activity, event)
            return {}
        if name == "adaptiveCard/action":
            return forms.card_answer(await self._press(activity))
        if name == "task/fetch":
            return await self._dialog(activity)
        if name == "task/submit":
            return await self._dialog_submitted(activity)
        return {}

    async def _flag_form(self, activity: translate.Activity, *, again: bool = False) -> Answer:
        target = translate.payload_message(activity)
        if target is None and again:
            teams = list(self.org.config.routing.default_teams)
            return forms.flag_task(self.org.config, teams, "")
        if target is None:
            return forms.message("Crosstalk flags messages in team channels.")
        message, text, _ = target
        channel = message.channel.id  # the org's model prefills what no rule matches
        routing = await self.runtime.query(lambda s: flag.routing_for(text, channel, self.org, s))
        return forms.flag_task(self.org.config, list(routing.teams), text)

    async def _team_of(self, broadcast_id: int) -> TeamConfig | None:
        return await self.runtime.query(
            lambda s: interpret.form_team(session=s, org=self.org, broadcast_id=broadcast_id)
        )

    async def _dialog(self, activity: translate.Activity) -> Answer:
        shown = await listening.dialog(self.runtime, activity)  # a suggestion's form
        if shown is not None:
            return shown
        found = translate.button(activity)
        if found is None:
            return forms.message("This button is not known to Crosstalk.")
        verb, broadcast_id = found
        if verb == "ct_outcome":
            user = translate.sender(activity)
            flagged = await self.runtime.query(
                lambda s: outcomes.form_flag(
                    session=s, org=self.org, broadcast_id=broadcast_id, user=user
                )
            )
            if isinstance(flagged, str):
                return forms.message(flagged)
            return forms.outcome_task(broadcast_id, flagged.excerpt, self.org.config.roi.currency)
        team = await self._team_of(broadcast_id)
        if verb != "ct_interpret" or team is None:
            return forms.message("This card is no longer known to Crosstalk.")
        return forms.interpret_task(broadcast_id, team.name)

    async def _dialog_submitted(self, activity: translate.Activity) -> Answer:
        flagged = await listening.submitted(self.runtime, activity)  # a suggestion's form
        if flagged is not None:
            return flagged
        data = translate.task_data(activity)
        if data.get("ct") == "ct_outcome":
            outcome = translate.outcome_submission(activity, self.org.config.roi.currency)
            if isinstance(outcome, dict):
                value = str(data.get("value", ""))
                if not value.isdigit():
                    return forms.message("This card is no longer known to Crosstalk.")
                currency = self.org.config.roi.currency
                return forms.outcome_task(int(value), "", currency, outcome, data)
            await self._submit(activity, outcome)
            return forms.message("Outcome recorded: every card of this flag will show it.")
        event = translate.interpretation_submission(activity)
        if event is None:
            return forms.message("This form is not known to Crosstalk.")
        if not event.text:
            team = await self._team_of(event.broadcast_id)
            name = team.name if team else "your team"
            return forms.interpret_task(
                event.broadcast_id, name, "Say what this means for your team."
            )
        await self._submit(activity, event)
        return forms.message("Thanks: your interpretation is recorded and shared.")

    async def _remember_team_channels(self, activity: translate.Activity) -> None:
        """When the bot joins a team, keep a reference for each of its channels, so a
        team's configured channel is reachable before anyone speaks in it."""
        where = translate.place(activity)
        if not where.team_id:
            return
        url = (
            f"{where.service_url.rstrip('/')}/v3/teams/{quote(where.team_id, safe='')}"
            "/conversations"
        )
        try:
            data = await self.gateway.connector.call("GET", url, what="teams channels")
        except GatewayError as exc:
            log.warning("teams: the channels of team %s were not listed: %s", where.team_id, exc)
            return
        channel_data = activity.get("channelData") or {}
        conversation = activity.get("conversation") or {}
        for channel in data.get("conversations") or []:
            if not channel.get("id"):
                continue
            named = {"id": channel["id"], "name": channel.get("name")}
            seen = {
                **activity,
                "channelData": {**channel_data, "channel": named},
                "conversation": {**conversation, "id": channel["id"]},
            }
            await self._remember(seen)
