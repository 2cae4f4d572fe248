"""How functions and layers are packaged: one lock, per-service artifacts, layers stacked in order.

The measured proof (sizes, ruff, imports from the built artifact alone) is `make package-check`; these tests keep
the template, the Makefiles, the lock and the dev venv agreeing with each other without building anything.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

from scripts.package_check import attached_layers
from stratus.local.template import REPO_ROOT, Template

LOCK = REPO_ROOT / "requirements.lock"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;#]+)")
TEMPLATE = Template.load()
FUNCTIONS = sorted(TEMPLATE.functions())
LAYERS = sorted(TEMPLATE.of_type("AWS::Serverless::LayerVersion"))


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lines: list[str]) -> dict[str, str]:
    found = {}
    for line in lines:
        match = PIN.match(line.strip())
        if match:
            found[canonical(match.group(1))] = match.group(2)
    return found


def locked() -> dict[str, str]:
    return pins(LOCK.read_text().splitlines())


def layer_folder(logical_id: str) -> Path:
    return REPO_ROOT / str(TEMPLATE.resources[logical_id]["Properties"]["ContentUri"])


def base_layers(logical_id: str) -> list[str]:
    """The layers a layer sits on, by logical id (BASE_LAYERS in its Makefile names their folders)."""
    match = re.search(r"^BASE_LAYERS :=(.*)$", (layer_folder(logical_id) / "Makefile").read_text(), re.M)
    assert match, f"{logical_id}: its Makefile declares no BASE_LAYERS"
    by_folder = {layer_folder(layer).resolve(): layer for layer in LAYERS}
    return [by_folder[(REPO_ROOT / "layers" / name).resolve()] for name in match.group(1).split()]


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_every_function_is_built_from_its_own_service_folder_only(logical_id: str) -> None:
    # Given
    resource = TEMPLATE.resources[logical_id]
    service = TEMPLATE.handler(logical_id).split(".", 1)[0]

    # When
    shipped = subprocess.run(
        ["make", "-s", "--no-print-directory", "-f", "functions/Makefile", f"service-of-{logical_id}"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()

    # Then
    assert resource.get("Metadata", {}).get("BuildMethod") == "makefile", f"{logical_id} is not built by make"
    assert shipped == service, f"functions/Makefile ships {shipped or 'nothing'} for {logical_id}, Handler is {service}"


@pytest.mark.parametrize("logical_id", LAYERS)
def test_every_layer_has_a_makefile_target_of_its_own(logical_id: str) -> None:
    makefile = layer_folder(logical_id) / "Makefile"

    assert TEMPLATE.resources[logical_id].get("Metadata", {}).get("BuildMethod") == "makefile"
    assert makefile.is_file(), f"{logical_id}: no {makefile.relative_to(REPO_ROOT)}"
    assert re.search(rf"^build-{logical_id}:", makefile.read_text(), re.M), f"no build-{logical_id} target"


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_a_function_attaches_the_layers_each_of_its_layers_sits_on_before_it(logical_id: str) -> None:
    # Given a layer built without what its base layers ship
    layers = attached_layers(TEMPLATE, logical_id)
    attached = [layer["Ref"] for layer in layers if isinstance(layer, dict) and "Ref" in layer]

    # When
    misplaced = [
        f"{layer} needs {base} attached before it"
        for position, layer in enumerate(attached)
        for base in base_layers(layer)
        if base not in attached[:position]
    ]

    # Then
    assert misplaced == []


def test_every_layer_requirement_is_locked_at_the_version_it_pins() -> None:
    lock = locked()
    requirement_files = sorted((REPO_ROOT / "layers").glob("*/requirements.txt"))

    drift = [
        f"{path.parent.name}: {name}=={version} (lock: {lock.get(name, 'missing, run `make lock`')})"
        for path in requirement_files
        for name, version in pins(path.read_text().splitlines()).items()
        if lock.get(name) != version
    ]

    assert requirement_files
    assert drift == []


def test_dev_extras_pin_the_locked_version_of_every_package_they_share_with_the_layers() -> None:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    lock = locked()

    drift = [
        f"[{extra}] {name}=={version} (lock: {lock[name]})"
        for extra, requirements in project["optional-dependencies"].items()
        for name, version in pins(requirements).items()
        if name in lock and lock[name] != version
    ]

    assert drift == []


def test_the_tests_run_exactly_the_versions_that_deploy() -> None:
    # Given every package of the lock (what the layers are built from)
    lock = locked()

    # When
    installed = {}
    for name in lock:
        try:
            installed[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed[name] = "not installed"

    # Then
    differing = {
        name: f"venv {installed[name]}, lock {version}" for name, version in lock.items() if installed[name] != version
    }
    assert differing == {}, "run `make venv`: the dev venv installs with -c requirements.lock"
