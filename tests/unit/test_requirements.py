"""The lock files: every package at one exact version with its hashes, the
runtime set free of development tools, and this virtualenv exactly as locked."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^ ;\\]+)")
DEV_TOOLS = {
    "pytest",
    "pytest-timeout",
    "mypy",
    "ruff",
    "schemathesis",
    "hypothesis",
    "supervisor",
    "requests",
    "pyyaml",
}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked(file: str) -> dict[str, str]:
    text = (ROOT / file).read_text()
    pins = {canonical(m[1]): m[2] for m in (PIN.match(line) for line in text.splitlines()) if m}
    # Every requirement is followed by its hashes: pip --require-hashes accepts nothing else.
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text[text.index("\n", text.index("pip-compile")) :].strip())
    for block in blocks[1:]:
        assert "--hash=sha256:" in block, block[:80]
    return pins


def test_every_package_is_locked_with_hashes_and_runtime_versions_agree():
    runtime, dev = locked("requirements.txt"), locked("requirements-dev.txt")
    assert len(runtime) > 30 and len(dev) > len(runtime)
    assert {name: dev[name] for name in runtime} == runtime  # one version of each package


def test_the_runtime_set_carries_no_development_tool():
    assert DEV_TOOLS & set(locked("requirements.txt")) == set()
    assert set(locked("requirements-dev.txt")) >= DEV_TOOLS
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "--require-hashes -r requirements.txt" in dockerfile
    assert "requirements-dev" not in dockerfile


def test_this_virtualenv_is_exactly_what_is_locked():
    installed = {canonical(d.metadata["Name"]): d.version for d in metadata.distributions()}
    mismatched = {name: (version, installed.get(name)) for name, version in locked("requirements-dev.txt").items()
                  if installed.get(name) != version}  # fmt: skip
    assert mismatched == {}
