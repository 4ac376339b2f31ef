"""What RBAC costs: authorized GETs as an RBAC-bound user vs as `system:masters`.

Starts an API server (sqlite), creates 100 Roles and 100 RoleBindings (plus 100
ClusterRoles and ClusterRoleBindings for other users, so the authorizer has real work),
binds one of them to user `dana`, then measures GET throughput and latency with 16
concurrent clients, for `system:masters` (authorizer short-cut) and for `dana` (rules
evaluated), in the same run.

Usage: python bench/rbac.py [--requests 4000]
Target (issue 4): RBAC costs <= 20 %.
"""

from __future__ import annotations

import argparse
import asyncio
import ssl
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
import orjson

from bench.apiserver import CLIENTS, run_concurrent, summary, tls_from_kubeconfig
from openeks.kube.apiserver import pki
from tests.support.apiserver import ApiServerProcess

NS = "bench"
RBAC = "/apis/rbac.authorization.k8s.io/v1"


def user_tls(data_dir: Path, user: str, groups: list[str], scratch: Path) -> ssl.SSLContext:
    ca = pki.KeyPair(
        (data_dir / "pki" / "ca.crt").read_bytes(), (data_dir / "pki" / "ca.key").read_bytes()
    )
    pair = pki.issue_client(ca, user, groups)
    cert, key = scratch / f"{user}.crt", scratch / f"{user}.key"
    cert.write_bytes(pair.cert_pem)
    key.write_bytes(pair.key_pem)
    ctx = ssl.create_default_context(cadata=ca.cert_pem.decode())
    ctx.load_cert_chain(cert, key)
    return ctx


async def setup(url: str, admin: ssl.SSLContext) -> None:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=admin)) as s:

        async def post(path: str, body: dict[str, object]) -> None:
            async with s.post(
                url + path, data=orjson.dumps(body), headers={"Content-Type": "application/json"}
            ) as r:
                assert r.status in (201, 409), await r.text()

        await post(
            "/api/v1/namespaces",
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}},
        )
        await post(
            f"/api/v1/namespaces/{NS}/configmaps",
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "target"},
                "data": {"a": "1"},
            },
        )
        for i in range(100):
            rules = [
                {
                    "apiGroups": [""],
                    "resources": ["configmaps" if i == 99 else f"things{i}"],
                    "verbs": ["get", "list"],
                }
            ]
            await post(
                f"{RBAC}/namespaces/{NS}/roles",
                {
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "Role",
                    "metadata": {"name": f"r{i}"},
                    "rules": rules,
                },
            )
            subject = {
                "kind": "User",
                "name": "dana" if i == 99 else f"user{i}",
                "apiGroup": "rbac.authorization.k8s.io",
            }
            await post(
                f"{RBAC}/namespaces/{NS}/rolebindings",
                {
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "RoleBinding",
                    "metadata": {"name": f"b{i}"},
                    "roleRef": {
                        "apiGroup": "rbac.authorization.k8s.io",
                        "kind": "Role",
                        "name": f"r{i}",
                    },
                    "subjects": [subject],
                },
            )
            await post(
                f"{RBAC}/clusterroles",
                {
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "ClusterRole",
                    "metadata": {"name": f"bench-c{i}"},
                    "rules": [
                        {
                            "apiGroups": ["example.com"],
                            "resources": [f"widgets{i}"],
                            "verbs": ["get"],
                        }
                    ],
                },
            )
            await post(
                f"{RBAC}/clusterrolebindings",
                {
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "ClusterRoleBinding",
                    "metadata": {"name": f"bench-cb{i}"},
                    "roleRef": {
                        "apiGroup": "rbac.authorization.k8s.io",
                        "kind": "ClusterRole",
                        "name": f"bench-c{i}",
                    },
                    "subjects": [
                        {
                            "kind": "Group",
                            "name": f"group{i}",
                            "apiGroup": "rbac.authorization.k8s.io",
                        }
                    ],
                },
            )


async def gets(url: str, tls: ssl.SSLContext, count: int) -> tuple[list[float], float]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=tls, limit=CLIENTS)) as s:

        async def one(i: int) -> None:
            async with s.get(f"{url}/api/v1/namespaces/{NS}/configmaps/target") as r:
                assert r.status == 200, await r.text()
                await r.read()

        await run_concurrent(200, one)  # warm the connections and the authorizer's memo
        return await run_concurrent(count, one)


async def measure(api: ApiServerProcess, scratch: Path, count: int) -> list[str]:
    admin = tls_from_kubeconfig(api.kubeconfig, scratch)
    await setup(api.url, admin)
    dana = user_tls(api.data_dir, "dana", ["dev"], scratch)
    out = []
    results = {}
    for rnd in range(3):
        for name, tls in (("system:masters", admin), ("RBAC user", dana)):
            lat, elapsed = await gets(api.url, tls, count)
            results.setdefault(name, []).append(len(lat) / elapsed)
            if rnd == 2:
                out.append(summary(f"get as {name}", lat, elapsed))
    masters = sorted(results["system:masters"])[1]
    rbac = sorted(results["RBAC user"])[1]
    out.append(
        f"  RBAC cost (median of 3 rounds): {100 * (1 - rbac / masters):.1f} %  "
        f"({rbac:.0f}/s vs {masters:.0f}/s)"
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=4000)
    args = parser.parse_args()
    print("openeks RBAC benchmark: 100 Roles + 100 RoleBindings + 100 ClusterRoles + 100 bindings")
    with (
        tempfile.TemporaryDirectory(prefix="openeks-rbac-") as tmp,
        ApiServerProcess(Path(tmp) / "kube") as api,
    ):
        for line in asyncio.run(measure(api, Path(tmp), args.requests)):
            print(line)


if __name__ == "__main__":
    main()
