"""The demo workspace's flows: eight support and marketing flows of "Lumen Home", a home-goods
retailer, each with two to four published versions that differ in structure.

The catalogue is data, not behaviour: step definitions in the upstream ``FlowStepEdit`` shape, the
users who published them, and plans for the outbound executions. It exercises every documented
step type plus two the app does not know (``AI_AGENT``, ``SENTIMENT_ANALYSIS``), menus as buttons
and as lists, questions with validation loops, custom and default waits, "No reply" branches and
waits that expire the run, conditional paths, HTTP actions with and without an error branch, and
one large flow ("Customer service triage": 43–60 steps, a 10-option list) so the viewer can be
tried at size. All times are relative to the anchor so the workspace always looks recent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flowdesk.core.demo.builder import IdAllocator, StepSim, VersionBuilder, VersionSpec
from flowdesk.core.demo.common import DAY, HISTORY_DAYS, HOUR, MINUTE, stable_uuid

__all__ = [
    "AGENTS",
    "USERS",
    "Catalogue",
    "ExecutionPlan",
    "FlowSpec",
    "RecurringPlan",
    "StepSim",
    "VersionSpec",
    "build_catalogue",
]


def _user(uid: int, first: str, last: str, email: str) -> dict[str, Any]:
    return {"id": uid, "first_name": first, "last_name": last, "email": email}


ANA = _user(101, "Ana", "Torres", "ana.torres@lumenhome.example")
RAHUL = _user(102, "Rahul", "Mehta", "rahul.mehta@lumenhome.example")
SOPHIE = _user(103, "Sophie", "Laurent", "sophie.laurent@lumenhome.example")
KENJI = _user(104, "Kenji", "Watanabe", "kenji.watanabe@lumenhome.example")
FATIMA = _user(105, "Fatima", "Al-Sayed", "fatima.alsayed@lumenhome.example")
LUCAS = _user(106, "Lucas", "Oliveira", "lucas.oliveira@lumenhome.example")
MAREN = _user(107, "Maren", "Østergaard", "maren.ostergaard@lumenhome.example")

USERS: tuple[dict[str, Any], ...] = (ANA, RAHUL, SOPHIE, KENJI, FATIMA, LUCAS, MAREN)
# Support agents who cancel runs by hand from the inbox.
AGENTS: tuple[dict[str, Any], ...] = (ANA, RAHUL, FATIMA, LUCAS)

API_BASE = "https://api.lumenhome.example/v1"


@dataclass(slots=True)
class ExecutionPlan:
    """One outbound execution: who started it, when, how contacts were picked, how many."""

    key: str
    number: int
    start_on: int
    created_on: int
    share: float  # expected runs, as a fraction of the source's ``contacts``
    method: str  # "api" | "csv" | "filter"
    created_by: dict[str, Any] | None  # None: started by the system (a scheduled API call)
    filters: list[dict[str, str]] = field(default_factory=list)
    import_name: str | None = None
    dispatch: int = 20 * MINUTE  # time to hand every contact its first step


@dataclass(slots=True)
class RecurringPlan:
    """A daily/weekly execution; occurrence ``n`` starts at ``first_start + n * every``."""

    key: str
    first_start: int
    every: int
    share_in_history: float  # fraction of contacts over all occurrences before the anchor
    method: str
    creators: tuple[dict[str, Any] | None, ...]
    filters: list[dict[str, str]] = field(default_factory=list)
    import_pattern: str | None = None  # strftime-free: "{date}" is replaced by YYYY-MM-DD
    lead: int = 5  # seconds between creating and starting the execution
    dispatch: int = 15 * MINUTE


@dataclass(slots=True)
class FlowSpec:
    index: int
    key: str
    id: str
    name: str
    trigger_type: str
    trigger_config: dict[str, Any]
    created_on: int
    created_by: dict[str, Any]
    versions: list[VersionSpec]
    inbound_share: float = 0.0  # expected runs over the history window, fraction of contacts
    busy_spikes: tuple[tuple[int, float], ...] = ()  # (day offset from anchor, rate factor)
    one_offs: list[ExecutionPlan] = field(default_factory=list)
    recurring: RecurringPlan | None = None
    p_manual_cancel: float = 0.01  # per waiting step
    p_inbox_cancel: float = 0.0  # outbound: contact had an open Inbox conversation
    p_test: float = 0.002
    reply_speed: float = 1.0  # > 1 replies faster (people who just wrote to us reply fast)

    @property
    def is_outbound(self) -> bool:
        return self.trigger_type.startswith("OUTBOUND")


@dataclass(slots=True)
class Catalogue:
    anchor: int
    flows: list[FlowSpec]
    users: tuple[dict[str, Any], ...] = USERS


# ----------------------------------------------------------------------------------------------
# Flow definitions. Each function builds one version; flags switch the structural differences.
# ----------------------------------------------------------------------------------------------

_Build = Callable[[VersionBuilder], None]


def _order_status(v: int) -> _Build:
    def build(b: VersionBuilder) -> None:
        ask_first = "menu" if v >= 2 else "ask_order"
        b.message(
            "greet",
            "Greeting" if v >= 3 else "Greet",
            "Hi {{contact.first_name}}! I'm the Lumen Home order assistant.",
            ask_first,
        )
        if v >= 2:
            b.menu(
                "menu",
                "What do you need?",
                "How can I help with your order?",
                ["Track my order", "Change address", "Talk to an agent"],
                ["ask_order", "ask_address", "handoff"],
                weights=(70, 12, 18),
                no_reply="tag_noreply" if v >= 3 else None,
                wait=(2, "HOUR") if v >= 3 else None,
            )
        b.question(
            "ask_order",
            "Ask order number",
            "What's your order number? It has 6 digits.",
            "NUMBER",
            "lookup",
            failed="gate" if v >= 2 else "sorry",
            validation_message="Order numbers have 6 digits.",
            p_valid=0.78,
            max_attempts=0 if v >= 2 else 3,
            answer_range=("100000", "999999"),
        )
        if v >= 2:
            b.conditional(
                "gate",
                "Too many attempts?",
                [([("flow.answer_attempts", "gte", "3")], "handoff")],
                "sorry",
                attempt_gate=3,
            )
        b.message(
            "sorry",
            "Invalid order number",
            "Sorry, that doesn't look like an order number. Try something like 482913.",
            "ask_order",
        )
        b.action(
            "lookup",
            "Look up order",
            "GET",
            API_BASE + "/orders/{{answer}}",
            "ai" if v >= 3 else "status",
            "api_error" if v >= 2 else None,
            p_fail=0.1 if v == 1 else 0.05,
        )
        if v >= 3:
            b.custom(
                "ai",
                "AI_AGENT",
                "AI order assistant",
                "status",
                agent_name="Order helper",
                model="support-small",
                busy=8,
            )
        b.conditional(
            "status",
            "Order status?",
            [
                ([("order.status", "exact", "shipped")], "shipped"),
                ([("order.status", "exact", "delayed")], "delayed"),
            ],
            "processing",
            weights=(55, 15, 30),
        )
        b.message(
            "shipped",
            "Shipped",
            "Good news! It's on its way: {{order.tracking_url}}",
            "wait_delivery" if v >= 2 else "end",
        )
        if v >= 2:
            b.delay("wait_delivery", "Wait for delivery", 3, "DAY", "delivery_check")
            b.template(
                "delivery_check",
                "Delivery check",
                "order_delivery_check",
                "Did your order arrive?",
                buttons=["All good", "Not received"],
                to=["end", "handoff"],
                no_reply="end",
                weights=(88, 12),
                p_reply=0.7,
            )
        b.message(
            "delayed", "Delayed", "Your order is delayed, sorry. A colleague will help.", "handoff"
        )
        b.message("processing", "Processing", "We're preparing your order; it ships soon.", "end")
        if v >= 2:
            b.message(
                "api_error",
                "Lookup failed",
                "I couldn't reach our order system. Let me get a person.",
                "handoff",
            )
            b.question(
                "ask_address",
                "Ask new address",
                "What's the new delivery address?",
                "FREE_TEXT",
                "save_address",
                wait=(2, "HOUR"),
                no_reply="end",
            )
            b.update("save_address", "Save address", "address_ok", delivery_address="{{answer}}")
            b.message("address_ok", "Address updated", "Done! We updated your address.", "end")
        if v >= 3:
            b.tag("tag_noreply", "Tag: no reply", ["order_bot_no_reply"], "end")
        b.team("handoff", "Hand over to agent", "Order support")
        b.end("end", "End")

    return build


def _triage(v: int) -> _Build:
    hours, csat, gate, product, complaint, ai = (
        v >= 2,
        v >= 2,
        v >= 2,
        v >= 3,
        v >= 3,
        v >= 3,
    )

    def build(b: VersionBuilder) -> None:
        nxt = "csat" if csat else "end"
        b.message(
            "welcome",
            "Welcome",
            "Hi {{contact.first_name}} 👋 Welcome to Lumen Home support.",
            "hours" if hours else "main",
        )
        if hours:
            b.conditional(
                "hours",
                "Within business hours?",
                [
                    (
                        [
                            ("conversation.local_time", "gte", "08:00"),
                            ("conversation.local_time", "lte", "20:00"),
                        ],
                        "main",
                    )
                ],
                "closed",
                weights=(80, 20),
            )
            b.message(
                "closed", "We're closed", "We're closed right now (8:00–20:00).", "closed_menu"
            )
            b.menu(
                "closed_menu",
                "Leave a message?",
                "Want to leave us a message?",
                ["Leave a message", "I'll come back"],
                ["closed_q", "bye"],
                weights=(65, 35),
                p_reply=0.85,
            )
            b.question(
                "closed_q",
                "Ask message",
                "Tell us what you need and we'll reply.",
                "FREE_TEXT",
                "closed_tag",
                wait=(12, "HOUR"),
            )
            b.tag("closed_tag", "Tag: after hours", ["after_hours"], "closed_team")
            b.team("closed_team", "Queue for morning shift", "Support agents")
            b.message("bye", "See you later", "No problem, talk soon!", "end")
        options = [
            "Order status",
            "Returns & refunds",
            "Billing question",
            "Technical support",
            "Shipping info",
            "My account",
        ]
        targets = ["o_ask", "r_menu", "b_email", "t_menu", "s_info", "a_menu"]
        weights = [22, 14, 10, 12, 8, 10]
        if product:
            options.append("Product advice")
            targets.append("p_ask")
            weights.append(7)
        options.append("Store locations")
        targets.append("l_ask")
        weights.append(6)
        if complaint:
            options.append("Make a complaint")
            targets.append("c_ask")
            weights.append(5)
        options.append("Talk to a person")
        targets.append("human")
        weights.append(12)
        b.menu(
            "main",
            "How can we help?" if v >= 2 else "Main menu",
            "Choose a topic from the list.",
            options,
            targets,
            as_list=True,
            list_title="Topics",
            no_reply="nr_tag",
            weights=weights,
            p_reply=0.95,
        )
        b.tag("nr_tag", "Tag: no reply", ["triage_no_reply"], "end_nr")
        b.end("end_nr", "End (no reply)")

        # Order status
        b.question(
            "o_ask",
            "Ask order number",
            "What's your 6-digit order number?",
            "NUMBER",
            "o_lookup",
            failed="o_gate" if gate else "o_sorry",
            p_valid=0.75,
            max_attempts=0 if gate else 3,
            answer_range=("100000", "999999"),
        )
        if gate:
            b.conditional(
                "o_gate",
                "Third failed attempt?",
                [([("flow.answer_attempts", "gte", "3")], "human")],
                "o_sorry",
                attempt_gate=3,
            )
        b.message(
            "o_sorry",
            "Invalid order number",
            "Sorry, that doesn't look like an order number.",
            "o_ask",
        )
        b.action(
            "o_lookup",
            "Look up order",
            "GET",
            API_BASE + "/orders/{{answer}}",
            "o_cond",
            "o_err",
            p_fail=0.05,
        )
        b.conditional(
            "o_cond",
            "Order state?",
            [
                ([("order.status", "exact", "shipped")], "o_shipped"),
                ([("order.status", "exact", "delayed")], "o_delayed"),
            ],
            "o_processing",
            weights=(55, 15, 30),
        )
        b.message("o_shipped", "Shipped", "It's on its way: {{order.tracking_url}}", nxt)
        b.message(
            "o_delayed", "Delayed", "Your order is delayed. Connecting you to a person.", "human"
        )
        b.message("o_processing", "Being prepared", "We're packing it now.", nxt)
        b.message("o_err", "Lookup failed", "I couldn't look that up right now.", "human")

        # Returns
        b.menu(
            "r_menu",
            "Returns menu",
            "What would you like to do?",
            ["Start a return", "Refund status", "Return policy"],
            ["r_ask", "r_refund", "r_policy"],
            weights=(45, 35, 20),
        )
        b.question(
            "r_ask",
            "Order to return",
            "Which order number do you want to return?",
            "NUMBER",
            "r_create",
            p_valid=0.9,
            max_attempts=3,
        )
        b.action(
            "r_create",
            "Create return",
            "POST",
            API_BASE + "/returns",
            "r_label",
            body='{"order": "{{answer}}", "phone": "{{contact.phone}}"}',
            p_fail=0.08,
        )
        b.message("r_label", "Send return label", "Here's your return label: {{return.label}}", nxt)
        b.action(
            "r_refund",
            "Refund lookup",
            "GET",
            API_BASE + "/refunds?phone={{contact.phone}}",
            "r_refund_msg",
            "human",
            p_fail=0.05,
        )
        b.message("r_refund_msg", "Refund status", "Your refund is {{refund.status}}.", nxt)
        b.message("r_policy", "Return policy", "You can return items within 30 days.", "end")

        # Billing
        b.question(
            "b_email",
            "Ask billing email",
            "What email is on the invoice?",
            "EMAIL",
            "b_update",
            failed="b_sorry",
            p_valid=0.85,
            max_attempts=3,
        )
        b.message(
            "b_sorry", "Invalid email", "Sorry, that doesn't look like an email address.", "b_email"
        )
        b.update("b_update", "Save billing email", "b_team", email="{{answer}}")
        b.team("b_team", "Billing team", "Billing")

        # Technical support
        b.menu(
            "t_menu",
            "Tech topic",
            "What's the problem about?",
            ["App issue", "Device issue", "Something else"],
            ["t_app", "t_device", "human"],
            weights=(50, 35, 15),
        )
        if ai:
            b.custom(
                "t_app",
                "AI_AGENT",
                "AI troubleshooting assistant",
                "t_check",
                agent_name="Troubleshooter",
                model="support-large",
                busy=40,
            )
        else:
            b.message("t_app", "App tips", "Try updating the app and signing in again.", "t_check")
        b.question(
            "t_device",
            "Ask device photo",
            "Send a photo of the label on the device.",
            "IMAGE",
            "t_team",
            no_reply="t_team",
            wait=(2, "HOUR"),
            p_valid=0.93,
        )
        b.menu(
            "t_check",
            "Did that help?",
            "Did that fix it?",
            ["Solved, thanks", "Still broken"],
            [nxt, "t_team"],
            no_reply="end",
            wait=(1, "HOUR"),
            weights=(55, 45),
        )
        b.team("t_team", "Tech support", "Tech support")

        # Shipping
        b.message("s_info", "Shipping info", "We ship in 2–4 business days.", "s_more")
        b.menu(
            "s_more",
            "Anything else?",
            "Anything else?",
            ["Track an order", "That's all"],
            ["to_orders" if ai else "o_ask", "end"],
            weights=(30, 70),
            p_reply=0.8,
        )
        if ai:
            b.add(
                "to_orders",
                "GO_TO_FLOW",
                "Go to Order status assistant",
                next_flow=stable_uuid("flow", "order-status"),
                next_flow_name="Order status assistant",
            )

        # Account
        b.menu(
            "a_menu",
            "Account menu",
            "What do you need?",
            ["Reset password", "Update details", "Delete account"],
            ["a_reset", "a_email", "a_privacy"],
            weights=(50, 40, 10),
        )
        b.action(
            "a_reset",
            "Send reset link",
            "POST",
            API_BASE + "/password-resets",
            "a_reset_ok",
            "human" if v >= 2 else None,
            p_fail=0.07,
        )
        b.message("a_reset_ok", "Reset link sent", "Check your inbox for the reset link.", "end")
        b.question(
            "a_email",
            "Ask new email",
            "What's your new email?",
            "EMAIL",
            "a_update",
            p_valid=0.9,
            max_attempts=2,
        )
        b.update("a_update", "Update email", "a_done", email="{{answer}}")
        b.message("a_done", "Details updated", "All set, your details are updated.", nxt)
        b.team("a_privacy", "Privacy team", "Privacy")

        # Product advice
        if product:
            b.question(
                "p_ask",
                "Ask what they need",
                "What are you looking for?",
                "FREE_TEXT",
                "p_ai",
                wait=(6, "HOUR"),
            )
            b.custom(
                "p_ai",
                "AI_AGENT",
                "AI product advisor",
                nxt,
                agent_name="Product advisor",
                model="support-large",
                busy=25,
            )

        # Store locations
        b.question(
            "l_ask",
            "Ask location",
            "Share your location to find the nearest store.",
            "LOCATION",
            "l_find",
            no_reply="l_list",
            wait=(30, "MINUTE"),
            p_reply=0.7,
        )
        b.action(
            "l_find",
            "Find stores nearby",
            "GET",
            API_BASE + "/stores?lat={{answer.lat}}&lng={{answer.lng}}",
            "l_result",
            "l_list",
            p_fail=0.03,
        )
        b.message("l_result", "Nearest store", "Your nearest store is {{stores.0.name}}.", "end")
        b.message("l_list", "All stores", "Here's our store list: lumenhome.example/stores", "end")

        # Complaint
        if complaint:
            b.question(
                "c_ask",
                "Ask complaint",
                "We're sorry. What happened?",
                "FREE_TEXT",
                "c_tag",
                wait=(1, "DAY"),
            )
            b.tag("c_tag", "Tag: complaint", ["complaint"], "c_team")
            b.team("c_team", "Customer care", "Customer care")

        b.team("human", "Support agents", "Support agents")
        if csat:
            b.menu(
                "csat",
                "Rate us",
                "How did we do?",
                ["😀 Great", "😐 Okay", "🙁 Bad"],
                ["end", "end", "csat_bad"],
                no_reply="end",
                wait=(2, "HOUR"),
                weights=(60, 28, 12),
                p_reply=0.7,
            )
            b.question(
                "csat_bad",
                "Ask what went wrong",
                "Sorry! What went wrong?",
                "FREE_TEXT",
                "csat_tag",
                wait=(1, "DAY"),
                p_reply=0.75,
            )
            b.tag("csat_tag", "Tag: unhappy", ["csat_negative"], "human")
        b.end("end", "End")

    return build


def _password_reset(v: int) -> _Build:
    def build(b: VersionBuilder) -> None:
        b.message("intro", "Intro", "Let's get you back into your account.", "ask_email")
        b.question(
            "ask_email",
            "Ask account email",
            "What's the email on your account?",
            "EMAIL",
            "verified" if v >= 3 else "reset",
            failed="sorry",
            p_valid=0.8,
            max_attempts=3,
            wait=(1, "HOUR") if v >= 2 else None,
            validation_message="Please type a valid email, like name@example.com.",
        )
        b.message(
            "sorry",
            "Sorry, invalid email",
            "Sorry, that doesn't look like an email address.",
            "ask_email",
        )
        if v >= 3:
            b.conditional(
                "verified",
                "Email verified?",
                [([("contact.email_verified", "exact", "true")], "reset")],
                "verify_first",
                weights=(85, 15),
            )
            b.message(
                "verify_first",
                "Verify first",
                "Please verify your email first: we just sent you a link.",
                "end",
            )
        b.action(
            "reset",
            "Send reset email",
            "POST",
            "https://auth.lumenhome.example/v2/resets",
            "tag" if v >= 2 else "sent",
            "agent" if v >= 2 else "busy",
            body='{"email": "{{answer}}"}',
            p_fail=0.08,
        )
        if v >= 2:
            b.tag("tag", "Tag: password reset", ["password_reset"], "sent")
        b.message(
            "sent", "Reset email sent", "Done! Check your inbox (and spam folder).", "confirm"
        )
        b.menu(
            "confirm",
            "Did it arrive?",
            "Did you get the email?",
            ["Got it, thanks", "Didn't get it"],
            ["end", "agent"],
            no_reply="end",
            wait=(30, "MINUTE"),
            weights=(80, 20),
            p_reply=0.7,
        )
        if v == 1:
            b.message("busy", "System busy", "Our system is busy, please try again later.", "end")
        b.team("agent", "Account support", "Account support")
        b.end("end", "End")

    return build


def _lead_qualification(v: int) -> _Build:
    def build(b: VersionBuilder) -> None:
        b.message(
            "hello", "Hello", "Thanks for your interest in Lumen Home for Business!", "company"
        )
        b.question(
            "company",
            "Ask company",
            "What's your company called?",
            "FREE_TEXT",
            "size",
            wait=(3, "DAY") if v >= 2 else None,
            p_reply=0.92,
            save_as="company",
        )
        b.question(
            "size",
            "Ask company size",
            "How many employees do you have?",
            "NUMBER",
            "email" if v >= 2 else "segment",
            failed="size_retry",
            p_valid=0.85,
            max_attempts=2,
            answer_range=("1", "100000"),
            save_as="company_size",
        )
        b.message(
            "size_retry",
            "Invalid size",
            "Sorry, that doesn't look like a number. Please reply with digits only.",
            "size",
        )
        if v >= 2:
            b.question(
                "email",
                "Ask work email",
                "What's your work email?",
                "EMAIL",
                "save",
                failed="email_retry",
                p_valid=0.82,
                max_attempts=3,
            )
            b.message(
                "email_retry", "Invalid email", "Sorry, that doesn't look like an email.", "email"
            )
            b.update("save", "Save lead details", "crm", email="{{answer}}", lead_source="whatsapp")
            b.action(
                "crm",
                "Create CRM lead",
                "POST",
                "https://crm.lumenhome.example/api/leads",
                "segment",
                "crm_failed",
                p_fail=0.06,
                body='{"email": "{{contact.email}}", "size": "{{company_size}}"}',
            )
            b.tag("crm_failed", "Tag: CRM sync failed", ["crm_sync_failed"], "segment")
        b.conditional(
            "segment",
            "Which segment?",
            [
                ([("contact.company_size", "gte", "50")], "enterprise"),
                ([("contact.company_size", "gte", "10")], "smb_tag"),
            ],
            "micro",
            weights=(22, 48, 30),
        )
        b.team("enterprise", "Enterprise sales", "Sales – Enterprise")
        b.tag("smb_tag", "Tag: SMB lead", ["smb_lead"], "wait")
        b.delay(
            "wait",
            "Nurture pause" if v >= 2 else "Wait before follow-up",
            10 if v >= 2 else 3,
            "DAY",
            "follow_up",
        )
        b.template(
            "follow_up",
            "SMB follow-up",
            "smb_follow_up",
            "Hi {{contact.first_name}}, would a 15-minute demo help?",
            buttons=["Book a demo", "Not now"],
            to=["book", "end"],
            wait=(3, "DAY"),
            no_reply="end" if v >= 2 else None,
            weights=(40, 60),
            p_reply=0.65,
        )
        b.team("book", "Book demo", "Sales – SMB")
        b.tag("micro", "Tag: micro business", ["micro_lead"], "resources")
        b.message("resources", "Send resources", "Here's our small-business guide.", "end")
        b.end("end", "End")

    return build


def _black_friday(v: int) -> _Build:
    coupon = "coupon_api" if v >= 3 else "coupon"

    def build(b: VersionBuilder) -> None:
        b.template(
            "offer",
            "Black Friday offer",
            "bf_2026_early_access",
            "{{contact.first_name}}, Black Friday starts early for you: up to 40% off!",
            buttons=["Shop now", "Remind me later", "Stop promotions"],
            to=["categories" if v >= 2 else coupon, "remind_wait", "optout"],
            wait=(2, "DAY") if v >= 2 else (3, "DAY"),
            no_reply="no_reply" if v >= 2 else None,
            weights=(55, 25, 20),
            p_reply=0.72,
            p_fail=0.08,
        )
        if v >= 2:
            b.menu(
                "categories",
                "Pick a category",
                "What are you shopping for?",
                ["Kitchen", "Bedding", "Lighting", "Furniture", "Decor", "Outdoor"],
                [coupon, coupon, coupon, "furniture", coupon, coupon],
                as_list=True,
                list_title="Categories",
                weights=(30, 20, 12, 18, 12, 8),
                p_reply=0.85,
                wait=(6, "HOUR"),
                no_reply=coupon,
            )
            b.message(
                "furniture", "Furniture delivery note", "Furniture ships free this week.", coupon
            )
        if v >= 3:
            b.action(
                "coupon_api",
                "Generate coupon",
                "POST",
                API_BASE + "/coupons",
                "coupon",
                "coupon_fallback",
                p_fail=0.05,
            )
            b.message(
                "coupon_fallback", "Generic coupon", "Use code BF2026 at checkout.", "clicked"
            )
        b.message(
            "coupon", "Send coupon", "Your code: {{coupon.code}} – valid until Monday.", "clicked"
        )
        b.tag("clicked", "Tag: BF clicked", ["bf_2026_clicked"], "end")
        b.delay(
            "remind_wait",
            "Wait until Black Friday" if v >= 2 else "Wait one day",
            3 if v >= 2 else 1,
            "DAY",
            "reminder",
        )
        b.template(
            "reminder",
            "Reminder",
            "bf_2026_reminder",
            "Reminder: Black Friday deals end soon!",
            then="end",
            p_fail=0.03,
        )
        b.tag("optout", "Tag: opt-out", ["opt_out_promotions"], "optout_update")
        b.update("optout_update", "Unsubscribe from promos", "optout_msg", marketing_opt_in="false")
        b.message("optout_msg", "Confirm opt-out", "Done, no more promotions.", "end")
        if v >= 2:
            b.tag("no_reply", "Tag: no reply", ["bf_2026_no_reply"], "end")
        b.end("end", "End")

    return build


def _appointments(v: int) -> _Build:
    def build(b: VersionBuilder) -> None:
        b.template(
            "remind",
            "Appointment reminder",
            f"appointment_reminder_v{min(v, 2)}",
            "Hi {{contact.first_name}}, see you tomorrow at {{appointment.time}}?",
            buttons=["Confirm", "Reschedule", "Cancel appointment"],
            to=["confirmed", "ask_date" if v >= 2 else "scheduling", "cancel"],
            wait=(12, "HOUR"),
            no_reply="last_call_wait" if v >= 2 else None,
            weights=(72, 16, 12),
            p_reply=0.85,
            p_fail=0.04,
        )
        if v >= 3:
            b.delay("confirm_wait", "Wait until the day", 20, "HOUR", "day_of")
            b.template(
                "day_of",
                "Day-of check-in",
                "appointment_day_of",
                "Your appointment is today at {{appointment.time}}.",
                buttons=["On my way", "Running late"],
                to=["end", "late_tag"],
                wait=(2, "HOUR"),
                no_reply="end",
                weights=(80, 20),
                p_reply=0.6,
            )
            b.tag("late_tag", "Tag: running late", ["running_late"], "end")
        b.message(
            "confirmed", "Confirmed", "Great, see you then!", "confirm_wait" if v >= 3 else "end"
        )
        if v >= 2:
            b.question(
                "ask_date",
                "Ask new date",
                "Which date works for you? (DD/MM)",
                "DATE",
                "reschedule",
                failed="date_gate",
                p_valid=0.75,
                max_attempts=0,
                wait=(1, "DAY"),
            )
            b.conditional(
                "date_gate",
                "Given up on dates?",
                [([("flow.answer_attempts", "gte", "3")], "scheduling")],
                "date_sorry",
                attempt_gate=3,
            )
            b.message(
                "date_sorry",
                "Invalid date",
                "Sorry, that doesn't look like a date. Try 24/11.",
                "ask_date",
            )
            b.action(
                "reschedule",
                "Reschedule in calendar",
                "POST",
                "https://booking.lumenhome.example/api/appointments/{{appointment.id}}/move",
                "rescheduled",
                "scheduling",
                p_fail=0.06,
            )
            b.message("rescheduled", "Rescheduled", "Done, you're booked for {{answer}}.", "end")
            b.delay("last_call_wait", "Wait 4 hours", 4, "HOUR", "last_call")
            b.template(
                "last_call",
                "Last call",
                "appointment_last_call",
                "Reply CONFIRM if you're still coming tomorrow.",
                then="end",
                p_fail=0.03,
            )
        b.team("scheduling", "Scheduling desk", "Scheduling desk")
        b.action(
            "cancel",
            "Cancel in calendar",
            "DELETE",
            "https://booking.lumenhome.example/api/appointments/{{appointment.id}}",
            "cancelled",
            None,
            p_fail=0.1,
        )
        b.message("cancelled", "Cancellation confirmed", "Your appointment is cancelled.", "end")
        b.end("end", "End")

    return build


def _nps(v: int) -> _Build:
    def build(b: VersionBuilder) -> None:
        b.template(
            "intro",
            "Survey invite",
            "nps_invite_2026",
            "Hi {{contact.first_name}}, got 10 seconds for one question?",
            buttons=["Sure", "Not now"],
            to=["score", "later"],
            weights=(65, 35),
            p_reply=0.75,
            p_fail=0.065,
        )
        b.question(
            "score",
            "Ask score",
            "How likely are you to recommend us? (0–10)",
            "NUMBER",
            "bucket",
            failed="gate",
            p_valid=0.82,
            max_attempts=0,
            answer_range=("0", "10"),
            save_as="nps_score",
        )
        b.conditional(
            "gate",
            "Second failed attempt?",
            [([("flow.answer_attempts", "gte", "2")], "thanks_anyway")],
            "sorry",
            attempt_gate=2,
        )
        b.message(
            "sorry",
            "Invalid score",
            "Sorry, that doesn't look like a score. Reply with a number from 0 to 10.",
            "score",
        )
        b.message("thanks_anyway", "Thanks anyway", "No worries, thanks for your time!", "end")
        b.conditional(
            "bucket",
            "Promoter, passive or detractor?",
            [
                ([("contact.nps_score", "gte", "9")], "promoter"),
                ([("contact.nps_score", "gte", "7")], "passive"),
            ],
            "improve",
            weights=(45, 30, 25),
        )
        b.tag("promoter", "Tag: promoter", ["nps_promoter"], "review")
        b.message(
            "review", "Ask for a review", "Thank you! Mind leaving a review?", "referral_wait"
        )
        b.delay(
            "referral_wait", "Wait before referral offer", 10 if v >= 2 else 5, "DAY", "referral"
        )
        b.template(
            "referral",
            "Referral offer",
            "nps_referral_offer",
            "Give friends 15% off and get 15% yourself: {{referral.link}}",
            then="end",
        )
        b.tag("passive", "Tag: passive", ["nps_passive"], "end")
        b.question(
            "improve",
            "Ask what to improve",
            "What could we do better?",
            "FREE_TEXT",
            "sentiment" if v >= 2 else "care",
            wait=(2, "DAY") if v >= 2 else (3, "DAY"),
            no_reply="end" if v >= 2 else None,
            p_reply=0.75,
        )
        if v >= 2:
            b.custom(
                "sentiment",
                "SENTIMENT_ANALYSIS",
                "Score sentiment",
                "care",
                provider="lumen-nlp",
                busy=3,
            )
        b.team("care", "Customer care follow-up", "Customer care")
        b.message("later", "Maybe later", "No problem!", "end")
        b.end("end", "End")

    return build


def _delivery_feedback(v: int) -> _Build:
    def build(b: VersionBuilder) -> None:
        b.template(
            "ask",
            "How was your delivery?",
            "delivery_feedback",
            "Your order was delivered today. How was it?",
            buttons=["👍 Great", "😐 Okay", "👎 Bad"],
            to=["thanks", "okay_q", "bad"],
            wait=(1, "DAY") if v >= 2 else (2, "HOUR"),
            no_reply="no_feedback" if v >= 2 else None,
            weights=(62, 23, 15),
            p_reply=0.72,
            p_fail=0.05,
        )
        b.message("thanks", "Thanks", "Glad to hear it! 🎉", "end")
        b.question(
            "okay_q",
            "Ask what could be better",
            "What could have been better?",
            "FREE_TEXT",
            "end",
            wait=(4, "HOUR"),
            no_reply="end",
            p_reply=0.5,
        )
        if v >= 2:
            b.menu(
                "bad",
                "What went wrong?",
                "Sorry! What went wrong?",
                ["Damaged item", "Late delivery", "Wrong item"],
                ["ticket", "late_tag", "ticket"],
                weights=(40, 40, 20),
                p_reply=0.8,
            )
            b.action(
                "ticket",
                "Open support ticket",
                "POST",
                API_BASE + "/tickets",
                "ticket_ok",
                "logistics",
                p_fail=0.07,
            )
            b.message(
                "ticket_ok",
                "Ticket opened",
                "We opened ticket {{ticket.id}} for you.",
                "ticket_wait",
            )
            b.delay("ticket_wait", "Wait two days", 2, "DAY", "ticket_check")
            b.template(
                "ticket_check",
                "Ticket follow-up",
                "ticket_follow_up",
                "Is your delivery problem solved?",
                buttons=["Solved", "Still waiting"],
                to=["end", "logistics"],
                no_reply="end",
                weights=(70, 30),
            )
            b.tag("late_tag", "Tag: late delivery", ["late_delivery"], "logistics")
            b.tag("no_feedback", "Tag: no feedback", ["no_feedback"], "end")
        else:
            b.question(
                "bad",
                "Ask what went wrong",
                "Sorry! What went wrong?",
                "FREE_TEXT",
                "logistics",
                wait=(1, "DAY"),
            )
        b.team("logistics", "Logistics team", "Logistics")
        b.end("end", "End")

    return build


# ----------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _VersionPlan:
    days: float  # publish time relative to the anchor, in days (negative = past)
    user: dict[str, Any]
    name: str
    description: str
    build: _Build


def _versions(
    ids: IdAllocator, flow_key: str, anchor: int, plans: Sequence[_VersionPlan]
) -> list[VersionSpec]:
    out = []
    for number, plan in enumerate(plans, start=1):
        version_id = stable_uuid("version", flow_key, number)
        builder = VersionBuilder(ids, version_id)
        plan.build(builder)
        steps, sims, start = builder.build()
        out.append(
            VersionSpec(
                id=version_id,
                number=number,
                name=plan.name,
                description=plan.description,
                published_on=anchor + int(plan.days * DAY),
                published_by=plan.user,
                steps=steps,
                sims=sims,
                start=start,
            )
        )
    return out


def _filter(field_name: str, comparison: str, value: str) -> dict[str, str]:
    return {"field": field_name, "comparison": comparison, "value": value}


def build_catalogue(anchor: int) -> Catalogue:
    """Build every flow, version and execution plan relative to ``anchor`` (Unix seconds)."""
    ids = IdAllocator()
    midnight = anchor - anchor % DAY

    def at(days: float, hh: int = 0, mm: int = 0) -> int:
        """A wall-clock time (UTC) on the day ``days`` away from the anchor's day."""
        return midnight + int(days) * DAY + hh * HOUR + mm * MINUTE

    def flow(
        index: int,
        key: str,
        name: str,
        trigger: str,
        config: dict[str, Any],
        created_days: float,
        user: dict[str, Any],
        plans: Sequence[_VersionPlan],
        **kwargs: Any,
    ) -> FlowSpec:
        return FlowSpec(
            index=index,
            key=key,
            id=stable_uuid("flow", key),
            name=name,
            trigger_type=trigger,
            trigger_config=config,
            created_on=anchor + int(created_days * DAY),
            created_by=user,
            versions=_versions(ids, key, anchor, plans),
            **kwargs,
        )

    vp = _VersionPlan
    flows = [
        flow(
            0,
            "order-status",
            "Order status assistant",
            "INBOUND_ANY_MESSAGE",
            {},
            -101,
            ANA,
            [
                vp(
                    -95.3,
                    ANA,
                    "v1 – Launch",
                    "Order number lookup with a retry loop.",
                    _order_status(1),
                ),
                vp(
                    -38.6,
                    RAHUL,
                    "v2 – Menu and error handling",
                    "Adds a menu, address changes and an error branch on the lookup.",
                    _order_status(2),
                ),
                vp(
                    -6.2,
                    KENJI,
                    "v3 – AI assistant",
                    "An AI agent summarises the order before the status message.",
                    _order_status(3),
                ),
            ],
            inbound_share=0.17,
            busy_spikes=((-4, 1.6), (-3, 1.4)),
            p_manual_cancel=0.03,
            reply_speed=2.5,
        ),
        flow(
            1,
            "triage",
            "Customer service triage",
            "INBOUND_ANY_MESSAGE",
            {},
            -130,
            FATIMA,
            [
                vp(-120.1, FATIMA, "v1", "First triage menu.", _triage(1)),
                vp(
                    -40.4,
                    SOPHIE,
                    "v2 – Business hours and CSAT",
                    "Closed-hours branch, answer-attempt gate and a satisfaction survey.",
                    _triage(2),
                ),
                vp(
                    -11.7,
                    KENJI,
                    "v3 – AI troubleshooting",
                    "Ten topics; AI agents for product advice and app issues.",
                    _triage(3),
                ),
            ],
            inbound_share=0.21,
            p_manual_cancel=0.035,
            reply_speed=2.5,
        ),
        flow(
            2,
            "password-reset",
            "Password reset helper",
            "INBOUND_SPECIFIC_MESSAGE",
            {"keywords": ["reset", "password", "can't log in"], "match": "CONTAINS"},
            -75,
            LUCAS,
            [
                vp(-70.2, LUCAS, "v1", "Email question with a retry loop.", _password_reset(1)),
                vp(
                    -21.5,
                    LUCAS,
                    "v2 – One-hour wait",
                    "Shorter wait on the email question; errors go to a person.",
                    _password_reset(2),
                ),
                vp(
                    -2.9,
                    MAREN,
                    "v3 – Verified emails only",
                    "Checks the email is verified before sending the reset link.",
                    _password_reset(3),
                ),
            ],
            inbound_share=0.08,
            busy_spikes=((-17, 4.0),),
            p_manual_cancel=0.015,
            reply_speed=3.0,
        ),
        flow(
            3,
            "lead-qualification",
            "Lead qualification",
            "INBOUND_SPECIFIC_MESSAGE",
            {"keywords": ["info", "quote", "demo"], "match": "EXACT"},
            -85,
            MAREN,
            [
                vp(-80.0, MAREN, "v1", "Company size decides the segment.", _lead_qualification(1)),
                vp(
                    -30.3,
                    RAHUL,
                    "v2 – CRM sync",
                    "Asks for a work email and creates the lead in the CRM.",
                    _lead_qualification(2),
                ),
            ],
            inbound_share=0.11,
            p_manual_cancel=0.025,
            reply_speed=1.5,
        ),
        flow(
            4,
            "black-friday",
            "Black Friday 2026 campaign",
            "OUTBOUND_CAMPAIGN_SEGMENT",
            {},
            -45,
            SOPHIE,
            [
                vp(
                    -40.2,
                    SOPHIE,
                    "v1 – Early access",
                    "Offer template with three buttons.",
                    _black_friday(1),
                ),
                vp(
                    -9.6,
                    SOPHIE,
                    "v2 – Categories",
                    "Category list after Shop now; no-reply branch instead of expiring.",
                    _black_friday(2),
                ),
                vp(
                    1.1,
                    RAHUL,
                    "v3 – Personal coupons",
                    "Generates a personal coupon through the API.",
                    _black_friday(3),
                ),
            ],
            one_offs=[
                ExecutionPlan(
                    "vip-teaser",
                    0,
                    at(-21, 15, 5),
                    at(-22, 10, 40),
                    0.035,
                    "filter",
                    SOPHIE,
                    [_filter("tags", "icontains", "vip")],
                ),
                ExecutionPlan(
                    "early-access-csv",
                    1,
                    at(-7, 16, 5),
                    at(-7, 14, 12),
                    0.035,
                    "csv",
                    RAHUL,
                    import_name="bf_early_access_list.csv",
                ),
                ExecutionPlan(
                    "preview",
                    2,
                    anchor - 15 * MINUTE,
                    anchor - 3 * HOUR,
                    0.035,
                    "filter",
                    SOPHIE,
                    [
                        _filter("last_order_date", "gte", "2026-05-01"),
                        _filter("country", "!exact", "JP"),
                    ],
                    dispatch=40 * MINUTE,
                ),
                ExecutionPlan("weekend-api", 3, at(1, 15, 5), at(1, 15, 5) - 3, 0.03, "api", KENJI),
                ExecutionPlan(
                    "main-send",
                    4,
                    at(7, 8, 5),
                    at(-2, 17, 30),
                    0.15,
                    "filter",
                    SOPHIE,
                    [_filter("marketing_opt_in", "exact", "true")],
                    dispatch=55 * MINUTE,
                ),
            ],
            p_manual_cancel=0.01,
            p_inbox_cancel=0.09,
            p_test=0.0005,
        ),
        flow(
            5,
            "appointments",
            "Appointment reminders",
            "OUTBOUND_CAMPAIGN_API",
            {},
            -105,
            FATIMA,
            [
                vp(
                    -100.5,
                    FATIMA,
                    "v1",
                    "Reminder with confirm / reschedule / cancel.",
                    _appointments(1),
                ),
                vp(
                    -45.2,
                    ANA,
                    "v2 – Reschedule by chat",
                    "Asks for a new date; no-reply contacts get a last call.",
                    _appointments(2),
                ),
                vp(
                    -15.4,
                    ANA,
                    "v3 – Day-of check-in",
                    "Confirmed contacts get a check-in on the day.",
                    _appointments(3),
                ),
            ],
            recurring=RecurringPlan(
                "daily", at(-HISTORY_DAYS + 1, 7, 5), DAY, 0.12, "api", (None,)
            ),
            p_manual_cancel=0.02,
            p_inbox_cancel=0.05,
            p_test=0.001,
            reply_speed=1.2,
        ),
        flow(
            6,
            "nps",
            "NPS survey",
            "OUTBOUND_CAMPAIGN_SEGMENT",
            {},
            -95,
            MAREN,
            [
                vp(-90.0, MAREN, "v1", "Score, segment, follow-up.", _nps(1)),
                vp(
                    -19.8,
                    SOPHIE,
                    "v2 – Sentiment",
                    "Sentiment scoring on detractor feedback; shorter wait.",
                    _nps(2),
                ),
            ],
            recurring=RecurringPlan(
                "weekly",
                at(_weekday_offset(midnight, -HISTORY_DAYS + 1, 1), 14, 5),
                7 * DAY,
                0.10,
                "filter",
                (MAREN, SOPHIE, ANA),
                [
                    _filter("last_order_date", "gte", "{{today-30d}}"),
                    _filter("tags", "!icontains", "opt_out"),
                ],
                lead=2 * HOUR,
                dispatch=25 * MINUTE,
            ),
            p_manual_cancel=0.015,
            p_inbox_cancel=0.1,
        ),
        flow(
            7,
            "delivery-feedback",
            "Delivery feedback",
            "OUTBOUND_CAMPAIGN_CSV",
            {},
            -55,
            LUCAS,
            [
                vp(-50.4, LUCAS, "v1", "Three buttons, two-hour wait.", _delivery_feedback(1)),
                vp(
                    -12.1,
                    MAREN,
                    "v2 – Tickets for bad deliveries",
                    "One-day wait with a no-reply branch; problems open a ticket.",
                    _delivery_feedback(2),
                ),
            ],
            recurring=RecurringPlan(
                "daily-csv",
                at(-48, 17, 5),
                DAY,
                0.11,
                "csv",
                (LUCAS, MAREN, LUCAS),
                import_pattern="deliveries_{date}.csv",
                lead=7 * MINUTE,
                dispatch=10 * MINUTE,
            ),
            p_manual_cancel=0.015,
            p_inbox_cancel=0.07,
        ),
    ]
    return Catalogue(anchor=anchor, flows=flows)


def _weekday_offset(midnight: int, days: int, weekday: int) -> int:
    """Smallest day offset >= ``days`` (from the anchor's day) that falls on ``weekday`` (Mon=0)."""
    for extra in range(7):
        day_number = (midnight // DAY) + days + extra
        if (day_number + 3) % 7 == weekday:  # 1970-01-01 was a Thursday (3)
            return days + extra
    raise AssertionError("unreachable")
