"""Businesses the chat tests talk to, created in the configured store."""

from __future__ import annotations

from dataclasses import dataclass

from common.store import Business, KnowledgeEntry, get_store

HOURS_ANSWER = "We are open Tuesday to Saturday, 10am to 6pm."
SITE = "https://www.baysidebikes.example"


@dataclass(frozen=True)
class Tenant:
    business_id: str
    api_key: str
    widget_key: str


def create_tenant(
    business_id: str = "biz-bikes", status: str = "active", origin: str = SITE
) -> Tenant:
    """A business with a knowledge base, an API key, a widget key and one site."""
    store = get_store()
    widget_key = f"pk_live_{business_id}_widget"
    store.create_business(
        Business(
            business_id=business_id,
            name="Bayside Bikes",
            status=status,  # type: ignore[arg-type]
            knowledge=[
                KnowledgeEntry(answer=HOURS_ANSWER, topic="hours"),
                KnowledgeEntry(
                    question="Do you rent e-bikes?",
                    answer="Yes, e-bikes are $75 a day with a helmet and lock.",
                ),
            ],
            owner_contacts=["+15555550101"],
            widget_key=widget_key,
            allowed_origins=[origin],
        )
    )
    _, secret = store.create_api_key(business_id)
    return Tenant(business_id=business_id, api_key=secret, widget_key=widget_key)
