"""Reading the Terraform configuration without providers.

`terraform validate` needs the Google provider, which cannot be downloaded
here, so the checks read the HCL with python-hcl2 and evaluate the
provider-free locals (catalogue.tf) with `terraform console`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hcl2
import pytest

ROOT = Path(__file__).resolve().parents[2]
TERRAFORM_DIR = ROOT / "terraform"
CATALOGUE = ROOT / "common" / "alerts" / "catalogue.yaml"
# Files that need nothing but variables and the catalogue to evaluate.
PROVIDER_FREE_FILES = ("variables.tf", "catalogue.tf")


def _normalise(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            _unquote(key): _normalise(item)
            for key, item in value.items()
            if key not in ("__comments__", "__is_block__")
        }
    if isinstance(value, list):
        return [_normalise(item) for item in value]
    if isinstance(value, str):
        return _unquote(value)
    return value


def _unquote(text: str) -> str:
    """`"plain"` -> `plain`; expressions (`${...}`) are left as written."""
    if len(text) >= 2 and text[0] == text[-1] == '"' and "${" not in text:
        return json.loads(text) if "\\" in text else text[1:-1]
    return text


class Config:
    """The whole configuration, blocks merged across files."""

    def __init__(self, folder: Path) -> None:
        self.resources: dict[str, dict[str, dict[str, Any]]] = {}
        self.variables: dict[str, dict[str, Any]] = {}
        self.locals: dict[str, Any] = {}
        self.outputs: dict[str, dict[str, Any]] = {}
        self.data: dict[str, dict[str, dict[str, Any]]] = {}
        self.blocks: dict[str, list[Any]] = {}
        for path in sorted(folder.glob("*.tf")):
            with path.open() as handle:
                parsed = _normalise(hcl2.load(handle))
            for kind, entries in parsed.items():
                self.blocks.setdefault(kind, []).extend(entries)
                for entry in entries:
                    self._add(kind, entry)

    def _add(self, kind: str, entry: dict[str, Any]) -> None:
        if kind == "resource":
            for type_name, named in entry.items():
                self.resources.setdefault(type_name, {}).update(named)
        elif kind == "data":
            for type_name, named in entry.items():
                self.data.setdefault(type_name, {}).update(named)
        elif kind == "variable":
            self.variables.update(entry)
        elif kind == "output":
            self.outputs.update(entry)
        elif kind == "locals":
            self.locals.update(entry)

    def resource(self, type_name: str, name: str) -> dict[str, Any]:
        found = self.resources.get(type_name, {}).get(name)
        assert found is not None, f"terraform/ has no {type_name}.{name}"
        return found


@pytest.fixture(scope="session")
def config() -> Config:
    return Config(TERRAFORM_DIR)


def terraform_binary() -> str:
    binary = shutil.which("terraform")
    if binary is None:
        pytest.skip("terraform is not on PATH (CI installs it): cannot evaluate HCL")
    return binary


class Console:
    """Evaluates expressions over catalogue.tf and variables.tf, offline."""

    def __init__(self, module: Path) -> None:
        self.module = module
        self._env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull}
        self._env.pop("TF_CLI_ARGS", None)
        self._run("init", "-backend=false", "-input=false", "-no-color")

    def _run(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run(
            [terraform_binary(), *args],
            cwd=self.module,
            env=self._env,
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
        )
        # `console` reports errors on stderr yet exits 0.
        if result.returncode != 0 or "Error: " in result.stderr:
            raise TerraformError(result.stderr.strip() or result.stdout.strip())
        return result.stdout

    def evaluate(self, expression: str, **variables: Any) -> Any:
        """The JSON value of `expression` with these variables set."""
        arguments = ["-var=project=test-project", "-var=environment=test"]
        for name, value in variables.items():
            rendered = value if isinstance(value, str) else json.dumps(value)
            arguments.append(f"-var={name}={rendered}")
        out = self._run(
            "console", "-no-color", *arguments, stdin=f"jsonencode({expression})\n"
        )
        return json.loads(json.loads(out.strip().splitlines()[-1]))


class TerraformError(Exception):
    """terraform refused the configuration; the message is its own."""


def _module_with(catalogue_text: str, folder: Path) -> Path:
    module = folder / "terraform"
    module.mkdir(parents=True)
    for name in PROVIDER_FREE_FILES:
        shutil.copy(TERRAFORM_DIR / name, module / name)
    alerts = folder / "common" / "alerts"
    alerts.mkdir(parents=True)
    (alerts / "catalogue.yaml").write_text(catalogue_text)
    return module


@pytest.fixture(scope="session")
def console(tmp_path_factory: pytest.TempPathFactory) -> Console:
    terraform_binary()
    folder = tmp_path_factory.mktemp("terraform-console")
    return Console(_module_with(CATALOGUE.read_text(), folder))


@pytest.fixture
def console_for(tmp_path: Path) -> Callable[[str], Console]:
    """A console over another catalogue text, to prove what drift does."""
    terraform_binary()

    def build(catalogue_text: str) -> Console:
        return Console(_module_with(catalogue_text, tmp_path))

    return build
