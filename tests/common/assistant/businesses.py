"""Realistic businesses the assistant tests talk to."""

from __future__ import annotations

from common.store import Business, KnowledgeEntry

WEEKDAY_HOURS = [["09:00", "17:00"]]


def barbershop(**changes: object) -> Business:
    """A New York barbershop with a full profile and knowledge base."""
    business = Business(
        business_id="biz-barber",
        name="Maple Street Barbers",
        time_zone="America/New_York",
        opening_hours={
            "monday": WEEKDAY_HOURS,
            "tuesday": WEEKDAY_HOURS,
            "wednesday": WEEKDAY_HOURS,
            "thursday": WEEKDAY_HOURS,
            "friday": [["09:00", "19:30"]],
            "saturday": [["10:00", "14:00"]],
        },
        address="42 Maple Street, Brooklyn, NY 11201",
        transfer_number="+15555550100",
        owner_contacts=["+15555550199"],
        knowledge=[
            KnowledgeEntry(
                topic="prices",
                question="How much is a haircut?",
                answer="A haircut is $35 and a beard trim is $15.",
            ),
            KnowledgeEntry(
                topic="services",
                question="What services do you offer?",
                answer="We do haircuts, beard trims, hot towel shaves and kids' cuts.",
            ),
            KnowledgeEntry(
                question="Do you take walk-ins?",
                answer="Yes, walk-ins are welcome, but booking ahead is faster.",
            ),
            KnowledgeEntry(
                question="Is there parking nearby?",
                answer="There is free street parking on Maple Street after 6 PM.",
            ),
            KnowledgeEntry(
                question="How do I book an appointment?",
                answer="Book online at https://maplebarbers.example/book or call us.",
            ),
            KnowledgeEntry(
                question="Do you accept credit cards?",
                answer="We accept cash and all major credit cards.",
            ),
        ],
    )
    for name, value in changes.items():
        setattr(business, name, value)
    return business


def bare_bakery() -> Business:
    """A Tokyo bakery that filled in almost nothing: no prices, no address."""
    return Business(
        business_id="biz-bakery",
        name="Hoshi Bakery",
        time_zone="Asia/Tokyo",
        opening_hours={"tuesday": [["07:00", "15:00"]], "sunday": [["08:00", "12:00"]]},
        knowledge=[
            KnowledgeEntry(
                question="Do you have gluten-free bread?",
                answer="We bake a gluten-free loaf every Tuesday.",
            ),
        ],
    )
