"""The Kubernetes manifests (deploy/k8s), checked offline: each resource
against the API schemas of the Kubernetes version we target, KEDA's against
its ScaledObject and TriggerAuthentication models, and all of them against
what docs/scaling.md promises (probes on the real endpoints, requests and
limits, no privilege, grace periods longer than the processes' own)."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from cloudcoil.models.keda import v1alpha1 as keda
from jsonschema import Draft202012Validator

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.33.0"
KEDA_KINDS = {"ScaledObject": keda.ScaledObject, "TriggerAuthentication": keda.TriggerAuthentication}


def gunicorn_setting(name: str) -> Any:
    """A constant of gunicorn.conf.py, read without running it (it sets up metrics)."""
    tree = ast.parse((ROOT / "gunicorn.conf.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == [name]:
            return ast.literal_eval(node.value)
    raise LookupError(name)


def resources() -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{path.name}:{document['kind']}/{document['metadata']['name']}", document)
        for path in sorted(MANIFESTS.glob("*.yaml"))
        if path.name != "kustomization.yaml"
        for document in yaml.safe_load_all(path.read_text())
        if document
    ]


RESOURCES = resources()
BY_NAME = {name.split(":", 1)[1]: document for name, document in RESOURCES}
POD_TEMPLATES = [
    (name, document["spec"]["template"]["spec"])
    for name, document in RESOURCES
    if document["kind"] in {"Deployment", "Job"}
]


def test_kustomization_lists_every_manifest():
    kustomization = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())
    files = {path.name for path in MANIFESTS.glob("*.yaml")} - {"kustomization.yaml"}
    assert sorted(kustomization["resources"]) == sorted(files)


def cases(pairs: list[tuple[str, Any]]) -> list[Any]:
    return [pytest.param(value, id=name) for name, value in pairs]


@pytest.mark.parametrize("document", cases([r for r in RESOURCES if r[1]["kind"] not in KEDA_KINDS]))
def test_each_resource_matches_the_kubernetes_api(document):
    # strict: a field the API does not know (a typo) is an error, not ignored.
    kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("document", cases([r for r in RESOURCES if r[1]["kind"] in KEDA_KINDS]))
def test_each_keda_resource_matches_its_schema(document):
    schema = _closed(KEDA_KINDS[document["kind"]].model_json_schema(by_alias=True))
    errors = Draft202012Validator(schema).iter_errors(document)
    assert [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in errors] == []


def test_a_misspelt_keda_field_is_refused():
    scaled = BY_NAME["ScaledObject/orderly-worker"]
    misspelt = {**scaled, "spec": {**scaled["spec"], "maxReplicas": 10}}
    schema = _closed(keda.ScaledObject.model_json_schema(by_alias=True))
    assert not Draft202012Validator(schema).is_valid(misspelt)


@pytest.mark.parametrize("pod", cases(POD_TEMPLATES))
def test_no_pod_runs_privileged_or_writes_its_root_file_system(pod):
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    assert pod["automountServiceAccountToken"] is False
    for container in pod["containers"]:
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False
        assert context["readOnlyRootFilesystem"] is True
        assert context["capabilities"]["drop"] == ["ALL"]
        assert "privileged" not in context
        # The one writable place, where the metrics files and heartbeats go.
        assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]


@pytest.mark.parametrize("pod", cases(POD_TEMPLATES))
def test_every_container_has_requests_and_limits(pod):
    for container in pod["containers"]:
        assert set(container["resources"]["requests"]) == {"cpu", "memory"}
        assert set(container["resources"]["limits"]) == {"cpu", "memory"}


@pytest.mark.parametrize("pod", cases([p for p in POD_TEMPLATES if ":Deployment/" in p[0]]))
def test_every_long_running_container_has_a_liveness_probe_on_something_real(pod):
    (container,) = pod["containers"]
    probe = container["livenessProbe"]
    if "httpGet" in probe:
        assert probe["httpGet"]["path"] in {"/healthz", "/healthcheck"}
    else:
        command = " ".join(probe["exec"]["command"])
        module = command.split("-m ", 1)[1].split()[0] if "python -m" in command else None
        assert module is None or importlib.util.find_spec(module) is not None, command
        assert "--check" in command or "inspect ping" in command


def test_web_is_ready_only_when_it_can_accept_work():
    pod = BY_NAME["Deployment/orderly-web"]["spec"]["template"]["spec"]
    (web,) = pod["containers"]
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"
    # gunicorn's own deadline for requests in flight, plus the preStop pause.
    assert pod["terminationGracePeriodSeconds"] > gunicorn_setting("graceful_timeout") + 5


def test_a_worker_outlasts_its_longest_task_when_told_to_stop():
    import celeryconfig

    pod = BY_NAME["Deployment/orderly-worker"]["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] > celeryconfig.task_time_limit
    # KEDA owns the count, so an apply never resets it.
    assert "replicas" not in BY_NAME["Deployment/orderly-worker"]["spec"]


def test_autoscaling_targets_exist_and_disruption_budgets_cover_them():
    hpa = BY_NAME["HorizontalPodAutoscaler/orderly-web"]["spec"]
    assert f"Deployment/{hpa['scaleTargetRef']['name']}" in BY_NAME
    scaled = BY_NAME["ScaledObject/orderly-worker"]["spec"]
    assert f"Deployment/{scaled['scaleTargetRef']['name']}" in BY_NAME
    (trigger,) = scaled["triggers"]
    assert trigger["metadata"]["queueName"] == "orderly.commands"
    assert f"TriggerAuthentication/{trigger['authenticationRef']['name']}" in BY_NAME
    for name in ("orderly-web", "orderly-worker"):
        selector = BY_NAME[f"PodDisruptionBudget/{name}"]["spec"]["selector"]["matchLabels"]
        assert selector == BY_NAME[f"Deployment/{name}"]["spec"]["selector"]["matchLabels"]


def test_secrets_come_from_secret_objects_only():
    text = "\n".join(path.read_text() for path in MANIFESTS.glob("*.yaml"))
    assert "kind: Secret\n" not in text  # none committed: docs/scaling.md says how to create them
    for _, pod in POD_TEMPLATES:
        for container in pod["containers"]:
            assert "env" not in container  # settings from the ConfigMap, secrets from Secrets


def _closed(schema: dict[str, Any]) -> dict[str, Any]:
    """The model's schema, refusing properties it does not name (as `kubectl
    apply --validate=strict` does for a CRD with a structural schema)."""

    def close(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                node.setdefault("additionalProperties", False)
            for value in node.values():
                close(value)
        elif isinstance(node, list):
            for value in node:
                close(value)

    close(schema)
    return schema
