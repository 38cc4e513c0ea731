"""Business profiles and knowledge bases written by people, as files.

`python -m tools.admin kb load BUSINESS_ID FILE` and the demo seed read the
same two formats. Either replaces the knowledge base as a whole; a YAML file
also sets the profile fields it names and leaves the others alone.

YAML (`.yaml`, `.yml`), every key optional::

    name: Bayside Bikes
    greeting: Thanks for contacting Bayside Bikes!
    address: 12 Harbor Street, Sausalito, CA
    time_zone: America/Los_Angeles
    opening_hours:            # lower-case weekdays; spans as ["HH:MM", "HH:MM"]
      monday: [["09:00", "17:00"]]
    transfer_number: "+15555550100"
    owner_contacts: ["+15555550101"]
    help_text: Reply with a question, or STOP to opt out.
    knowledge:
      - question: Do you fix e-bikes?
        answer: Yes, all brands.
      - topic: Prices
        answer: A basic tune-up is $60.

Markdown (`.md`, `.markdown`): knowledge only. Each `## heading` starts an
entry; a heading ending in `?` is a question and the text under it its
answer, any other heading is the topic of the free text under it. Text
before the first `##` becomes a free-text entry; `#` titles are skipped::

    # Bayside Bikes
    ## Do you fix e-bikes?
    Yes, all brands.
    ## Prices
    A basic tune-up is $60.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from common.phone import is_e164
from common.store.base import KnowledgeEntry, StoreError
from common.store.records import knowledge_entry

PROFILE_FIELDS = frozenset(
    {
        "name",
        "greeting",
        "address",
        "help_text",
        "time_zone",
        "opening_hours",
        "transfer_number",
        "owner_contacts",
        "knowledge",
    }
)
# Profile fields holding text, with an example of each.
TEXT_FIELDS = {
    "name": '"Joe\'s Plumbing"',
    "greeting": "Thanks for calling Joe's Plumbing!",
    "address": "12 Main Street, Oakland, CA",
    "help_text": "Reply with a question, or STOP to opt out.",
    "time_zone": "America/Los_Angeles",
}
YAML_SUFFIXES = (".yaml", ".yml")
MARKDOWN_SUFFIXES = (".md", ".markdown")


class BusinessFileError(StoreError):
    """The file cannot be read as a business profile; the message says where."""


def read_business_file(path: Path) -> dict[str, Any]:
    """The business fields the file sets, ready for `Store.update_business`."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BusinessFileError(f"cannot read {path}: {exc}") from exc

    suffix = path.suffix.lower()
    if suffix in YAML_SUFFIXES:
        return parse_yaml(text, str(path))
    if suffix in MARKDOWN_SUFFIXES:
        return {"knowledge": parse_markdown(text, str(path))}
    raise BusinessFileError(
        f"{path} is neither YAML ({', '.join(YAML_SUFFIXES)}) nor Markdown "
        f"({', '.join(MARKDOWN_SUFFIXES)}): rename it to say which"
    )


def parse_yaml(text: str, name: str) -> dict[str, Any]:
    import yaml

    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise BusinessFileError(f"{name} is not valid YAML{line}") from exc
    if not isinstance(document, dict):
        raise BusinessFileError(
            f"{name} must be a YAML mapping of business fields, e.g. 'name: ...'"
        )

    unknown = sorted(set(document) - PROFILE_FIELDS)
    if unknown:
        raise BusinessFileError(
            f"{name} has unknown field(s) {unknown}; known fields: "
            + ", ".join(sorted(PROFILE_FIELDS))
        )
    changes = dict(document)
    for field, value in changes.items():
        problem = _field_problem(field, value)
        if problem is not None:
            raise BusinessFileError(f"{name}: {problem}")

    entries = changes.get("knowledge", [])
    if not isinstance(entries, list):
        raise BusinessFileError(f"{name}: 'knowledge' must be a list of entries")
    try:
        changes["knowledge"] = [knowledge_entry(item) for item in entries]
    except StoreError as exc:
        raise BusinessFileError(f"{name}: {exc}") from exc
    return changes


def _field_problem(field: str, value: Any) -> str | None:
    """What is wrong with one YAML field's type, in words that say the fix.

    YAML reads an unquoted `+15551234567` as a number and, in its 1.1 rules,
    an unquoted `17:00` as 1020 (base 60), so the hints ask for quotes.
    """
    if field in TEXT_FIELDS and not isinstance(value, str):
        return (
            f"{field} must be text, e.g. {field}: {TEXT_FIELDS[field]}, "
            f"not {_kind(value)}"
        )
    if field == "transfer_number" and not is_e164(value):
        return 'transfer_number must be a quoted E.164 string like "+15551234567"'
    if field == "owner_contacts" and not (
        isinstance(value, list) and all(is_e164(item) for item in value)
    ):
        return (
            "owner_contacts must be a list of quoted E.164 strings like "
            '["+15551234567"]'
        )
    if field == "opening_hours":
        return _hours_problem(value)
    return None


def _hours_problem(hours: Any) -> str | None:
    if not isinstance(hours, dict):
        return (
            "opening_hours must map lower-case weekdays to spans, e.g. "
            'opening_hours: {monday: [["09:00", "17:00"]]}'
        )
    for day, spans in hours.items():
        expected = (
            f'opening_hours.{day} must be a list of ["HH:MM", "HH:MM"] spans, '
            f'e.g. {day}: [["09:00", "17:00"]] (an empty list for closed), '
            f"not {spans!r}"
        )
        if not isinstance(spans, list):
            return expected
        for span in spans:
            if not isinstance(span, list):
                return expected
            for time in span:
                if isinstance(time, int):
                    hours, minutes = divmod(time, 60)
                    return (
                        f"opening_hours.{day} holds the number {time} where a "
                        f"time belongs (YAML reads an unquoted {hours}:{minutes:02d} "
                        f'as a number): quote times, e.g. "{hours:02d}:{minutes:02d}"'
                    )
    return None


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "empty"
    return f"the {type(value).__name__} {value!r}"


def parse_markdown(text: str, name: str) -> list[KnowledgeEntry]:
    sections: list[tuple[str | None, list[str]]] = [(None, [])]
    for line in text.splitlines():
        if line.startswith("## "):
            sections.append((line[3:].strip(), []))
        elif line.startswith("# "):
            continue
        else:
            sections[-1][1].append(line)

    entries = []
    for heading, lines in sections:
        answer = "\n".join(lines).strip()
        if heading is None:
            if answer:
                entries.append(KnowledgeEntry(answer=answer))
            continue
        if not answer:
            raise BusinessFileError(f"{name}: '## {heading}' has no text under it")
        if heading.endswith("?"):
            entries.append(KnowledgeEntry(answer=answer, question=heading))
        else:
            entries.append(KnowledgeEntry(answer=answer, topic=heading))
    if not entries:
        raise BusinessFileError(f"{name} holds no knowledge: add '## heading' sections")
    return entries
