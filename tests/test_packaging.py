"""The lock files keep in step with pyproject.toml, and reader/ imports only what it depends on.

`requirements-dev.lock` (what scripts/setup installs) and `requirements.lock` (what `pip install .`
gets, checked by scripts/check-install) are written by scripts/lock: exact versions with hashes,
one universal resolution, its entries told apart by markers. A dependency added to pyproject.toml
without running scripts/lock fails here, on every platform and Python the lock is for.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from tests.conftest import ROOT

RUNTIME_LOCK = ROOT / "requirements.lock"
DEV_LOCK = ROOT / "requirements-dev.lock"
FIX = "run scripts/lock"

#: The environments the lock must serve: CPython 3.11 to 3.13 (3.11 on both sides of 3.11.5,
#: where soupsieve's own support starts) on Linux x86_64, where CI and servers run, and on the
#: desktops editors use.
PLATFORMS: dict[str, dict[str, str]] = {
    "linux-x86_64": {
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": "x86_64",
        "os_name": "posix",
    },
    "macos-arm64": {
        "sys_platform": "darwin",
        "platform_system": "Darwin",
        "platform_machine": "arm64",
        "os_name": "posix",
    },
    "windows-amd64": {
        "sys_platform": "win32",
        "platform_system": "Windows",
        "platform_machine": "AMD64",
        "os_name": "nt",
    },
}
PYTHONS = ("3.11.0", "3.11.9", "3.12.9", "3.13.3")


def _environment(platform: str, python: str) -> dict[str, str]:
    return {
        **PLATFORMS[platform],
        "python_version": ".".join(python.split(".")[:2]),
        "python_full_version": python,
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "implementation_version": python,
        "extra": "",
    }


ENVIRONMENTS = {
    f"{platform}-py{python}": _environment(platform, python)
    for platform in PLATFORMS
    for python in PYTHONS
}


@dataclass(frozen=True)
class Pin:
    """One entry of a lock file: `name==version ; marker` and its hashes."""

    name: NormalizedName
    requirement: Requirement
    hashes: tuple[str, ...]

    @property
    def version(self) -> Version | None:
        """The exact version, or None if the entry is not pinned with a single `==`."""
        specifiers = list(self.requirement.specifier)
        if len(specifiers) != 1 or specifiers[0].operator != "==" or "*" in specifiers[0].version:
            return None
        return Version(specifiers[0].version)

    def applies(self, environment: Mapping[str, Any]) -> bool:
        marker = self.requirement.marker
        return marker is None or marker.evaluate(dict(environment))


def read_lock(path: Path) -> list[Pin]:
    """The entries of a pip requirements file with hashes (as uv and pip-compile write them)."""
    text = path.read_text(encoding="utf-8").replace("\\\n", " ")
    pins = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        requirement = Requirement(line.split(" --", 1)[0].strip())
        hashes = tuple(re.findall(r"--hash=(\S+)", line))
        pins.append(Pin(canonicalize_name(requirement.name), requirement, hashes))
    return pins


def resolved(pins: list[Pin], environment: Mapping[str, Any]) -> dict[NormalizedName, list[Pin]]:
    """The lock's entries that apply in `environment`, by name."""
    found: dict[NormalizedName, list[Pin]] = {}
    for pin in pins:
        if pin.applies(environment):
            found.setdefault(pin.name, []).append(pin)
    return found


def _project() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as file:
        project: dict[str, Any] = tomllib.load(file)["project"]
    return project


def runtime_requirements() -> list[Requirement]:
    return [Requirement(text) for text in _project()["dependencies"]]


def dev_requirements() -> list[Requirement]:
    return [Requirement(text) for text in _project()["optional-dependencies"]["dev"]]


def _unlocked(requirements: list[Requirement], pins: list[Pin], lock: Path) -> list[str]:
    """Each requirement that the lock does not pin, in an environment where the requirement
    applies, to exactly one version satisfying it, with those environments."""
    where: dict[str, list[str]] = {}
    for env_name, environment in ENVIRONMENTS.items():
        available = resolved(pins, environment)
        for requirement in requirements:
            marker = requirement.marker
            if marker is not None and not marker.evaluate(dict(environment)):
                continue
            found = available.get(canonicalize_name(requirement.name), [])
            versions = [pin.version for pin in found]
            if len(versions) != 1 or versions[0] is None:
                problem = f"{requirement} is locked as {[str(v) for v in versions] or 'nothing'}"
            elif not requirement.specifier.contains(versions[0], prereleases=True):
                problem = f"{requirement} is locked at {versions[0]}"
            else:
                continue
            where.setdefault(problem, []).append(env_name)
    everywhere = list(ENVIRONMENTS)
    return [
        f"{lock.name}: {problem} ({'everywhere' if envs == everywhere else ', '.join(envs)})"
        for problem, envs in where.items()
    ]


def test_runtime_dependencies_are_pinned_in_both_locks() -> None:
    requirements = runtime_requirements()
    problems = _unlocked(requirements, read_lock(RUNTIME_LOCK), RUNTIME_LOCK)
    problems += _unlocked(requirements, read_lock(DEV_LOCK), DEV_LOCK)
    assert not problems, f"{FIX}:\n" + "\n".join(problems)


def test_dev_dependencies_are_pinned_in_the_dev_lock() -> None:
    problems = _unlocked(dev_requirements(), read_lock(DEV_LOCK), DEV_LOCK)
    assert not problems, f"{FIX}:\n" + "\n".join(problems)


def test_the_extras_asked_for_are_locked() -> None:
    """`uvicorn[standard]` brings packages of its own: the locks hold them too (for this
    interpreter, as the installed distribution's metadata says)."""
    runtime = runtime_requirements()
    problems = []
    for lock, requirements in ((RUNTIME_LOCK, runtime), (DEV_LOCK, runtime + dev_requirements())):
        locked = resolved(read_lock(lock), default_environment())
        for requirement in requirements:
            for extra in sorted(requirement.extras):
                for text in importlib.metadata.requires(requirement.name) or []:
                    wanted = Requirement(text)
                    brought = wanted.marker is None or wanted.marker.evaluate({"extra": extra})
                    if brought and canonicalize_name(wanted.name) not in locked:
                        problems.append(f"{lock.name}: {wanted} (for {requirement})")
    assert not problems, f"{FIX}:\n" + "\n".join(problems)


@pytest.mark.parametrize("lock", [RUNTIME_LOCK, DEV_LOCK], ids=lambda path: path.name)
def test_every_pin_is_exact_and_hashed(lock: Path) -> None:
    pins = read_lock(lock)
    assert pins
    loose = [str(pin.requirement) for pin in pins if pin.version is None]
    unhashed = [pin.name for pin in pins if not pin.hashes]
    not_sha256 = [pin.name for pin in pins if not all(h.startswith("sha256:") for h in pin.hashes)]
    assert (loose, unhashed, not_sha256) == ([], [], [])


@pytest.mark.parametrize("env_name", sorted(ENVIRONMENTS))
def test_the_runtime_lock_installs_what_the_dev_lock_does(env_name: str) -> None:
    """`pip install .` and scripts/setup give the same versions of what they share."""
    environment = ENVIRONMENTS[env_name]
    runtime = resolved(read_lock(RUNTIME_LOCK), environment)
    dev = resolved(read_lock(DEV_LOCK), environment)
    versions = {name: [str(pin.version) for pin in pins] for name, pins in runtime.items()}
    assert versions == {
        name: [str(pin.version) for pin in dev.get(name, [])] for name in runtime
    }, FIX


def _runtime_imports(nodes: Iterable[ast.AST]) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements among `nodes` and inside them, but those under `if TYPE_CHECKING:`."""
    for node in nodes:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from _runtime_imports(node.orelse)
        else:
            yield from _runtime_imports(ast.iter_child_nodes(node))


def third_party_imports() -> dict[str, list[str]]:
    """Top-level modules that reader/ imports from outside itself and the standard library,
    each with the files that import it."""
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "reader").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in _runtime_imports([tree]):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if node.level == 0 else []
            else:
                names = [alias.name for alias in node.names]
            for name in names:
                top = name.split(".", 1)[0]
                if top and top != "reader" and top not in sys.stdlib_module_names:
                    found.setdefault(top, []).append(str(path.relative_to(ROOT)))
    return found


def test_reader_imports_only_what_it_depends_on_at_run_time() -> None:
    """A module reader/ imports belongs to a distribution named in `dependencies`, not only
    in the dev extras nor only brought in by another dependency: `pip install .` has it."""
    imports = third_party_imports()
    assert {"fastapi", "lxml", "jieba"} <= set(imports)  # the scan sees the imports
    runtime = {canonicalize_name(requirement.name) for requirement in runtime_requirements()}
    distributions = importlib.metadata.packages_distributions()
    problems = []
    for module, files in sorted(imports.items()):
        names = {canonicalize_name(name) for name in distributions.get(module, [])}
        if not names & runtime:
            owner = ", ".join(sorted(names)) or "no installed distribution"
            problems.append(f"{module} ({owner}), imported by {', '.join(sorted(set(files)))}")
    assert not problems, "add to [project] dependencies, then run scripts/lock:\n" + "\n".join(
        problems
    )
