"""The story `crosstalk demo` tells: a Monday and a Tuesday morning of customer
conversations at Acme, told in the verbs of `bot.demo.story` and so driven through the real
server exactly as Slack would drive it.

This module only drives; what happened is read back by `bot.demo.snapshot` and printed by
`bot.demo.report`.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.demo.story import (
    ANN,
    BEA,
    BOB,
    CAL,
    ED,
    EVE,
    FEEDBACK,
    GLOBEX,
    LEO,
    PAM,
    PIA,
    Story,
)


def scenario_start(today: date, tz: ZoneInfo) -> datetime:
    """09:00 on the latest Monday whose Tuesday morning is already past, so every instant
    of the story lies in the past and inside the org's business week."""
    back = today.weekday() + (7 if today.weekday() < 2 else 0)
    return datetime.combine(today - timedelta(days=back), time(9, 0), tzinfo=tz)


async def play(story: Story) -> None:
    """The script, in the order things happen. Each flag is a customer message; its
    teams answer at their own pace, through every way in that Slack offers."""
    s = story

    # 09:00 Monday. Initech was double-charged; Ann (Success) flags it with :mega:.
    s.at("09:02")
    charged = s.customer_says(
        FEEDBACK,
        "U0PRIYA",
        "We were charged twice for the March invoice and our refund request has had no "
        "answer for a week. Really frustrating.",
    )
    s.at("09:06")
    await s.react(ANN, FEEDBACK, charged)
    initech = (FEEDBACK, charged)

    # Globex, in the shared channel: the export is broken. Cal answers the customer, then
    # flags the thread with a mention; the notice goes to Cal privately, not to Globex.
    s.at("09:10")
    export = s.customer_says(
        GLOBEX,
        "W0DANA",
        "The CSV export has been broken since yesterday's release: it crashes on anything "
        "over 10k rows, and our finance team needs it for month-end close.",
    )
    s.at("09:14")
    await s.say_in_thread(
        CAL, GLOBEX, export, "Thanks Dana, sorry about this. Getting the right people on it now."
    )
    s.at("09:15")
    await s.mention_flag(CAL, GLOBEX, export)
    globex_export = (GLOBEX, export)

    s.at("09:18")
    await s.press(BOB, initech, "billing", "ct_ack")
    s.at("09:20")
    await s.bot_reply(
        globex_export, "engineering", "ENG-4821 created: CSV export crashes above 10k rows"
    )
    s.at("09:24")
    await s.reply(  # the flagger adding context: useful, but it does not stop the clock
        CAL, globex_export, "engineering", "Dana says it started right after Thursday's release."
    )
    s.at("09:25")
    await s.press(ED, globex_export, "engineering", "ct_ack")
    s.at("09:31")
    await s.react(CAL, FEEDBACK, charged)  # flagged again: Cal joins Ann, no second card
    s.at("09:40")
    eve_says = await s.reply(
        EVE,
        globex_export,
        "engineering",
        "Reproduced: the export job runs out of memory above ~8k rows. Fix in progress.",
    )
    s.at("09:48")
    await s.reply(
        BOB,
        initech,
        "billing",
        "Confirmed the duplicate charge on INV-2291; refund issued, Priya will see it in 3-5 days.",
    )

    # Fischer & Co love the dashboard and want an integration. Ann flags it by mention.
    s.at("10:05")
    dashboard = s.customer_says(
        FEEDBACK,
        "U0LENA",
        "Love the new dashboard, the whole team opens it every morning! Any chance of a "
        "Salesforce integration on the roadmap?",
    )
    s.at("10:07")
    await s.say_in_thread(ANN, FEEDBACK, dashboard, "Thank you Lena! Passing this to Product.")
    s.at("10:08")
    await s.mention_flag(ANN, FEEDBACK, dashboard)
    fischer = (FEEDBACK, dashboard)

    # Umbrella's lawyer asks for the DPA. Ann uses the shortcut, names the customer and
    # adds Engineering to the Legal the rules chose: data residency is theirs to answer.
    s.at("10:20")
    dpa = s.customer_says(
        FEEDBACK,
        "U0MORGAN",
        "Before we renew the contract, our lawyer needs your DPA and a clear answer on where "
        "our data is stored under GDPR.",
    )
    s.at("10:26")
    await s.open_flag_form(ANN, FEEDBACK, dpa)
    s.at("10:27")
    await s.submit_flag_form(
        ANN,
        customer="Umbrella Corp",
        teams=("legal", "engineering"),
        note="Renewal worth 48k USD is due in June.",
    )
    umbrella = (FEEDBACK, dpa)

    s.at("10:40")
    await s.press(BOB, initech, "billing", "ct_resolve")
    s.at("10:50")
    await s.press(LEO, umbrella, "legal", "ct_ack")

    # Hooli threatens to leave, with a phone number and an e-mail address in the message:
    # both are redacted in everything Crosstalk posts. Bea (Billing) is the listener here.
    s.at("11:05")
    churn = s.customer_says(
        FEEDBACK,
        "U0TOM",
        "Tom Becker, Hooli: call me on +44 20 7946 0958 or tom.becker@hooli.com. Support has "
        "been slow and disappointing lately and we are seriously considering leaving for a "
        "competitor.",
    )
    s.at("11:09")
    await s.react(BEA, FEEDBACK, churn)
    hooli = (FEEDBACK, churn)
    s.at("11:15")
    await s.press(ANN, hooli, "success", "ct_ack")
    s.at("11:22")
    await s.reply(BEA, hooli, "success", "FYI their renewal is on the 30th.")  # the flagger
    s.at("11:31")
    await s.reply(
        ED,
        umbrella,
        "engineering",
        "All EU customer data stays in eu-west-1, backups in Frankfurt. Happy to join the call.",
    )
    s.at("11:35")
    await s.reply(
        ANN,
        hooli,
        "success",
        "I know Tom. Calling him today and offering a named support contact.",
    )
    s.at("11:50")
    await s.edit(
        EVE,
        globex_export,
        "engineering",
        eve_says,
        "Reproduced: the export job runs out of memory above ~8k rows. Fix ships in 2.13.1 "
        "this afternoon.",
    )

    # Globex IT asks about SSO in the shared channel: no rule matches, so the default team.
    s.at("12:10")
    sso = s.customer_says(
        GLOBEX, "W0RAJ", "Quick question from our IT team: does the Pro plan include SSO?"
    )
    s.at("12:12")
    await s.react(CAL, GLOBEX, sso)
    globex_sso = (GLOBEX, sso)

    # Stark were promised a discount; "contract" also sends it to Legal, who decline it.
    s.at("12:40")
    discount = s.customer_says(
        FEEDBACK,
        "U0NINA",
        "Your account rep promised us 15% off at renewal, but the new invoice shows full "
        "price. Not happy. Can someone sort this out before the contract renews?",
    )
    s.at("12:44")
    await s.react(ANN, FEEDBACK, discount)
    stark = (FEEDBACK, discount)
    s.at("13:02")
    await s.press(LEO, stark, "legal", "ct_not_for_us")
    s.at("13:25")
    await s.reply(
        ANN, globex_sso, "success", "SSO (SAML) is on Enterprise; I'll send Raj the options."
    )

    # Wayne's field team keeps being logged out; Pia (Product) flags it.
    s.at("14:00")
    logout = s.customer_says(
        FEEDBACK,
        "U0OMAR",
        "The mobile app keeps logging me out every few minutes. Looks like a bug, and it is "
        "really annoying my field team.",
    )
    s.at("14:03")
    await s.react(PIA, FEEDBACK, logout)
    wayne = (FEEDBACK, logout)

    # Product is in New York: it answers once its day starts, one by the form.
    s.at("14:20")
    await s.reply(
        CAL,  # in Success and Product: on Product's card he speaks for Product
        fischer,
        "product",
        "A Salesforce sync is planned for Q3; I'll add Fischer & Co as a design partner.",
    )
    s.at("14:30")
    await s.reply(
        BEA, stark, "billing", "Sales approved the 15%; corrected invoice INV-2307 goes out today."
    )
    s.at("14:38")
    await s.press(PAM, globex_export, "product", "ct_interpret")
    s.at("14:40")
    await s.submit_interpretation(
        PAM,
        "Exports over 10k rows are common for finance teams at month end; streaming export "
        "should be a priority.",
        impact="high",
        action="Ship streaming CSV export in 2.14; offer Globex a scheduled export meanwhile",
        owner=PIA,
    )
    s.at("15:10")
    await s.reply(
        LEO,
        umbrella,
        "legal",
        "DPA v4 is in the renewal pack; Ed's data-residency answer is fine to share as is.",
    )
    s.at("16:30")
    await s.press(EVE, globex_export, "engineering", "ct_resolve")

    # Tuesday: Engineering gets to the logout bug well past its 4h SLA.
    s.at("09:45", day=1)
    await s.reply(
        ED,
        wayne,
        "engineering",
        "Token refresh bug in iOS 5.2; hotfix 5.2.1 is with the App Store review.",
    )
    s.at("10:00", day=1)
