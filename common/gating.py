"""Whether a business is served, decided in one place for every channel.

The business's `status` is kept by the billing webhook from Stripe's events:

| status | decision | what callers get |
| --- | --- | --- |
| `trialing`, `active` | `serve` | the full receptionist |
| `past_due` | `warn` | the full receptionist; the owner is told to pay |
| `suspended` | `suspend` | a short notice (SMS, voice) or a 402 (chat API) |

The owner of a `past_due` business is warned by the billing webhook when the
status changes (and on every failed payment), not by the channels, so that a
busy line does not send the owner one warning per caller.
"""

from __future__ import annotations

from typing import Literal

from common import errors
from common.store import Business

Decision = Literal["serve", "warn", "suspend"]
Channel = Literal["sms", "voice", "chat", "widget"]

_DECISIONS: dict[str, Decision] = {
    "trialing": "serve",
    "active": "serve",
    "past_due": "warn",
    "suspended": "suspend",
}


def service_decision(business: Business) -> Decision:
    """`serve`, `warn` (serve, owner warned) or `suspend` for this business.

    An unknown status suspends: serving without knowing that someone pays is
    the costlier mistake.
    """
    return _DECISIONS.get(business.status, "suspend")


def is_served(business: Business) -> bool:
    """True when callers get the receptionist (`serve` or `warn`)."""
    return service_decision(business) != "suspend"


def suspended_notice(business: Business, channel: Channel) -> str:
    """The short text a suspended business's callers get on `channel`.

    SMS fits one GSM-7 segment for any reasonable business name; voice is
    read out by `<Say>`; chat and widget show it as the reply.
    """
    name = business.name or "This business"
    if channel == "sms":
        return (
            f"{name} cannot answer messages here right now. "
            "Please contact them another way."
        )
    if channel == "voice":
        return (
            f"Sorry, {name} cannot take calls on this line right now. "
            "Please try again later."
        )
    return f"{name}'s assistant is unavailable right now. Please try again later."


def suspended_error(business: Business) -> errors.PaymentRequired:
    """The chat API's answer for a suspended business: 402 `service_suspended`."""
    return errors.PaymentRequired(
        suspended_notice(business, "chat"),
        reason=f"business {business.business_id} is suspended",
    )


def owner_warning(business: Business) -> str:
    """What the owner of a `past_due` business is told."""
    return (
        f"Your payment for {business.name} did not go through. Your receptionist "
        "keeps working for now; please update your payment details to keep it on."
    )


def owner_suspension(business: Business) -> str:
    """What the owner is told when the receptionist is switched off."""
    return (
        f"Your receptionist for {business.name} is paused because the "
        "subscription ended or was not paid. Callers get a short notice until "
        "you renew."
    )


def owner_reactivation(business: Business) -> str:
    """What the owner is told when a payment goes through."""
    return f"Payment received for {business.name}. Your receptionist is on."
