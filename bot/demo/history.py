"""The six weeks before the demo's story week: Acme using Crosstalk, getting better at it.

Each week five customer messages are flagged in Slack (and, from the third week, one in
Microsoft Teams); the teams they reach answer, faster week by week; flaggers rate the
answers; some flags are resolved and some end in business outcomes recorded with their CRM
refs. It is played like the story (bot.demo.scenario): every step is a signed request to
the real server, on the story's clock moved forward step by step, so the maturity score,
the charts and /roi come out of what the server recorded, not out of numbers typed here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlmodel import col, select

from bot.demo import verbs
from bot.demo.standins import teams_activities as ta
from bot.demo.story import ANN, BEA, BOB, CAL, ED, EVE, FEEDBACK, GLOBEX, LEO, PAM, PIA, Story
from store.models import Broadcast, Flag, Team

WEEKS = 6
SUE, SID, BEN, BRI, PAT, EMI, ELI, LIV, LOU = (
    "U0SUE", "U0SID", "U0BEN", "U0BRI", "U0PAT", "U0EMI", "U0ELI", "U0LIV", "U0LOU",
)  # fmt: skip

# Who answers for each team, in turn (never the flagger: the flagger never stops a clock).
RESPONDERS = {
    "success": (SUE, SID, ANN),
    "billing": (BOB, BEN, BRI, BEA),
    "product": (PAM, PAT, PIA),
    "engineering": (EVE, ED, EMI, ELI),
    "legal": (LOU, LIV, LEO),
}
ANSWERS = {
    "success": "Called them this morning; their account manager follows up on Friday.",
    "billing": "Checked the account: the duplicate charge is refunded, credit note sent.",
    "product": "Logged as a request on the roadmap board; three other customers asked too.",
    "engineering": "Reproduced and fixed; the patch ships with this week's release.",
    "legal": "The standard DPA covers it; I sent the signed copy and the sub-processor list.",
}


@dataclass(frozen=True)
class Case:
    channel: str
    customer: str  # who says it (a customer in bot.demo.story.CUSTOMERS)
    text: str
    flagger: str
    outcome: tuple[str, float, str] | None = None  # kind, amount, note


CASES = (
    Case(FEEDBACK, "U0PRIYA", "We were charged twice for this month's invoice, please refund "
         "the duplicate.", ANN, ("retained", 6000, "Kept the account after the refund")),
    Case(FEEDBACK, "U0LENA", "Any chance of a roadmap feature to share a dashboard with our "
         "board? We would pay for it.", ANN, ("upsell", 4800, "Board seats add-on")),
    Case(GLOBEX, "W0DANA", "The mobile app crashes with an error since the update, our field "
         "team cannot log visits.", CAL, ("cost_saved", 900, "No escalation team needed")),
    Case(FEEDBACK, "U0MORGAN", "Procurement needs your DPA and a GDPR answer before the "
         "contract renewal.", SUE, ("retained", 12000, "Renewal signed")),
    Case(FEEDBACK, "U0TOM", "Support has been slow and we are thinking of leaving for a "
         "competitor. Disappointing.", PIA, ("retained", 8000, "Stayed on a named contact")),
    Case(FEEDBACK, "U0NINA", "The billing page is broken: an error every time I update my "
         "card.", ANN),
    Case(FEEDBACK, "U0OMAR", "The export feature stops at 5k rows; is a bigger export on the "
         "roadmap?", BEA, ("new_deal", 9000, "Enterprise tier for the bigger export")),
    Case(GLOBEX, "W0RAJ", "Our lawyer asks whether the contract allows data to leave the "
         "EU.", CAL),
)  # fmt: skip
# In the last two weeks other teams start flagging too: new cross-team connections
# (engineering with product and legal, billing with legal). (weeks back, flag) -> flagger.
NEWCOMERS = {(2, 2): EMI, (2, 3): EMI, (1, 2): BEA}
TEAMS_CASE = "The Teams app shows an error when it syncs our calendar; looks like a bug."
TEAMS_CUSTOMER = ta.PIA  # a Teams user outside Acme's teams, as far as the config knows


Step = tuple[datetime, int, Callable[[], Awaitable[None]]]


def _at(story: Story, day: int, hour: int, minute: int = 0) -> datetime:
    local = datetime.combine(
        story.start.date() + timedelta(days=day), time(hour, minute), tzinfo=story.start.tzinfo
    )
    return local


def _routed(story: Story, origin: tuple[str, str]) -> list[str]:
    rows = story.server.query(
        select(Team.key)
        .join(Broadcast, col(Broadcast.team_id) == col(Team.id))
        .join(Flag, col(Flag.id) == col(Broadcast.flag_id))
        .where(Flag.channel_id == origin[0], Flag.message_id == origin[1])
        .order_by(col(Broadcast.id))
    )
    return [str(key) for key in rows]


def _week(story: Story, back: int, steps: list[Step], origins: list[tuple[str, str]]) -> None:
    """The steps of the week `back` weeks before the story; later weeks answer faster."""
    monday = -7 * back
    delay = [260, 200, 150, 110, 75, 45][WEEKS - back]  # minutes to a first answer
    for i in range(5):
        case = CASES[((WEEKS - back) * 5 + i) % len(CASES)]
        flag_at = _at(story, monday + i, 9 + i % 3, 10 + 7 * i)
        slot = len(origins)
        origins.append(("", ""))

        flagger = NEWCOMERS.get((back, i), case.flagger)

        async def flag(case: Case = case, slot: int = slot, flagger: str = flagger) -> None:
            ts = story.customer_says(case.channel, case.customer, case.text)
            await story.react(flagger, case.channel, ts)
            origins[slot] = (case.channel, ts)

        steps.append((flag_at, 0, flag))
        late = i == 3 and back >= 4  # early on, one flag a week waits past its SLA
        answered = flag_at + timedelta(minutes=delay * (4 if late else 1))
        for k in range(2):

            async def answer(k: int = k, slot: int = slot, flagger: str = flagger) -> None:
                teams = _routed(story, origins[slot])
                if k >= len(teams):
                    return
                team = teams[k]
                who = next(u for u in _turn(team, back + k) if u != flagger)
                await story.reply(who, origins[slot], team, ANSWERS[team])

            steps.append((answered + timedelta(minutes=25 * k), 1, answer))
        if i % 2 == 0:

            async def ack(slot: int = slot) -> None:
                team = _routed(story, origins[slot])[0]
                await story.press(RESPONDERS[team][0], origins[slot], team, "ct_ack")

            steps.append((flag_at + timedelta(minutes=min(12, delay // 4)), 1, ack))
        if i != 4 or back <= 2:

            async def rating(slot: int = slot, case: Case = case, flagger: str = flagger) -> None:
                score = 5 if back <= 3 else (4 if case.outcome else 3)
                await verbs.rate(story, flagger, origins[slot], score)

            steps.append((answered + timedelta(hours=1), 2, rating))
        if case.outcome is not None and back <= 4 and (back + i) % 2 == 0:
            kind, amount, note = case.outcome

            async def outcome(slot: int = slot, kind: str = kind, amount: float = amount,
                              note: str = note, n: int = slot) -> None:  # fmt: skip
                team = _routed(story, origins[slot])[0]
                who = RESPONDERS[team][0]
                await verbs.record_outcome(
                    story, who, origins[slot], team, kind=kind, amount=amount,
                    crm_ref=f"SF-{4100 + n}", note=note,
                )  # fmt: skip

            steps.append((answered + timedelta(hours=2), 3, outcome))
        if i in (0, 1, 4) and back <= 5:

            async def resolve(slot: int = slot) -> None:
                if verbs.flag_of(story, origins[slot]).status == "resolved":
                    return  # an outcome recorded resolves the flag too
                team = _routed(story, origins[slot])[0]
                await story.press(RESPONDERS[team][0], origins[slot], team, "ct_resolve")

            steps.append((answered + timedelta(hours=3), 4, resolve))


def _turn(team: str, n: int) -> list[str]:
    people = RESPONDERS[team]
    return [people[(n + j) % len(people)] for j in range(len(people))]


def _teams_week(story: Story, teams: verbs.TeamsSide, back: int, steps: list[Step]) -> None:
    flag_at = _at(story, -7 * back + 2, 15, 5)
    said: list[str] = []

    async def flag() -> None:
        said.append(await teams.flag(ta.LIZ, TEAMS_CUSTOMER, TEAMS_CASE, ("engineering",)))

    async def answer() -> None:
        await teams.reply(ta.EVE, said[0], "engineering", "Calendar sync token expiry; fixed.")

    steps.append((flag_at, 0, flag))
    steps.append((flag_at + timedelta(minutes=30 + 20 * back), 1, answer))


async def play(story: Story, teams: verbs.TeamsSide) -> int:
    """Play the weeks in time order; how many flags they raised."""
    steps: list[Step] = []
    origins: list[tuple[str, str]] = []
    for back in range(WEEKS, 0, -1):
        _week(story, back, steps, origins)
        if back <= 4:
            _teams_week(story, teams, back, steps)
    steps.sort(key=lambda step: (step[0], step[1]))
    for when, _, step in steps:
        story.clock.set(max(when, story.clock.now()))
        await step()
    return len(origins) + sum(1 for back in range(WEEKS, 0, -1) if back <= 4)


def history_start(story_start: datetime) -> datetime:
    """When the first history week begins: its Monday, 08:00 local."""
    day = story_start.date() - timedelta(weeks=WEEKS)
    return datetime.combine(day, time(8, 0), tzinfo=story_start.tzinfo)
