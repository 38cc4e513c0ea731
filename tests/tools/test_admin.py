"""Operators manage tenants with `python -m tools.admin`, on either store."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from common.settings import set_settings
from common.store import reset_store
from tests.common.store.conftest import emulator_project
from tests.runtime import ROOT
from tools.admin import main as admin_main

MARKDOWN_KB = """# Joe's Plumbing
We serve the whole East Bay.

## Do you do emergency call-outs?
Yes, day and night, for a $90 call-out fee.

## Boilers
We install and service all major boiler brands.
"""


@dataclass
class Admin:
    """Runs the command as an operator would, or in this process (faster)."""

    env: dict[str, str]
    in_process: bool = False

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        if self.in_process:
            return self._call(list(args))
        return subprocess.run(
            [sys.executable, "-m", "tools.admin", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def _call(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        stdout, stderr = io.StringIO(), io.StringIO()
        with redirect_stdout(stdout), redirect_stderr(stderr):
            try:
                status = admin_main(args)
            except SystemExit as exit_:
                status = int(exit_.code or 0)
        return subprocess.CompletedProcess(
            args, status, stdout.getvalue(), stderr.getvalue()
        )

    def json(self, *args: str) -> dict[str, Any]:
        result = self.run(*args, "--json")
        assert result.returncode == 0, result.stderr
        lines = result.stdout.strip().splitlines()
        assert len(lines) == 1, result.stdout
        payload: dict[str, Any] = json.loads(lines[0])
        return payload


BACKENDS = ["sqlite", pytest.param("firestore", marks=pytest.mark.emulator)]


def store_env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("STORE", "FIRESTORE_", "GOOGLE_CLOUD_PROJECT"))
    }
    if request.param == "sqlite":
        env["STORE"] = f"sqlite:///{tmp_path / 'admin.db'}"
    else:
        env["STORE"] = "firestore"
        env["FIRESTORE_EMULATOR_HOST"] = request.getfixturevalue("firestore_emulator")
        env["GOOGLE_CLOUD_PROJECT"] = emulator_project()
    return env


@pytest.fixture(params=BACKENDS)
def admin(request: pytest.FixtureRequest, tmp_path: Path) -> Admin:
    """The command as a separate process, as an operator runs it."""
    return Admin(store_env(request, tmp_path))


@pytest.fixture(params=BACKENDS)
def admin_here(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Admin]:
    """The command called in this process, for the many bad-input cases."""
    env = store_env(request, tmp_path)
    for name in ("STORE", "FIRESTORE_EMULATOR_HOST", "GOOGLE_CLOUD_PROJECT"):
        monkeypatch.delenv(name, raising=False)
        if name in env:
            monkeypatch.setenv(name, env[name])
    reset_store()
    yield Admin(env, in_process=True)
    reset_store()
    set_settings(None)


def test_a_business_number_key_and_knowledge_base_round_trip(
    admin: Admin, tmp_path: Path
) -> None:
    kb_file = tmp_path / "kb.md"
    kb_file.write_text(MARKDOWN_KB)

    created = admin.json(
        "business", "create", "Joe's Plumbing", "--time-zone", "America/Los_Angeles"
    )
    business_id = created["business_id"]
    admin.json("number", "add", business_id, "+15551234567")
    key = admin.json("key", "create", business_id)
    loaded = admin.json("kb", "load", business_id, str(kb_file))
    shown = admin.json("business", "show", business_id)
    listed = admin.json("business", "list")

    assert business_id.startswith("biz-joe-s-plumbing")
    assert key["api_key"].startswith(key["prefix"])
    assert loaded["entries"] == 3
    assert shown["numbers"] == ["+15551234567"]
    assert shown["time_zone"] == "America/Los_Angeles"
    assert [k["key_id"] for k in shown["api_keys"]] == [key["key_id"]]
    assert key["api_key"] not in json.dumps(shown)
    assert shown["knowledge"][1] == {
        "question": "Do you do emergency call-outs?",
        "answer": "Yes, day and night, for a $90 call-out fee.",
        "topic": None,
    }
    assert [row["business_id"] for row in listed["businesses"]] == [business_id]


def test_a_yaml_profile_updates_named_fields_and_replaces_the_knowledge(
    admin: Admin,
) -> None:
    admin.json("business", "create", "Bikes", "--id", "biz-bikes", "--plan", "pro")

    admin.json("kb", "load", "biz-bikes", str(ROOT / "common/store/demo.yaml"))
    shown = admin.json("business", "show", "biz-bikes")

    assert shown["name"] == "Bayside Bikes"
    assert shown["plan"] == "pro"
    assert shown["opening_hours"]["saturday"] == [["10:00", "16:00"]]
    assert len(shown["knowledge"]) == 5


def test_keys_are_revoked_and_numbers_removed_only_for_their_own_business(
    admin_here: Admin,
) -> None:
    admin = admin_here
    for business_id in ("biz-a", "biz-b"):
        admin.json("business", "create", business_id, "--id", business_id)
    admin.json("number", "add", "biz-a", "+15551234567")
    key_a = admin.json("key", "create", "biz-a")

    foreign_revoke = admin.run("key", "revoke", "biz-b", key_a["key_id"])
    foreign_remove = admin.run("number", "remove", "biz-b", "+15551234567")
    revoked = admin.json("key", "revoke", "biz-a", key_a["key_id"])
    removed = admin.json("number", "remove", "biz-a", "+15551234567")

    assert foreign_revoke.returncode == 2
    assert foreign_revoke.stdout == ""
    assert "biz-b has no API key" in foreign_revoke.stderr
    assert foreign_remove.returncode == 2
    assert revoked["revoked"] is True
    assert removed["numbers"] == []


def test_widget_origins_are_added_and_removed_with_a_publishable_key(
    admin_here: Admin,
) -> None:
    admin = admin_here
    admin.json("business", "create", "Shop", "--id", "biz-shop")

    added = admin.json(
        "widget",
        "origins",
        "biz-shop",
        "--add",
        "https://shop.example.com",
        "--add",
        "http://localhost:8080",
    )
    removed = admin.json(
        "widget", "origins", "biz-shop", "--remove", "http://localhost:8080"
    )

    assert added["widget_key"].startswith("pk_live_")
    assert removed["widget_key"] == added["widget_key"]
    assert removed["allowed_origins"] == ["https://shop.example.com"]


def test_widget_origins_are_matched_in_one_spelling(admin_here: Admin) -> None:
    admin = admin_here
    admin.json("business", "create", "Shop", "--id", "biz-shop")

    added = admin.json(
        "widget", "origins", "biz-shop", "--add", "HTTPS://Shop.Example.com:443"
    )
    again = admin.json(
        "widget", "origins", "biz-shop", "--add", "https://shop.example.com"
    )
    removed = admin.json(
        "widget", "origins", "biz-shop", "--remove", "https://SHOP.example.com"
    )

    assert added["allowed_origins"] == ["https://shop.example.com"]
    assert again["allowed_origins"] == ["https://shop.example.com"]
    assert removed["allowed_origins"] == []


BadInput = Callable[[Path], list[str]]


@pytest.mark.parametrize(
    ("command", "problem"),
    [
        (lambda _: ["number", "add", "biz-a", "555-1234"], "E.164"),
        (lambda _: ["number", "add", "biz-a", "+1555"], "8 to 15 digits"),
        (
            lambda _: ["business", "update", "biz-a", "--owner-contact", "+1555"],
            "+1555",
        ),
        (lambda _: ["number", "add", "biz-nobody", "+15551234567"], "biz-nobody"),
        (lambda _: ["key", "create", "biz-nobody"], "biz-nobody"),
        (lambda d: ["kb", "load", "biz-a", str(d / "bad.yaml")], "not valid YAML"),
        (lambda d: ["kb", "load", "biz-a", str(d / "odd.yaml")], "colour"),
        (lambda d: ["kb", "load", "biz-a", str(d / "zone.yaml")], "Mars/Base"),
        (lambda d: ["kb", "load", "biz-a", str(d / "empty.md")], "no text under"),
        (lambda d: ["kb", "load", "biz-a", str(d / "missing.yaml")], "cannot read"),
        (lambda _: ["widget", "origins", "biz-a", "--add", "example.com"], "origin"),
        (lambda _: ["widget", "origins", "biz-a", "--add", "*"], "origin"),
        (
            lambda _: ["widget", "origins", "biz-a", "--remove", "https://a.test/"],
            "origin",
        ),
        (lambda _: ["business", "update", "biz-a", "--status", "asleep"], "asleep"),
        (lambda _: ["business", "frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_changes_nothing(
    admin_here: Admin, tmp_path: Path, command: BadInput, problem: str
) -> None:
    admin = admin_here
    (tmp_path / "bad.yaml").write_text("knowledge: [unclosed\n")
    (tmp_path / "odd.yaml").write_text("colour: red\n")
    (tmp_path / "zone.yaml").write_text(
        "time_zone: Mars/Base\nknowledge:\n  - answer: replaced\n"
    )
    (tmp_path / "empty.md").write_text("## What do you sell?\n\n")
    admin.json("business", "create", "A", "--id", "biz-a")
    before = admin.json("business", "show", "biz-a")

    result = admin.run(*command(tmp_path))

    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert problem in result.stderr
    assert result.stdout == ""
    assert admin.json("business", "show", "biz-a") == before


@pytest.mark.parametrize(
    ("yaml_text", "problem"),
    [
        (
            "transfer_number: +15551234567\n",
            'transfer_number must be a quoted E.164 string like "+15551234567"',
        ),
        (
            "owner_contacts: [+15551234567]\n",
            "owner_contacts must be a list of quoted E.164 strings like "
            '["+15551234567"]',
        ),
        ("name: [1, 2]\n", "name must be text"),
        ("opening_hours:\n  monday: [[08:00, 17:00]]\n", 'quote times, e.g. "17:00"'),
        ("opening_hours:\n  monday: '9-5'\n", '[["09:00", "17:00"]]'),
        (
            "knowledge:\n  - question: [1]\n    answer: Yes.\n",
            "question that is not text",
        ),
    ],
)
def test_yaml_fields_of_the_wrong_type_are_refused_with_the_fix(
    admin_here: Admin, tmp_path: Path, yaml_text: str, problem: str
) -> None:
    admin = admin_here
    profile = tmp_path / "profile.yaml"
    profile.write_text(yaml_text)
    admin.json("business", "create", "A", "--id", "biz-a")
    before = admin.json("business", "show", "biz-a")

    result = admin.run("kb", "load", "biz-a", str(profile))

    assert (result.returncode, result.stdout) == (2, "")
    assert len(result.stderr.strip().splitlines()) == 1
    assert problem in result.stderr
    assert admin.json("business", "show", "biz-a") == before


def test_a_knowledge_entry_with_only_an_answer_is_free_text(
    admin_here: Admin, tmp_path: Path
) -> None:
    admin = admin_here
    profile = tmp_path / "profile.yaml"
    profile.write_text(
        'opening_hours:\n  monday: [["08:00", "17:00"]]\n'
        "knowledge:\n  - answer: We serve the whole East Bay.\n"
    )
    admin.json("business", "create", "A", "--id", "biz-a")

    admin.json("kb", "load", "biz-a", str(profile))

    shown = admin.json("business", "show", "biz-a")
    assert shown["opening_hours"] == {"monday": [["08:00", "17:00"]]}
    assert shown["knowledge"] == [
        {"answer": "We serve the whole East Bay.", "question": None, "topic": None}
    ]
