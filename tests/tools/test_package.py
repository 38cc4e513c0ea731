"""The archives `make package` builds deploy as they are."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
import subprocess
import sys
import zipfile
from functools import cache
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tools.package import FUNCTIONS, ROOT, build, third_party_modules

_CREDENTIAL = re.compile(
    rb"-----BEGIN [A-Z ]*PRIVATE KEY-----|\b(?:sk|rk)_live_[0-9A-Za-z]{10,}"
    rb"|\bwhsec_[0-9A-Za-z]{24,}|\bSK[0-9a-f]{32}\b"
)


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("build")
    return {path.stem: path for path in build(FUNCTIONS, out)}


def _names(archive: Path) -> list[str]:
    with zipfile.ZipFile(archive) as opened:
        return opened.namelist()


@pytest.mark.parametrize("name", FUNCTIONS)
def test_archive_holds_entry_point_shared_code_data_and_requirements(
    archives: dict[str, Path], name: str
) -> None:
    names = _names(archives[name])

    assert "main.py" in names
    assert "requirements.txt" in names
    assert "common/settings.py" in names
    assert "common/alerts/catalogue.yaml" in names
    assert f"functions/{name}/main.py" in names


def test_archive_carries_the_catalogue_as_json_equal_to_the_yaml(
    archives: dict[str, Path],
) -> None:
    import json

    import yaml

    with zipfile.ZipFile(archives["twilio_sms"]) as opened:
        snapshot = json.loads(opened.read("common/alerts/catalogue.json"))
    source = yaml.safe_load((ROOT / "common" / "alerts" / "catalogue.yaml").read_text())

    assert snapshot == source


@pytest.mark.parametrize("name", FUNCTIONS)
def test_archive_leaves_out_tests_state_caches_and_credentials(
    archives: dict[str, Path], name: str
) -> None:
    names = _names(archives[name])

    assert not [n for n in names if n.startswith("tests/") or "/tests/" in n]
    assert not [n for n in names if ".data" in n or "__pycache__" in n]
    assert not [n for n in names if n.endswith((".pyc", ".db", ".tfvars", ".pem"))]
    with zipfile.ZipFile(archives[name]) as opened:
        leaks = [n for n in names if _CREDENTIAL.search(opened.read(n))]
    assert leaks == []


def test_same_code_builds_byte_identical_archives(tmp_path: Path) -> None:
    first = build(["chat"], tmp_path / "one")[0]
    os.utime(ROOT / "common" / "settings.py")
    second = build(["chat"], tmp_path / "two")[0]

    assert first.read_bytes() == second.read_bytes()


@pytest.mark.parametrize("name", FUNCTIONS)
def test_archive_imports_from_its_own_contents_alone(
    archives: dict[str, Path], name: str, tmp_path: Path
) -> None:
    with zipfile.ZipFile(archives[name]) as opened:
        opened.extractall(tmp_path / "src")
    source = tmp_path / "src"
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); import main, common; "
        "assert common.__file__.startswith(sys.argv[1]), common.__file__; "
        f"assert callable(main.{name})"
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "ENVIRONMENT": "test",
        "STORE": f"sqlite:///{tmp_path / 'store.db'}",
        "OUTBOX_DIR": str(tmp_path / "outbox"),
    }

    result = subprocess.run(
        [sys.executable, "-I", "-c", script, str(source)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr


def _requirements(path: Path) -> dict[str, Requirement]:
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            requirement = Requirement(line)
            found[_normal(requirement.name)] = requirement
    return found


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_requirements_are_pinned_as_in_the_root_file(name: str) -> None:
    root = _requirements(ROOT / "requirements.txt")
    own = _requirements(ROOT / "functions" / name / "requirements.txt")

    for key, requirement in own.items():
        assert key in root, f"{requirement} is not in the root requirements.txt"
        assert str(requirement.specifier) == str(root[key].specifier), (
            f"functions/{name}/requirements.txt pins {requirement}, "
            f"the root file {root[key]}: keep one version"
        )
        assert str(requirement.specifier).startswith("=="), f"pin {requirement}"


@cache
def _installed_closure(names: frozenset[str]) -> frozenset[str]:
    """The distributions installing `names` brings, dependencies included."""
    seen: set[str] = set()
    pending = list(names)
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        for line in importlib.metadata.requires(current) or []:
            requirement = Requirement(line)
            if requirement.marker and "extra" in str(requirement.marker):
                continue
            if requirement.marker and not requirement.marker.evaluate():
                continue
            pending.append(_normal(requirement.name))
    return frozenset(seen)


@cache
def _file_owners() -> dict[str, str]:
    owners = {}
    for dist in importlib.metadata.distributions():
        for file in dist.files or []:
            owners[str(file.locate().resolve())] = _normal(dist.metadata["Name"])
    return owners


def _distribution_of(module: str) -> str | None:
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        try:
            spec = importlib.util.find_spec(".".join(parts[:end]))
        except (ImportError, ValueError):
            continue
        if spec is not None and spec.origin and spec.origin != "namespace":
            return _file_owners().get(str(Path(spec.origin).resolve()))
    return None


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_requirements_cover_every_import_of_its_code(name: str) -> None:
    own = frozenset(_requirements(ROOT / "functions" / name / "requirements.txt"))
    available = _installed_closure(own)

    missing = {}
    for module in sorted(third_party_modules(name)):
        distribution = _distribution_of(module)
        if distribution is not None and distribution not in available:
            missing[module] = distribution

    assert missing == {}, (
        f"functions/{name}/requirements.txt lacks what its code imports "
        f"(module: distribution): {missing}; add the pins from requirements.txt"
    )
