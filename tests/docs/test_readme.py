"""The README's examples and tables agree with the code and the contracts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from common.store.base import Business
from common.store.business_file import parse_yaml
from common.store.records import check_business

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
OPENAPI = ROOT / "docs" / "openapi.yaml"


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


def _openapi_error_codes() -> tuple[list[str], set[tuple[int, str]]]:
    """The error schema's `code` enum, and (status, code) from the examples of
    each error response the paths use."""
    document: dict[str, Any] = yaml.safe_load(OPENAPI.read_text())
    components = document["components"]
    error = components["schemas"]["Error"]["properties"]["error"]
    enum: list[str] = error["properties"]["code"]["enum"]

    pairs = set()
    for operations in document["paths"].values():
        for operation in operations.values():
            if not isinstance(operation, dict):  # path-level `parameters`
                continue
            for status, response in operation.get("responses", {}).items():
                if "$ref" not in response:
                    continue
                named = components["responses"][response["$ref"].rsplit("/", 1)[1]]
                examples = named["content"]["application/json"].get("examples", {})
                for example in examples.values():
                    pairs.add((int(status), example["value"]["error"]["code"]))
    return enum, pairs


def test_the_chat_error_table_lists_every_code_with_its_openapi_status() -> None:
    section = _section("## Chat API and website widget")
    rows = re.findall(r"^\| (\d{3}) \| `([a-z_]+)` \|", section, flags=re.MULTILINE)
    documented = {(int(status), code) for status, code in rows}

    enum, from_openapi = _openapi_error_codes()

    assert documented == from_openapi
    assert sorted(code for _, code in documented) == sorted(enum)


def _shell_blocks(text: str) -> list[str]:
    return re.findall(r"```(?:sh|console)\n(.*?)```", text, flags=re.DOTALL)


def test_the_virtualenv_is_activated_before_the_first_python_command() -> None:
    text = README.read_text()
    start_here = _section("## Start here")

    first_command = next(b for b in _shell_blocks(text) if "python -m " in b)

    assert ". .venv/bin/activate" in start_here
    assert text.index(". .venv/bin/activate") < text.index(first_command)


def test_shell_examples_hold_no_angle_bracket_placeholders() -> None:
    commands = [
        line
        for block in _shell_blocks(README.read_text())
        for line in block.splitlines()
        if "python -m " in line
    ]

    assert commands
    assert [line for line in commands if re.search(r"\s<[a-z_]+>", line)] == []
