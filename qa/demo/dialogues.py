"""The demo contact center as data: agents, queues, customers and the scripted (recorded) calls.

Everything here is fixed; ``qa.demo.fortnight`` adds the seeded parts (minutes, durations, the
unrecorded filler calls), ``qa.demo.surveys`` the survey scores, and ``qa.demo.audio`` renders
the scripts to stereo audio with espeak-ng.

A script is a tuple of lines:

* ``("A", text)`` / ``("C", text)``: the agent / the customer speaks.
* ``("A>", text)`` / ``("C>", text)``: the same, interrupting (starts before the other side ends).
* ``("HOLD", seconds)``: the customer is on hold; both channels are silent.

``{agent}`` in a line is replaced by the agent's first name.

``tags`` names the phenomena a call contains: the ground truth a tagger should find, and what
the survey model in ``qa.demo.surveys`` scores.  The names are those of ``models/taxonomy.json``
where it has the phenomenon, plus ``hold`` and ``callback-promised``.
"""

from __future__ import annotations

from dataclasses import dataclass

COMPANY = "Brightline"

QUEUES = ("billing", "technical", "sales")

TAGS = (
    "re-explain",
    "transfer",
    "hold",
    "callback-promised",
    "agent-praise",
    "agent-rude",
    "long-wait",
    "rushed",
    "unresolved",
    "broken-callback",
)


@dataclass(frozen=True)
class Voice:
    """espeak-ng settings: ``-v voice -s speed -p pitch -g word_gap``.

    Variants attach to a voice *file* name (``en+f2``, ``en-us+m3``); on an alias such as
    ``en-gb`` espeak-ng silently ignores them.
    """

    voice: str
    speed: int = 150
    pitch: int = 50
    word_gap: int = 0  # extra pause between words, in units of 10 ms


@dataclass(frozen=True)
class Agent:
    agent_id: str
    name: str
    team: str
    queues: tuple[str, ...]
    voice: Voice

    @property
    def first_name(self) -> str:
        return self.name.split()[0]


AGENTS: tuple[Agent, ...] = (
    Agent(
        "A01", "Maria Lopez", "Team North", ("billing", "technical"), Voice("en-us+f3", 150, 55, 1)
    ),
    Agent(
        "A02",
        "James Carter",
        "Team North",
        ("technical", "sales"),
        Voice("en-us+edward", 145, 50, 1),
    ),
    Agent("A03", "Priya Shah", "Team North", ("technical", "sales"), Voice("en-us+anika", 140, 50)),
    Agent(
        "A04", "Tom Becker", "Team South", ("billing", "technical"), Voice("en-us+m3", 155, 40, 1)
    ),
    Agent("A05", "Grace Kim", "Team South", ("billing", "sales"), Voice("en-us+steph", 145, 50, 1)),
)

AGENTS_BY_ID = {a.agent_id: a for a in AGENTS}

# Customers who appear in the scripted calls, with the voice they speak in.
CUSTOMER_VOICES: dict[str, Voice] = {
    "CU1007": Voice("en+michel", 145, 40),  # David Hughes: internet drops every evening
    "CU1012": Voice("en-gb-x-rp+m7", 150, 35),  # Robert Singh: price rise
    "CU1015": Voice("en-gb-x-rp+f3", 150, 65),  # Ellen Park: late payment fee
    "CU1021": Voice("en+f2", 150, 55),  # Sarah Mitchell: upgrade
    "CU1024": Voice("en+steph", 145, 60),  # Linda Brooks: TV refund
    "CU1026": Voice("en-gb-x-rp+m3", 150, 45),  # Kevin Walsh: slow internet
    "CU1030": Voice("en+f3", 150, 55),  # Anna Fischer: moving house
    "CU1033": Voice("en-gb-x-rp+m2", 150, 45),  # Peter Collins: cancellation
    "CU1035": Voice("en-gb-x-rp+m6", 150, 40),  # Mark Evans: email outage
    "CU1038": Voice("en+anika", 150, 60),  # Julie Turner: renewal offer
}

Line = tuple[str, str] | tuple[str, float]


@dataclass(frozen=True)
class Dialogue:
    """One scripted, recorded call and what the telephony export and the survey say about it."""

    key: str
    day: int  # index into the business days of the demo fortnight (0 = Mon 2026-11-02)
    hour: int  # the call starts within this hour; the minute comes from the seed
    queue: str
    agent_id: str
    customer_id: str
    direction: str
    tags: tuple[str, ...]
    lines: tuple[Line, ...]
    transferred: bool = False
    resolved: bool = True
    wait: tuple[int, int] | None = None  # wait_seconds range; None: the usual distribution
    talk: tuple[int, int] = (240, 720)
    survey: bool = False
    comment: str = ""


DIALOGUES: tuple[Dialogue, ...] = (
    Dialogue(
        key="evening_drops_rushed",
        day=1,
        hour=10,
        queue="technical",
        agent_id="A04",
        customer_id="CU1007",
        direction="inbound",
        tags=("rushed", "unresolved"),
        resolved=False,
        talk=(130, 200),
        survey=True,
        comment="The agent rushed me off the phone and my internet still drops every evening.",
        lines=(
            (
                "A",
                "Thank you for calling Brightline technical support, this is {agent}. "
                "How can I help?",
            ),
            (
                "C",
                "Hi. My internet keeps dropping out every evening, usually around seven "
                "o'clock. It has been happening for a week now.",
            ),
            ("A", "Okay. Have you tried restarting the router?"),
            ("C", "Yes, several times. It comes back for a few minutes and then it drops again."),
            ("A", "Right. Restart it again tonight and it should be fine."),
            ("C", "But I have already done that. Can you check the line from your side?"),
            ("A", "I am showing no faults on the line."),
            ("C", "Then why does it keep dropping?"),
            ("A", "Could be your wifi. Is there anything else? No? Okay, bye."),
            ("C>", "Wait, hang on, you're rushing me. I haven't finished."),
        ),
    ),
    Dialogue(
        key="evening_drops_second_call",
        day=2,
        hour=9,
        queue="technical",
        agent_id="A02",
        customer_id="CU1007",
        direction="inbound",
        tags=("re-explain", "transfer"),
        transferred=True,
        resolved=False,
        survey=True,
        comment="I had to explain my problem three times and then got transferred anyway.",
        lines=(
            (
                "A",
                "Good morning, Brightline technical support, {agent} speaking. "
                "How can I help you today?",
            ),
            (
                "C",
                "Hello. I called yesterday about my internet dropping every evening. "
                "I already explained this to the last person.",
            ),
            (
                "A",
                "I'm sorry about that. I can't see any notes from that call. "
                "Could you tell me what is happening?",
            ),
            (
                "C",
                "Seriously? So I have to tell my story again. Fine. The internet drops every "
                "evening around seven, and restarting the router doesn't help.",
            ),
            (
                "A",
                "Thank you, and I'm sorry you had to explain it again. "
                "Which lights are showing on the router when it drops?",
            ),
            ("C", "The internet light goes red, and then it flashes orange."),
            (
                "A",
                "That points to a fault on the line, not the router. I'm putting you through "
                "to technical support level two. They can run a line test.",
            ),
            ("C", "Will I have to explain everything again to them?"),
            (
                "A",
                "I'll pass on my notes, so they should have the details. "
                "Please stay on the line while I transfer you.",
            ),
            ("C", "Okay. Thank you."),
        ),
    ),
    Dialogue(
        key="evening_drops_third_call",
        day=6,
        hour=15,
        queue="technical",
        agent_id="A01",
        customer_id="CU1007",
        direction="inbound",
        tags=("re-explain", "unresolved", "broken-callback", "callback-promised"),
        resolved=False,
        survey=True,
        comment="Third call about the same problem. Level two promised to call me back and never "
        "did, every time I have to tell my story again, and it's still not fixed.",
        lines=(
            ("A", "Thank you for calling Brightline, this is {agent}. How can I help?"),
            (
                "C",
                "This is my third call about the same problem. "
                "I have to tell my story again, don't I?",
            ),
            ("A", "I'm sorry. Let me pull up your account first. Can I take your customer number?"),
            ("C", "It's one zero zero seven."),
            ("A", "Thank you. What is happening with your connection?"),
            (
                "C",
                "My internet drops every evening. Last week I was transferred to level two. "
                "They promised to call me back, and nobody ever did.",
            ),
            ("A", "I can see the line test here. And it is still dropping?"),
            ("C", "Yes, every night. So it's still not fixed."),
            (
                "A",
                "I understand how frustrating that is. I need to book an engineer, "
                "but the booking system is down right now.",
            ),
            ("C", "Of course it is."),
            (
                "A",
                "I will call you back tomorrow morning to confirm the engineer visit. "
                "You have my word.",
            ),
            ("C", "Alright. I'll wait for your call."),
        ),
    ),
    Dialogue(
        key="evening_drops_callback",
        day=7,
        hour=9,
        queue="technical",
        agent_id="A01",
        customer_id="CU1007",
        direction="outbound",
        tags=("agent-praise", "callback-promised"),
        talk=(180, 300),
        survey=True,
        comment="Maria called back exactly when she said she would. Really helpful, thank you!",
        lines=(
            (
                "A",
                "Hello, this is {agent} from Brightline, calling you back as promised "
                "about your internet connection.",
            ),
            ("C", "Oh, hello {agent}. I honestly didn't expect you to call."),
            (
                "A",
                "I've booked an engineer for Friday, between eight and twelve. They will "
                "replace the faulty cable outside your house.",
            ),
            ("C", "That's great news. Will I get a confirmation?"),
            (
                "A",
                "Yes, you'll get an email within twenty four hours with the details. "
                "I've also added a credit of fifteen dollars to your account for the trouble.",
            ),
            ("C", "You've been really helpful, thank you so much."),
            ("A", "You're welcome. Is there anything else I can help with today?"),
            ("C", "No, that's everything. Thanks again."),
            ("A", "Have a lovely day."),
        ),
    ),
    Dialogue(
        key="price_rise_supervisor",
        day=3,
        hour=14,
        queue="billing",
        agent_id="A05",
        customer_id="CU1012",
        direction="inbound",
        tags=("long-wait", "hold", "transfer"),
        transferred=True,
        resolved=False,
        wait=(360, 395),
        survey=True,
        comment="Waited forty minutes and then got passed to a supervisor. Not impressed.",
        lines=(
            ("A", "Brightline accounts and billing, this is {agent}. How can I help?"),
            (
                "C",
                "Finally. I've been waiting on hold for forty minutes. "
                "I got cut off the first time.",
            ),
            ("A", "I'm very sorry about the wait. We are very busy today. What can I do for you?"),
            (
                "C",
                "My bill went up by twenty dollars this month and nobody told me. "
                "I want it put back.",
            ),
            ("A", "Let me look at your account. Can you hold for a moment please?"),
            ("HOLD", 6.0),
            (
                "A",
                "Thank you for holding. Your promotional discount ended last month, "
                "which is why the bill went up.",
            ),
            (
                "C",
                "Nobody told me it was ending. "
                "I want to speak to someone who can actually do something.",
            ),
            ("A", "I understand. I'll get my supervisor, she can look at the discount for you."),
            ("C", "Fine, but please don't make me wait another forty minutes."),
            ("A", "It won't be long. I'm transferring you to my supervisor now."),
        ),
    ),
    Dialogue(
        key="late_fee_rude",
        day=0,
        hour=11,
        queue="billing",
        agent_id="A04",
        customer_id="CU1015",
        direction="inbound",
        tags=("agent-rude", "unresolved"),
        resolved=False,
        talk=(150, 260),
        survey=True,
        comment="The agent was rude. He told me it's not his problem "
        "and that he didn't have time for this.",
        lines=(
            ("A", "Billing, {agent} speaking."),
            (
                "C",
                "Hello. I was charged a late payment fee, but I paid my bill on time. "
                "I have the receipt.",
            ),
            ("A", "The system says it was late, so the fee stands."),
            (
                "C",
                "But the payment left my bank on the twenty eighth of October. "
                "Can you check it, please?",
            ),
            ("A", "That's not my problem. Your bank must have sent it late."),
            (
                "C",
                "There's no need to be rude. Can you at least look at the date it arrived?",
            ),
            ("A>", "Look, I don't have time for this. There is a queue of people waiting."),
            ("C", "So you're not going to do anything about the fee?"),
            ("A", "You can send us the receipt by email. Is there anything else?"),
            ("C", "No. I'll call back and speak to someone else."),
        ),
    ),
    Dialogue(
        key="late_fee_second_call",
        day=1,
        hour=16,
        queue="billing",
        agent_id="A05",
        customer_id="CU1015",
        direction="inbound",
        tags=("re-explain",),
        lines=(
            (
                "A",
                "Thank you for calling Brightline accounts and billing, this is {agent}. "
                "How can I help you?",
            ),
            (
                "C",
                "Hi. I already explained this to the last person, but he wasn't interested. "
                "I was charged a late payment fee for a bill I paid on time.",
            ),
            ("A", "I'm sorry to hear that. Can you give me the date you made the payment?"),
            ("C", "The twenty eighth of October. I have the bank receipt."),
            (
                "A",
                "Thank you. I can see the payment reached us two days later, because of bank "
                "processing. That's not your fault.",
            ),
            ("C", "So will you remove the fee?"),
            ("A", "Yes. I've removed the late payment fee, and you'll see it on your next bill."),
            ("C", "Thank you, that's a relief. Much better than yesterday."),
            ("A", "Is there anything else I can help with?"),
            ("C", "No, that's all. Thanks, {agent}."),
        ),
    ),
    Dialogue(
        key="upgrade_praise",
        day=4,
        hour=11,
        queue="sales",
        agent_id="A02",
        customer_id="CU1021",
        direction="inbound",
        tags=("agent-praise", "callback-promised"),
        survey=True,
        comment="James was fantastic, really helpful and quick.",
        lines=(
            ("A", "Good morning, Brightline sales, this is {agent}. How can I help?"),
            (
                "C",
                "Hi {agent}. I'm working from home more now, "
                "and I'd like a faster internet package.",
            ),
            (
                "A",
                "Of course. You are on the fifty megabit plan at the moment. We can upgrade "
                "you to five hundred megabits for ten dollars more a month.",
            ),
            ("C", "That sounds good. Is there a contract?"),
            (
                "A",
                "It's a twelve month contract, and there is no installation fee, "
                "because your line already supports it.",
            ),
            ("C", "Perfect. Let's do it."),
            (
                "A",
                "Great. The upgrade will be active on Monday. You'll get an email within "
                "twenty four hours with your new contract.",
            ),
            ("C", "You've been really helpful, thank you so much."),
            ("A", "My pleasure. Is there anything else I can help you with?"),
            ("C", "No, that's all. Have a good weekend."),
        ),
    ),
    Dialogue(
        key="tv_refund_hold",
        day=5,
        hour=10,
        queue="billing",
        agent_id="A01",
        customer_id="CU1024",
        direction="inbound",
        tags=("hold", "agent-praise"),
        survey=True,
        comment="Refund sorted in one call, very helpful.",
        lines=(
            ("A", "Brightline accounts and billing, this is {agent}. How can I help you?"),
            (
                "C",
                "Hello. I cancelled my TV package last month, but I've been charged for it again.",
            ),
            (
                "A",
                "I'm sorry about that. Let me check your account. "
                "Can you hold on for a moment please?",
            ),
            ("HOLD", 7.0),
            (
                "A",
                "Thank you for holding. You're right, the cancellation was recorded, "
                "but the charge wasn't stopped.",
            ),
            ("C", "So will I get the money back?"),
            (
                "A",
                "Yes. I've refunded twenty nine dollars to your card. "
                "It will arrive in three to five working days.",
            ),
            ("C", "Oh, that's brilliant. You've been really helpful, thank you so much."),
            ("A", "You're welcome. Is there anything else I can do for you today?"),
            ("C", "No, that's everything. Thanks, {agent}."),
        ),
    ),
    Dialogue(
        key="slow_internet_to_sales",
        day=2,
        hour=13,
        queue="technical",
        agent_id="A03",
        customer_id="CU1026",
        direction="inbound",
        tags=("transfer",),
        transferred=True,
        talk=(150, 300),
        lines=(
            ("A", "Brightline technical support, this is {agent}. How can I help?"),
            (
                "C",
                "Hi. My internet works fine, but it is too slow for the whole family. "
                "Can you make it faster?",
            ),
            (
                "A",
                "I've checked your line, and it is running at the full speed of your current plan.",
            ),
            ("C", "We have four people streaming and gaming at the same time in the evenings."),
            ("A", "Then a faster plan would really help."),
            ("C", "So the only way to get faster internet is a new plan?"),
            (
                "A",
                "That's right. Upgrades are handled by our sales team. I'm putting you "
                "through to our sales team now. They can go through the options with you.",
            ),
            ("C", "Okay. Will it take long?"),
            ("A", "There is no queue at the moment. Please stay on the line while I transfer you."),
            ("C", "Great, thanks {agent}."),
        ),
    ),
    Dialogue(
        key="moving_house_long_wait",
        day=8,
        hour=16,
        queue="sales",
        agent_id="A03",
        customer_id="CU1030",
        direction="inbound",
        tags=("long-wait", "agent-praise", "callback-promised"),
        wait=(320, 380),
        survey=True,
        comment="Long wait to get through, but Priya was brilliant once I did.",
        lines=(
            ("A", "Brightline sales, {agent} speaking. How can I help?"),
            ("C", "Hi. I've been waiting on hold for twenty minutes. I nearly gave up."),
            (
                "A",
                "I'm really sorry about the wait. We've had a very busy afternoon. "
                "What can I do for you?",
            ),
            ("C", "I'm moving house next month, and I want to keep my internet and phone."),
            ("A", "No problem. What is the new address, and the moving date?"),
            ("C", "Twelve Oak Street, and we move on the fourth of December."),
            (
                "A",
                "Thank you. Your new address already has fiber, so we can move your service "
                "on the fourth, with no fee.",
            ),
            ("C", "Oh, that's easier than I expected."),
            ("A", "We will send you an email within twenty four hours, confirming the move."),
            ("C", "You've been really helpful, thank you so much. The wait was worth it."),
        ),
    ),
    Dialogue(
        key="cancel_to_retention",
        day=9,
        hour=10,
        queue="billing",
        agent_id="A01",
        customer_id="CU1033",
        direction="inbound",
        tags=("transfer",),
        transferred=True,
        talk=(150, 300),
        lines=(
            ("A", "Thank you for calling Brightline accounts and billing, this is {agent}."),
            (
                "C",
                "Hi {agent}. I'd like to cancel my contract. "
                "I've found a cheaper deal with another provider.",
            ),
            ("A", "I'm sorry to hear you want to leave. Can I ask what price you've been offered?"),
            ("C", "Thirty dollars a month for the same speed. You're charging me fifty five."),
            (
                "A",
                "I understand. Cancellations and loyalty offers are handled by a specialist team.",
            ),
            ("C", "So you can't do it?"),
            (
                "A",
                "I'm not able to cancel it myself, but let me transfer you to our "
                "cancellations team. They may be able to match that price.",
            ),
            ("C", "Alright, put me through."),
            ("A", "Transferring you now. Thank you for your patience."),
        ),
    ),
    Dialogue(
        key="email_outage_rushed",
        day=8,
        hour=11,
        queue="technical",
        agent_id="A04",
        customer_id="CU1035",
        direction="inbound",
        tags=("rushed", "unresolved", "callback-promised"),
        resolved=False,
        talk=(120, 200),
        survey=True,
        comment="Still not fixed. The agent couldn't wait to get rid of me.",
        lines=(
            ("A", "Technical support, {agent}."),
            (
                "C",
                "Hi. My email account stopped working two days ago. I can't send anything, "
                "and I need it for work.",
            ),
            ("A", "Have you checked your password?"),
            ("C", "Yes, I reset it yesterday, and it still doesn't work."),
            (
                "A",
                "There is a known issue with the mail servers. It's being looked at. "
                "You'll get an email within twenty four hours when it's sorted.",
            ),
            ("C", "How can I get an email if my email doesn't work?"),
            ("A", "It will go to your other address. Is there anything else? No? Okay, bye."),
            (
                "C>",
                "Wait a second, don't rush me. So it's still not fixed, and you don't know when?",
            ),
            ("A", "The engineers are on it. Goodbye."),
        ),
    ),
    Dialogue(
        key="renewal_offer_outbound",
        day=6,
        hour=11,
        queue="sales",
        agent_id="A05",
        customer_id="CU1038",
        direction="outbound",
        tags=("hold", "callback-promised"),
        talk=(200, 360),
        lines=(
            ("A", "Hello, this is {agent} from Brightline. Am I speaking with Julie Turner?"),
            ("C", "Yes, speaking."),
            (
                "A",
                "I'm calling because your contract ends this month, and we have a loyalty "
                "offer for you. Is now a good time?",
            ),
            ("C", "Sure, I have a few minutes."),
            (
                "A",
                "We can keep your current speed and reduce your bill by eight dollars a month, "
                "if you renew for another year.",
            ),
            ("C", "That sounds okay. Does the price include the phone line?"),
            ("A", "Let me check that for you. Can you hold for a moment please?"),
            ("HOLD", 5.0),
            ("A", "Thanks for waiting. Yes, the phone line and evening calls are included."),
            ("C", "Okay then, let's renew."),
            ("A", "Done. You'll get an email within twenty four hours with the new terms."),
            ("C", "Thanks. Bye."),
        ),
    ),
)
