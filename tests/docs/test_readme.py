"""The README's examples and tables agree with the code and the contracts."""

from __future__ import annotations

import re
from pathlib import Path

from common.store.base import Business
from common.store.business_file import parse_yaml
from common.store.records import check_business

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def _section(heading: str) -> str:
    text = README.read_text()
    start = text.index(f"\n{heading}\n")
    end = text.find("\n## ", start + len(heading) + 2)
    return text[start : end if end != -1 else None]


def test_the_knowledge_base_example_loads_as_a_valid_profile() -> None:
    section = _section("## Tenants and the demo business")
    example = re.search(r"```yaml\n(.*?)```", section, flags=re.DOTALL)
    assert example is not None, "the kb section has a YAML example"

    changes = parse_yaml(example.group(1), "README.md")

    business = Business(business_id="biz-readme", **changes)
    assert check_business(business).transfer_number == "+15551234567"
    assert business.knowledge[-1].question is None  # free text is accepted
