"""Capture real kubectl protobuf request bodies as test vectors (a one-off, run by hand).

kubectl's typed clients send ``application/vnd.kubernetes.protobuf``.  This script
starts a small recording HTTP server on 127.0.0.1, points a throw-away kubeconfig at
it (temporary ``HOME``) and runs each command in ``CASES`` with the venv's kubectl.
The server answers the legacy discovery calls kubectl makes, the few GETs a command
needs (``create job --from``), and echoes every POST body back, so kubectl
believes the create succeeded.  For each case it writes into
``tests/kube/api/protobuf_vectors/``:

* ``<name>.pb`` — the exact protobuf body kubectl POSTed;
* ``<name>.json`` — what kubectl itself prints for ``<command> --dry-run=client -o json``
  (the same object, encoded by Go's JSON encoder), or, for commands that have no dry run
  (``create token``, ``auth``), the object written out in ``HAND_EXPECTED``.

Run::

    .venv/bin/python tools/capture_protobuf_vectors.py [--kubectl PATH] [--out DIR]

The tests read only the files; they never run kubectl.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
PROTOBUF = "application/vnd.kubernetes.protobuf"


@dataclass(frozen=True)
class Case:
    name: str
    argv: list[str]
    dry_run: bool = True


CASES = [
    Case("namespace", ["create", "namespace", "demo"]),
    Case("configmap", ["create", "configmap", "settings", "--from-literal=mode=fast",
                       "--from-literal=empty="]),
    Case("secret_generic", ["create", "secret", "generic", "creds", "--from-literal=user=admin",
                            "--from-literal=password=s3cr3t!"]),
    Case("secret_docker_registry", ["create", "secret", "docker-registry", "regcred",
                                    "--docker-server=registry.example", "--docker-username=u",
                                    "--docker-password=p", "--docker-email=u@example.com"]),
    Case("deployment", ["create", "deployment", "web", "--image=nginx", "--replicas=3",
                        "--port=80"]),
    Case("deployment_zero_replicas", ["create", "deployment", "idle", "--image=nginx",
                                      "--replicas=0"]),
    Case("job", ["create", "job", "once", "--image=busybox", "--", "echo", "hi"]),
    Case("job_from_cronjob", ["create", "job", "manual", "--from=cronjob/tick"]),
    Case("cronjob", ["create", "cronjob", "tick", "--image=busybox", "--schedule=*/5 * * * *",
                     "--restart=OnFailure", "--", "date"]),
    Case("service_nodeport", ["create", "service", "nodeport", "web", "--tcp=80:8080",
                              "--node-port=30080"]),
    Case("service_clusterip_headless", ["create", "service", "clusterip", "headless",
                                        "--clusterip=None", "--tcp=5678"]),
    Case("service_externalname", ["create", "service", "externalname", "ext",
                                  "--external-name=example.com"]),
    Case("serviceaccount", ["create", "serviceaccount", "robot"]),
    Case("role", ["create", "role", "reader", "--verb=get,list", "--resource=pods,deployments.apps",
                  "--resource-name=web"]),
    Case("rolebinding", ["create", "rolebinding", "reader-binding", "--role=reader", "--user=alice",
                         "--serviceaccount=default:robot"]),
    Case("clusterrole_aggregated", ["create", "clusterrole", "monitoring",
                                    "--aggregation-rule=rbac.example.com/aggregate-to-monitoring=true"]),
    Case("clusterrole_nonresource", ["create", "clusterrole", "health", "--verb=get",
                                     "--non-resource-url=/healthz", "--non-resource-url=/livez"]),
    Case("clusterrolebinding", ["create", "clusterrolebinding", "ops-admins",
                                "--clusterrole=cluster-admin", "--group=ops"]),
    Case("quota", ["create", "quota", "compute", "--hard=cpu=1,memory=1G,pods=10",
                   "--scopes=NotBestEffort"]),
    Case("pdb_min_available", ["create", "pdb", "web-pdb", "--selector=app=web",
                               "--min-available=1"]),
    Case("pdb_max_unavailable", ["create", "pdb", "web-pdb-pct", "--selector=app=web",
                                 "--max-unavailable=50%"]),
    Case("priorityclass", ["create", "priorityclass", "high", "--value=1000",
                           "--description=important", "--preemption-policy=Never"]),
    Case("priorityclass_zero_default", ["create", "priorityclass", "low", "--value=0",
                                        "--global-default=true"]),
    Case("ingress", ["create", "ingress", "web", "--class=nginx",
                     "--rule=foo.com/bar*=svc1:8080,tls=my-cert",
                     "--default-backend=defsvc:http", "--annotation=team=blue"]),
    Case("token", ["create", "token", "robot", "--duration=1h", "--audience=api"], dry_run=False),
    Case("auth_can_i", ["auth", "can-i", "get", "pods"], dry_run=False),
    Case("auth_can_i_subresource", ["auth", "can-i", "get", "pods", "--subresource=log",
                                    "--namespace=kube-system"], dry_run=False),
    Case("auth_can_i_nonresource", ["auth", "can-i", "get", "/healthz"], dry_run=False),
    Case("auth_can_i_list", ["auth", "can-i", "--list", "--namespace=kube-system"],
         dry_run=False),
    Case("auth_whoami", ["auth", "whoami"], dry_run=False),
]  # fmt: skip

# Objects kubectl cannot print with --dry-run, written out by hand from the command's
# flags as Go's JSON encoder would print the struct kubectl builds (nil pointers and nil
# slices without omitempty are null, zero Times are null).
HAND_EXPECTED: dict[str, dict[str, Any]] = {
    "token": {
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {},
        "spec": {"audiences": ["api"], "expirationSeconds": 3600, "boundObjectRef": None},
        "status": {"token": "", "expirationTimestamp": None},
    },
    "auth_can_i": {
        "kind": "SelfSubjectAccessReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {},
        "spec": {"resourceAttributes": {"namespace": "default", "verb": "get", "resource": "pods"}},
        "status": {"allowed": False},
    },
    "auth_can_i_subresource": {
        "kind": "SelfSubjectAccessReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {},
        "spec": {
            "resourceAttributes": {
                "namespace": "kube-system",
                "verb": "get",
                "resource": "pods",
                "subresource": "log",
            }
        },
        "status": {"allowed": False},
    },
    "auth_can_i_nonresource": {
        "kind": "SelfSubjectAccessReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {},
        "spec": {"nonResourceAttributes": {"path": "/healthz", "verb": "get"}},
        "status": {"allowed": False},
    },
    "auth_can_i_list": {
        "kind": "SelfSubjectRulesReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {},
        "spec": {"namespace": "kube-system"},
        "status": {"resourceRules": None, "nonResourceRules": None, "incomplete": False},
    },
    "auth_whoami": {
        "kind": "SelfSubjectReview",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {},
        "status": {"userInfo": {}},
    },
}

GROUPS = {
    "apps/v1": ["deployments", "replicasets", "statefulsets", "daemonsets"],
    "batch/v1": ["jobs", "cronjobs"],
    "policy/v1": ["poddisruptionbudgets"],
    "rbac.authorization.k8s.io/v1": ["roles", "rolebindings", "clusterroles",
                                     "clusterrolebindings"],
    "networking.k8s.io/v1": ["ingresses", "ingressclasses", "networkpolicies"],
    "scheduling.k8s.io/v1": ["priorityclasses"],
    "authorization.k8s.io/v1": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
    "authentication.k8s.io/v1": ["selfsubjectreviews", "tokenreviews"],
}  # fmt: skip
CORE = ["pods", "namespaces", "configmaps", "secrets", "services", "serviceaccounts",
        "resourcequotas"]  # fmt: skip
NAMESPACED = {"pods", "configmaps", "secrets", "services", "serviceaccounts", "resourcequotas",
              "deployments", "replicasets", "statefulsets", "daemonsets", "jobs", "cronjobs",
              "poddisruptionbudgets", "roles", "rolebindings", "ingresses",
              "networkpolicies"}  # fmt: skip


def _kind(resource: str) -> str:
    special = {
        "ingresses": "Ingress",
        "priorityclasses": "PriorityClass",
        "networkpolicies": "NetworkPolicy",
        "ingressclasses": "IngressClass",
    }
    words = {
        "poddisruptionbudgets": "PodDisruptionBudget",
        "cronjobs": "CronJob",
        "serviceaccounts": "ServiceAccount",
        "resourcequotas": "ResourceQuota",
        "configmaps": "ConfigMap",
        "replicasets": "ReplicaSet",
        "statefulsets": "StatefulSet",
        "daemonsets": "DaemonSet",
        "rolebindings": "RoleBinding",
        "clusterroles": "ClusterRole",
        "clusterrolebindings": "ClusterRoleBinding",
        "selfsubjectaccessreviews": "SelfSubjectAccessReview",
        "selfsubjectrulesreviews": "SelfSubjectRulesReview",
        "selfsubjectreviews": "SelfSubjectReview",
        "tokenreviews": "TokenReview",
    }
    return special.get(resource) or words.get(resource) or resource[:-1].capitalize()


def _resource_list(group_version: str, resources: list[str]) -> dict[str, Any]:
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": [
            {
                "name": name,
                "singularName": name[:-1],
                "namespaced": name in NAMESPACED,
                "kind": _kind(name),
                "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"],
            }
            for name in resources
        ],
    }


CRONJOB = {
    "kind": "CronJob",
    "apiVersion": "batch/v1",
    "metadata": {"name": "tick", "namespace": "default",
                 "uid": "6f1c1b8e-1111-4222-8333-444455556666"},
    "spec": {
        "schedule": "*/5 * * * *",
        "jobTemplate": {
            "metadata": {"labels": {"app": "tick"}},
            "spec": {
                "backoffLimit": 0,
                "template": {
                    "spec": {
                        "restartPolicy": "OnFailure",
                        "containers": [{"name": "tick", "image": "busybox", "args": ["date"]}],
                    }
                },
            },
        },
    },
}  # fmt: skip


@dataclass
class Recorder:
    posts: list[tuple[str, str, bytes]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        path = request.path
        if request.method == "POST":
            self.posts.append((path, request.headers.get("Content-Type", ""), body))
            if path.endswith("/token"):
                return web.json_response({
                    "kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
                    "metadata": {"name": "robot"}, "spec": {"audiences": ["api"]},
                    "status": {"token": "captured", "expirationTimestamp": "2030-01-01T00:00:00Z"},
                }, status=201)  # fmt: skip
            content_type = request.headers.get("Content-Type", "application/json")
            return web.Response(body=body, status=201, content_type=content_type.split(";")[0])
        return self.get(path)

    def get(self, path: str) -> web.StreamResponse:
        if path == "/api":
            return web.json_response(
                {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}
            )
        if path == "/apis":
            groups = []
            for group_version in GROUPS:
                group, version = group_version.split("/")
                entry = {"groupVersion": group_version, "version": version}
                groups.append({"name": group, "versions": [entry], "preferredVersion": entry})
            return web.json_response({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
        if path == "/api/v1":
            return web.json_response(_resource_list("v1", CORE))
        for group_version, resources in GROUPS.items():
            if path == f"/apis/{group_version}":
                return web.json_response(_resource_list(group_version, resources))
        if path == "/apis/batch/v1/namespaces/default/cronjobs/tick":
            return web.json_response(CRONJOB)
        return web.json_response(
            {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound",
             "code": 404, "message": f"{path} not found"},
            status=404,
        )  # fmt: skip


async def _kubectl(kubectl: str, home: str, kubeconfig: str, argv: list[str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        kubectl, "--kubeconfig", kubeconfig, *argv,
        env={"HOME": home, "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    return process.returncode or 0, out.decode() + err.decode()


async def capture(kubectl: str, out_dir: Path) -> int:
    recorder = Recorder()
    app = web.Application()
    app.router.add_route("*", "/{path:.*}", recorder.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    failures = 0
    with tempfile.TemporaryDirectory() as home:
        kubeconfig = os.path.join(home, "kubeconfig")
        Path(kubeconfig).write_text(
            "apiVersion: v1\nkind: Config\n"
            f"clusters:\n- name: local\n  cluster:\n    server: http://127.0.0.1:{port}\n"
            "contexts:\n- name: local\n  context:\n    cluster: local\n    user: u\n"
            "    namespace: default\n"
            "current-context: local\nusers:\n- name: u\n  user:\n    token: capture\n"
        )
        try:
            for case in CASES:
                recorder.posts.clear()
                code, output = await _kubectl(kubectl, home, kubeconfig, case.argv)
                bodies = [b for _, ctype, b in recorder.posts if ctype.startswith(PROTOBUF)]
                if not bodies:
                    print(f"{case.name}: no protobuf POST (exit {code}): {output}", file=sys.stderr)
                    failures += 1
                    continue
                (out_dir / f"{case.name}.pb").write_bytes(bodies[-1])
                if case.dry_run:
                    cut = case.argv.index("--") if "--" in case.argv else len(case.argv)
                    flags = ["--dry-run=client", "-o", "json"]
                    dry = [*case.argv[:cut], *flags, *case.argv[cut:]]
                    code, output = await _kubectl(kubectl, home, kubeconfig, dry)
                    if "{" not in output:
                        print(f"{case.name}: dry run failed: {output}", file=sys.stderr)
                        failures += 1
                        continue
                    expected = json.loads(output[output.index("{") :])
                else:
                    expected = HAND_EXPECTED[case.name]
                (out_dir / f"{case.name}.json").write_text(json.dumps(expected, indent=2) + "\n")
                print(f"{case.name}: {len(bodies[-1])} bytes", file=sys.stderr)
        finally:
            await runner.cleanup()
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kubectl", default=str(ROOT / ".venv/bin/kubectl"))
    parser.add_argument("--out", type=Path, default=ROOT / "tests/kube/api/protobuf_vectors")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    return 1 if asyncio.run(capture(args.kubectl, args.out)) else 0


if __name__ == "__main__":
    raise SystemExit(main())
