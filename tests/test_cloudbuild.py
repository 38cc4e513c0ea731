"""cloudbuild.yaml runs the same checks as CI before it deploys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

CLOUDBUILD = Path(__file__).resolve().parents[1] / "cloudbuild.yaml"


def _build() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(CLOUDBUILD.read_text())
    return loaded


def _step(build: dict[str, Any], step_id: str) -> dict[str, Any]:
    return next(step for step in build["steps"] if step["id"] == step_id)


def test_build_tests_then_packages_then_plans_then_applies() -> None:
    build = _build()

    assert "make test" in " ".join(_step(build, "test")["args"])
    assert "make package" in " ".join(_step(build, "package")["args"])
    assert _step(build, "package")["waitFor"] == ["test"]
    assert "package" in _step(build, "plan")["waitFor"]
    assert _step(build, "apply")["waitFor"] == ["plan"]
    assert _step(build, "apply")["args"][:1] == ["apply"]
    assert "tfplan" in _step(build, "apply")["args"]


def test_builder_images_are_substitutions_to_pin_by_digest() -> None:
    build = _build()
    text = CLOUDBUILD.read_text()

    for step in build["steps"]:
        if step["id"] == "tfvars":
            continue
        assert step["name"] in ("${_PYTHON_IMAGE}", "${_TERRAFORM_IMAGE}"), step["id"]
    assert "pin them to the digests" in text
