"""Manage tenants on the store that `STORE` names (SQLite or Firestore).

    python -m tools.admin business create NAME [--id ID] [profile options]
    python -m tools.admin business list
    python -m tools.admin business show BUSINESS_ID
    python -m tools.admin business update BUSINESS_ID [profile options]
    python -m tools.admin number add|remove BUSINESS_ID +15551234567
    python -m tools.admin key create|list BUSINESS_ID
    python -m tools.admin key revoke BUSINESS_ID KEY_ID
    python -m tools.admin kb load BUSINESS_ID FILE
    python -m tools.admin widget origins BUSINESS_ID [--add ORIGIN] [--remove ORIGIN]
    python -m tools.admin alerts silence NAME (--until ISO8601 | --for 2h)
                                [--match KEY=VALUE ...] [--comment TEXT]
    python -m tools.admin alerts unsilence SILENCE_ID
    python -m tools.admin alerts list

Every command takes `--json` and then prints one JSON object: `business
create` answers with `business_id`, `key create` with `api_key` (the secret,
shown this once). The knowledge-base file formats are described in
common/store/business_file.py and the README. Bad input gets one line on
stderr naming the problem and exit status 2, and nothing is written.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, NoReturn

from common.alerts.silences import SilenceError
from common.settings import SettingsError, load_settings, set_settings
from common.store import ApiKey, Business, Store, StoreError, get_store
from common.store.business_file import read_business_file
from common.store.keys import check_e164, new_business_id, new_widget_key
from common.store.origins import normalize_origins
from common.store.records import business_to_dict
from tools import admin_alerts

EXIT_BAD_INPUT = 2

Result = tuple[dict[str, Any], str]
Command = Callable[[Store, argparse.Namespace], Result]


class AdminError(Exception):
    """Input the command cannot act on; the message says what and how to fix."""


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line, like every other bad input."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"error: {message} (see {self.prog} --help)\n")


# Businesses.


def business_create(store: Store, args: argparse.Namespace) -> Result:
    business = Business(
        business_id=args.id or new_business_id(args.name), name=args.name
    )
    for name, value in _profile_changes(args).items():
        setattr(business, name, value)
    created = store.create_business(business)
    return business_to_dict(created), f"created {created.business_id}"


def business_list(store: Store, args: argparse.Namespace) -> Result:
    businesses = store.list_businesses()
    rows = [
        {
            "business_id": business.business_id,
            "name": business.name,
            "status": business.status,
            "plan": business.plan,
        }
        for business in businesses
    ]
    text = "\n".join(
        f"{row['business_id']}\t{row['status']}\t{row['plan']}\t{row['name']}"
        for row in rows
    )
    return {"businesses": rows}, text or "no businesses"


def business_show(store: Store, args: argparse.Namespace) -> Result:
    business = _business(store, args.business_id)
    shown = business_to_dict(business)
    shown["numbers"] = store.numbers_for(business.business_id)
    shown["api_keys"] = [
        _key_row(key) for key in store.list_api_keys(business.business_id)
    ]
    return shown, json.dumps(shown, indent=2, ensure_ascii=False)


def business_update(store: Store, args: argparse.Namespace) -> Result:
    changes = _profile_changes(args)
    if args.name is not None:
        changes["name"] = args.name
    if not changes:
        raise AdminError("nothing to update: pass at least one option, e.g. --plan")
    _business(store, args.business_id)
    updated = store.update_business(args.business_id, **changes)
    return business_to_dict(updated), f"updated {', '.join(sorted(changes))}"


def _profile_changes(args: argparse.Namespace) -> dict[str, Any]:
    options = {
        "status": args.status,
        "plan": args.plan,
        "time_zone": args.time_zone,
        "greeting": args.greeting,
        "address": args.address,
        "transfer_number": args.transfer_number,
        "owner_contacts": args.owner_contact,
        "stripe_customer_id": args.stripe_customer_id,
    }
    return {name: value for name, value in options.items() if value is not None}


# Phone numbers.


def number_add(store: Store, args: argparse.Namespace) -> Result:
    number = _e164(args.number)
    _business(store, args.business_id)
    store.add_number(args.business_id, number)
    return _numbers(store, args.business_id, number), f"{number} -> {args.business_id}"


def number_remove(store: Store, args: argparse.Namespace) -> Result:
    number = _e164(args.number)
    _business(store, args.business_id)
    if number not in store.numbers_for(args.business_id):
        raise AdminError(f"{number} is not a number of {args.business_id}")
    store.remove_number(number)
    return _numbers(store, args.business_id, number), f"removed {number}"


def _numbers(store: Store, business_id: str, number: str) -> dict[str, Any]:
    return {
        "business_id": business_id,
        "number": number,
        "numbers": store.numbers_for(business_id),
    }


def _e164(number: str) -> str:
    try:
        return check_e164(number)
    except StoreError as exc:
        raise AdminError(str(exc)) from exc


# API keys.


def key_create(store: Store, args: argparse.Namespace) -> Result:
    _business(store, args.business_id)
    api_key, secret = store.create_api_key(args.business_id)
    result = {**_key_row(api_key), "business_id": args.business_id, "api_key": secret}
    text = (
        f"{secret}\n"
        f"key {api_key.key_id} for {args.business_id}: store it now, "
        "it is not shown again"
    )
    return result, text


def key_list(store: Store, args: argparse.Namespace) -> Result:
    _business(store, args.business_id)
    rows = [_key_row(key) for key in store.list_api_keys(args.business_id)]
    text = "\n".join(
        f"{row['key_id']}\t{row['prefix']}...\t"
        + ("revoked" if row["revoked"] else "active")
        for row in rows
    )
    return {"business_id": args.business_id, "api_keys": rows}, text or "no keys"


def key_revoke(store: Store, args: argparse.Namespace) -> Result:
    _business(store, args.business_id)
    owned = {key.key_id for key in store.list_api_keys(args.business_id)}
    if args.key_id not in owned:
        raise AdminError(
            f"{args.business_id} has no API key {args.key_id!r}: "
            f"see `key list {args.business_id}`"
        )
    revoked = store.revoke_api_key(args.key_id)
    return _key_row(revoked), f"revoked {revoked.key_id} ({revoked.prefix}...)"


def _key_row(api_key: ApiKey) -> dict[str, Any]:
    return {**asdict(api_key), "revoked": api_key.revoked}


# Knowledge base and widget.


def kb_load(store: Store, args: argparse.Namespace) -> Result:
    _business(store, args.business_id)
    changes = read_business_file(Path(args.file))
    updated = store.update_business(args.business_id, **changes)
    result = {
        "business_id": updated.business_id,
        "fields": sorted(changes),
        "entries": len(updated.knowledge),
    }
    return result, f"loaded {len(updated.knowledge)} entries into {args.business_id}"


def widget_origins(store: Store, args: argparse.Namespace) -> Result:
    business = _business(store, args.business_id)
    origins = normalize_origins(business.allowed_origins)
    for origin in normalize_origins(args.remove):
        if origin not in origins:
            raise AdminError(
                f"{origin} is not an allowed origin of {business.business_id}"
            )
        origins.remove(origin)
    origins = normalize_origins([*origins, *args.add])

    changes: dict[str, Any] = {}
    if origins != business.allowed_origins:
        changes["allowed_origins"] = origins
    if business.widget_key is None:
        changes["widget_key"] = new_widget_key()
    if changes:
        business = store.update_business(business.business_id, **changes)

    result = {
        "business_id": business.business_id,
        "widget_key": business.widget_key,
        "allowed_origins": business.allowed_origins,
    }
    text = f"widget key {business.widget_key}\n" + "\n".join(
        business.allowed_origins or ["no allowed origins"]
    )
    return result, text


def _business(store: Store, business_id: str) -> Business:
    business = store.get_business(business_id)
    if business is None:
        raise AdminError(
            f"no business {business_id!r}: see `python -m tools.admin business list`"
        )
    return business


# Command line.


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m tools.admin", description=__doc__.split("\n")[0])
    output = argparse.ArgumentParser(add_help=False)
    output.add_argument("--json", action="store_true", help="print one JSON object")
    profile = argparse.ArgumentParser(add_help=False)
    profile.add_argument("--status", help="trialing, active, past_due or suspended")
    profile.add_argument("--plan")
    profile.add_argument("--time-zone", help="IANA name, e.g. America/New_York")
    profile.add_argument("--greeting")
    profile.add_argument("--address")
    profile.add_argument("--transfer-number", help="E.164 number calls go to")
    profile.add_argument(
        "--owner-contact",
        action="append",
        help="E.164 number for owner notifications (repeat; replaces the list)",
    )
    profile.add_argument("--stripe-customer-id")
    groups = parser.add_subparsers(dest="group", required=True, parser_class=_Parser)

    def command(
        group: Any, name: str, run: Command, parents: Sequence[Any] = ()
    ) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = group.add_parser(
            name, parents=[output, *parents]
        )
        sub.set_defaults(run=run)
        return sub

    def subcommands(name: str) -> Any:
        group = groups.add_parser(name)
        return group.add_subparsers(dest="command", required=True, parser_class=_Parser)

    business = subcommands("business")
    create = command(business, "create", business_create, [profile])
    create.add_argument("name")
    create.add_argument("--id", help="business id; default biz-<name>-<random>")
    command(business, "list", business_list)
    command(business, "show", business_show).add_argument("business_id")
    update = command(business, "update", business_update, [profile])
    update.add_argument("business_id")
    update.add_argument("--name")

    number = subcommands("number")
    for name, run in (("add", number_add), ("remove", number_remove)):
        sub = command(number, name, run)
        sub.add_argument("business_id")
        sub.add_argument("number", help="E.164, e.g. +15551234567")

    key = subcommands("key")
    command(key, "create", key_create).add_argument("business_id")
    command(key, "list", key_list).add_argument("business_id")
    revoke = command(key, "revoke", key_revoke)
    revoke.add_argument("business_id")
    revoke.add_argument("key_id")

    kb = subcommands("kb")
    load = command(kb, "load", kb_load)
    load.add_argument("business_id")
    load.add_argument("file", help="YAML (.yaml, .yml) or Markdown (.md)")

    widget = subcommands("widget")
    origins = command(widget, "origins", widget_origins)
    origins.add_argument("business_id")
    origins.add_argument("--add", action="append", default=[], metavar="ORIGIN")
    origins.add_argument("--remove", action="append", default=[], metavar="ORIGIN")

    admin_alerts.add_commands(subcommands("alerts"), command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        set_settings(load_settings())
        result, text = args.run(get_store(), args)
    except (AdminError, StoreError, SettingsError, SilenceError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
