"""The import rules of the layout (docs/architecture.md): each folder imports
only the folders below it, and the two entry points never import each other.

    web/, workers/          entry points: blueprints and CLI; Celery app, tasks, process mains
    orders/                 orders and jobs
    webhooks/, stream/, access/  webhooks; the Kafka event stream; API keys and limits (none imports another)
    infra/                  database, Redis, broker, errors, fault points, bootstrap
    models/, telemetry/     tables and enums; logs and metrics
    config.py               settings
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BASE = {"config"}
ALLOWED: dict[str, set[str]] = {
    "config": set(),
    "models": set(),
    "telemetry": BASE,
    "infra": BASE | {"models", "telemetry"},
    "celeryconfig": BASE | {"infra"},
    "access": BASE | {"models", "telemetry", "infra"},
    "webhooks": BASE | {"models", "telemetry", "infra"},
    "stream": BASE | {"models", "telemetry", "infra"},
    "orders": BASE | {"models", "telemetry", "infra", "webhooks", "stream"},
    "web": BASE | {"models", "telemetry", "infra", "access", "webhooks", "stream", "orders", "celeryconfig"},
    "workers": BASE | {"models", "telemetry", "infra", "access", "webhooks", "stream", "orders", "celeryconfig"},
}


def first_party_imports(path: Path) -> list[tuple[int, str]]:
    """(line, top-level package) of every import of the project's own code, in
    functions too (a late import is still an arrow)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [(node.lineno, name.split(".")[0]) for name in names if name.split(".")[0] in ALLOWED]
    return found


def sources(layer: str) -> list[Path]:
    folder = ROOT / layer
    return sorted(folder.rglob("*.py")) if folder.is_dir() else [ROOT / f"{layer}.py"]


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_a_layer_imports_only_the_layers_below_it(layer):
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {imported}"
        for path in sources(layer)
        for line, imported in first_party_imports(path)
        if imported != layer and imported not in ALLOWED[layer]
    ]
    assert not wrong, "\n".join(wrong)


def test_every_package_of_the_project_has_a_rule():
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "bench", "client"}
    assert packages <= set(ALLOWED), packages - set(ALLOWED)
