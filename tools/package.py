"""Build one deployable source archive per function.

    python -m tools.package [--out build] [NAME ...]

Each `build/<name>.zip` holds what Cloud Functions builds from: `main.py` at
the root (the function's entry point), the `functions/<name>/` package for
anything `main.py` imports beside itself, `common/` with its data files, and
`requirements.txt` copied from `functions/<name>/requirements.txt`.

Archives are deterministic: sorted entries, fixed timestamps and modes, so
the same code gives the same bytes and Terraform redeploys only what changed.
Tests, local state, caches and anything that looks like a credential are
never packed.
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import json
import sys
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ("twilio_sms", "twilio_voice", "chat", "billing_webhook", "alert_router")
SHARED_PACKAGES = ("common",)

# Zip's earliest representable time: the same for every file, every build.
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_FILE_MODE = 0o100644 << 16
_SKIPPED_DIRS = frozenset({"__pycache__", ".data", "tests", ".pytest_cache"})
_SKIPPED_FILES = (
    "*.pyc",
    "*.pyo",
    ".env*",
    "*.pem",
    "*.key",
    "*.p12",
    "*credentials*.json",
    "*service-account*.json",
    "*.tfvars",
    "*.tfstate*",
    "*.db",
    "*.sqlite*",
)


class PackageError(Exception):
    """The archive cannot be built; the message says what to fix."""


def _packable(path: Path, base: Path) -> bool:
    relative = path.relative_to(base)
    if any(part in _SKIPPED_DIRS for part in relative.parts[:-1]):
        return False
    return not any(fnmatch.fnmatch(path.name, pattern) for pattern in _SKIPPED_FILES)


def _tree(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and _packable(path, folder):
            yield path


def archive_entries(name: str, root: Path = ROOT) -> dict[str, Path | bytes]:
    """Archive path -> source file, for the function `name`."""
    folder = root / "functions" / name
    main = folder / "main.py"
    requirements = folder / "requirements.txt"
    if not main.is_file():
        raise PackageError(f"{main} is missing: is {name!r} a function folder?")
    if not requirements.is_file():
        raise PackageError(
            f"{requirements} is missing: list the pinned packages {name} "
            "deploys with (a subset of the root requirements.txt)"
        )

    entries: dict[str, Path | bytes] = {
        "main.py": main,
        "requirements.txt": requirements,
        "functions/__init__.py": root / "functions" / "__init__.py",
    }
    for path in _tree(folder):
        if path.name != "requirements.txt":
            entries[path.relative_to(root).as_posix()] = path
    for package in SHARED_PACKAGES:
        for path in _tree(root / package):
            entries[path.relative_to(root).as_posix()] = path
    entries["common/alerts/catalogue.json"] = _catalogue_snapshot(root)
    return entries


def _catalogue_snapshot(root: Path) -> bytes:
    """The alert catalogue as JSON, so a cold instance need not import PyYAML."""
    from common.alerts.catalogue import load_catalogue, read_document

    source = root / "common" / "alerts" / "catalogue.yaml"
    load_catalogue(source)  # refuse to pack a catalogue the functions would refuse
    document = read_document(source)
    return json.dumps(document, indent=1, sort_keys=True).encode()


def write_archive(entries: dict[str, Path | bytes], target: Path) -> None:
    """Write `entries` to `target` so that equal inputs give equal bytes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".zip.partial")
    with zipfile.ZipFile(partial, "w") as archive:
        for arcname in sorted(entries):
            info = zipfile.ZipInfo(arcname, date_time=_FIXED_TIME)
            info.external_attr = _FILE_MODE
            info.compress_type = zipfile.ZIP_DEFLATED
            source = entries[arcname]
            data = source if isinstance(source, bytes) else source.read_bytes()
            archive.writestr(info, data, compresslevel=9)
    partial.replace(target)


def build(names: Iterable[str], out: Path, root: Path = ROOT) -> list[Path]:
    archives = []
    for name in names:
        target = out / f"{name}.zip"
        write_archive(archive_entries(name, root), target)
        archives.append(target)
    return archives


def imported_modules(name: str, root: Path = ROOT) -> set[str]:
    """Every module the function's code imports, lazily or not, transitively
    through `common` and `functions`; third-party names are not followed."""
    seen_files: set[Path] = set()
    modules: set[str] = set()
    pending = [root / "functions" / name / "main.py"]
    while pending:
        path = pending.pop()
        if path in seen_files or not path.is_file():
            continue
        seen_files.add(path)
        for module in _imports_of(path, root):
            modules.add(module)
            local = _local_source(module, root)
            if local is not None:
                pending.extend(local)
    return modules


def _imports_of(path: Path, root: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = parts[: len(parts) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            yield base
            for alias in node.names:
                yield f"{base}.{alias.name}"


def _local_source(module: str, root: Path) -> list[Path] | None:
    top = module.split(".")[0]
    if top not in (*SHARED_PACKAGES, "functions"):
        return None
    relative = Path(*module.split("."))
    candidates = [root / relative.with_suffix(".py"), root / relative / "__init__.py"]
    return [path for path in candidates if path.is_file()]


def third_party_modules(name: str, root: Path = ROOT) -> set[str]:
    """Imported modules that come neither from the standard library nor from
    this repository."""
    local = (*SHARED_PACKAGES, "functions", "main")
    return {
        module
        for module in imported_modules(name, root)
        if module.split(".")[0] not in sys.stdlib_module_names
        and module.split(".")[0] not in local
        and module != "__future__"
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", default=list(FUNCTIONS))
    parser.add_argument("--out", type=Path, default=ROOT / "build")
    args = parser.parse_args(argv)

    unknown = sorted(set(args.names) - set(FUNCTIONS))
    if unknown:
        parser.error(f"unknown function {unknown[0]!r}: choose from {FUNCTIONS}")
    try:
        archives = build(args.names, args.out)
    except PackageError as exc:
        print(f"package: {exc}", file=sys.stderr)
        return 1
    for archive in archives:
        print(f"{archive}  {archive.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
