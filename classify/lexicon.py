"""Word lists for transfer announcements and callback promises (data, used by
``classify.transfer`` and ``classify.promises``).

Kept apart from the taxonomy: transfer reasons are a fixed vocabulary of DESIGN.md
(``billing``, ``technical``, ``cancellation``, ``supervisor``, ``sales``, ``other``), not
user-editable tags. Words are matched on lower-cased lemmas; two-word entries on two
consecutive lower-cased tokens.
"""

from __future__ import annotations

REASONS = ("billing", "technical", "cancellation", "supervisor", "sales", "other")
"""Transfer reasons, in the order DESIGN.md lists them."""

# Destination words: naming one of these in the announcement names the reason. Generic
# ones ("the right department") are left out, so that the context decides.
DESTINATIONS: dict[str, str] = {
    **dict.fromkeys(
        ["billing", "bill", "payment", "invoice", "invoicing", "finance", "financial",
         "collection", "collections", "refund", "refunds", "accounts receivable"],
        "billing",
    ),
    **dict.fromkeys(
        ["technical", "tech", "technician", "engineer", "engineering", "troubleshooting",
         "repair", "repairs", "network team", "it department", "it team", "helpdesk",
         "help desk", "service desk", "device support", "internet support"],
        "technical",
    ),
    **dict.fromkeys(
        ["cancellation", "cancellations", "cancel", "retention", "retentions", "loyalty",
         "disconnect", "disconnects", "disconnection", "closure", "closures", "termination"],
        "cancellation",
    ),
    **dict.fromkeys(
        ["supervisor", "manager", "team lead", "team leader", "senior", "escalation",
         "escalations", "boss", "superior"],
        "supervisor",
    ),
    **dict.fromkeys(
        ["sales", "sale", "upgrade", "upgrades", "purchase", "purchasing", "new accounts",
         "new business", "account executive", "order desk", "promotions"],
        "sales",
    ),
    **dict.fromkeys(
        ["fraud", "claims", "claim", "insurance", "mortgage", "mortgages", "loan", "loans",
         "shipping", "delivery", "returns", "warranty", "legal", "compliance", "dispatch"],
        "other",
    ),
}  # fmt: skip

# Who can take a call over: "our cancellations *team* can help", "a *specialist* will ...".
DEST_NOUNS = frozenset(
    {
        "team", "department", "dept", "desk", "specialist", "colleague", "unit", "group",
        "division", "supervisor", "manager", "lead", "leader", "expert", "technician",
        "engineer", "advisor", "adviser", "representative", "rep", "agent", "line", "queue",
        "someone", "somebody", "people", "person", "sales", "billing", "retention",
        "cancellation", "support", "boss",
    }
)  # fmt: skip

# Context words (the customer's earlier turns, the agent's whole turn): weaker evidence,
# used only when the announcement names no destination.
CONTEXT: dict[str, str] = {
    **dict.fromkeys(
        ["bill", "billing", "charge", "charged", "overcharge", "overcharged", "invoice",
         "payment", "pay", "refund", "fee", "fees", "balance", "statement", "debit",
         "overdraft", "billed"],
        "billing",
    ),
    **dict.fromkeys(
        ["internet", "wifi", "wi-fi", "router", "modem", "connection", "signal", "outage",
         "error", "broken", "reset", "password", "login", "log", "app", "website", "device",
         "install", "installation", "technician", "crash", "freeze", "reboot", "slow",
         "working", "network", "bug", "glitch"],
        "technical",
    ),
    **dict.fromkeys(
        ["cancel", "cancellation", "cancelling", "canceling", "terminate", "close", "closing",
         "leave", "leaving", "switch", "switching", "quit", "disconnect", "contract"],
        "cancellation",
    ),
    **dict.fromkeys(
        ["manager", "supervisor", "complaint", "complain", "escalate", "unacceptable",
         "ridiculous", "someone else", "in charge"],
        "supervisor",
    ),
    **dict.fromkeys(
        ["upgrade", "buy", "purchase", "order", "package", "deal", "offer", "promotion",
         "add", "bundle", "plan", "new line"],
        "sales",
    ),
}  # fmt: skip

# Sentences that stand for each reason (for an optional embedding model, by cosine).
PROTOTYPES: dict[str, tuple[str, ...]] = {
    "billing": (
        "I was charged twice on my bill.",
        "There is a wrong charge on my invoice and I want a refund.",
        "My payment did not go through and now there is a late fee.",
        "Why is my bill so much higher this month?",
    ),
    "technical": (
        "My internet keeps dropping and the router lights are red.",
        "The app crashes every time I try to log in.",
        "My phone has no signal since yesterday.",
        "I get an error message when I try to reset my password.",
    ),
    "cancellation": (
        "I want to cancel my account.",
        "Please close my account, I am switching to another provider.",
        "How do I end my contract early?",
        "I would like to cancel my subscription today.",
    ),
    "supervisor": (
        "I want to speak to your manager.",
        "Get me a supervisor, this is unacceptable.",
        "I would like to make a formal complaint about the last agent.",
        "Let me talk to someone in charge.",
    ),
    "sales": (
        "I would like to upgrade to a faster plan.",
        "Can I add another line to my account?",
        "What deals do you have for new customers?",
        "I want to buy the new phone on contract.",
    ),
}

FUTURE_AUX = frozenset({"will", "shall", "'ll", "wo", "can", "should", "would", "gonna"})
"""Auxiliaries that make an action announced or promised rather than reported."""

PAST_AUX = frozenset({"was", "were", "did", "had"})
"""Auxiliaries that make it a report of something already done."""
