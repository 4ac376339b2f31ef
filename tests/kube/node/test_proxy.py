"""The service proxy: names, endpoints, rules, restore input, election and the sync loop.

Most tests are pure. The proxy's loop runs against `FakeIptables`, a small interpreter of
`iptables-restore` input over in-memory tables, so partial syncs can be checked to end
in the same tables as a full one. The tests marked `iptables` talk to the real
iptables of the host (root only) with a random cluster tag and remove what they wrote.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import secrets
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from openeks.kube.node.proxy import kernel
from openeks.kube.node.proxy.election import HostLock, _same_file, lock_held_by_other, lock_path
from openeks.kube.node.proxy.iptables import Iptables
from openeks.kube.node.proxy.model import (
    Endpoint,
    build,
    endpoints_object_endpoints,
    service_ports,
    slice_endpoints,
    usable,
)
from openeks.kube.node.proxy.names import (
    MAX_CHAIN_NAME,
    Chains,
    cluster_identity,
    endpoint_hash,
    port_proto_hash,
)
from openeks.kube.node.proxy.proxier import ProxyConfig, ProxyRefused, ServiceProxy
from openeks.kube.node.proxy.restore import cleanup_input, sync_input
from openeks.kube.node.proxy.rules import build_rules, probability
from openeks.kube.node.proxy.tables import Table, other_clusters, parse_save

Obj = dict[str, Any]
CH = Chains("TESTAA")


def svc(name: str, ip: str, *ports: Obj, ns: str = "ns1", **spec: Any) -> Obj:
    return {
        "metadata": {"namespace": ns, "name": name},
        "spec": {"clusterIP": ip, "ports": list(ports), **spec},
    }


def port(number: int = 80, name: str = "p80", **kw: Any) -> Obj:
    return {"name": name, "port": number, "protocol": "TCP", **kw}


def eps(
    service: str, *endpoints: Obj, ns: str = "ns1", pname: str = "p80", number: int = 80
) -> Obj:
    return {
        "metadata": {
            "namespace": ns,
            "name": f"{service}-{secrets.token_hex(2)}",
            "labels": {"kubernetes.io/service-name": service},
        },
        "addressType": "IPv4",
        "ports": [{"name": pname, "port": number, "protocol": "TCP"}],
        "endpoints": list(endpoints),
    }


def ep(ip: str, **conditions: bool) -> Obj:
    return {"addresses": [ip], "conditions": conditions}


# -- names -------------------------------------------------------------------------------


def test_chain_hashes_are_upstreams_without_a_salt() -> None:
    # Values from upstream's pkg/proxy/iptables/proxier_test.go fixtures.
    assert port_proto_hash("ns1/svc1:p80", "tcp") == "XPGD46QRK7WJZT7O"
    assert port_proto_hash("ns2/svc2:p80", "tcp") == "GNZBNJ2PO5MGZ6GT"
    assert endpoint_hash("ns1/svc1:p80", "tcp", "10.180.0.1:80") == "SXIVWICOYRO3J4NJ"
    assert probability(3) == "0.3333333333" and probability(1) == "1.0000000000"


def test_chain_names_fit_iptables_and_differ_between_clusters() -> None:
    other = Chains("TESTBB")
    names = [CH.svc("ns/s:p", "tcp"), CH.sep("ns/s:p", "tcp", "10.0.0.1:80"), CH.ext("ns/s", "udp")]
    names += CH.fixed("nat") + CH.fixed("filter")
    assert all(len(n) <= MAX_CHAIN_NAME for n in names)
    assert CH.svc("ns/s:p", "tcp") == CH.svc("ns/s:p", "tcp") != other.svc("ns/s:p", "tcp")
    assert CH.svc("ns/s:p", "tcp").startswith("OPENEKS-SVC-")
    assert CH.is_fixed_of_other_cluster("OPENEKS-SERVICES-TESTBB") == "TESTBB"
    assert CH.is_fixed_of_other_cluster(CH.services) is None


def test_a_cluster_is_identified_by_its_url_and_ca() -> None:
    one = cluster_identity("https://127.0.0.1:6443", b"ca-1")
    assert one == cluster_identity("https://127.0.0.1:6443/", b"ca-1")
    assert one != cluster_identity("https://127.0.0.1:6444", b"ca-1")
    assert one != cluster_identity("https://127.0.0.1:6443", b"ca-2")
    assert len(one) == 16 and one.isalnum()


# -- model -------------------------------------------------------------------------------


def test_only_services_with_an_ipv4_cluster_ip_are_proxied() -> None:
    assert service_ports(svc("h", "None", port())) == []
    assert service_ports(svc("x", "10.0.0.9", port(), type="ExternalName")) == []
    dual = svc("d", "fd00::1", port(), clusterIPs=["fd00::1", "10.0.0.7"])
    assert [p.cluster_ip for p in service_ports(dual)] == ["10.0.0.7"]
    (unnamed,) = service_ports(svc("u", "10.0.0.8", {"port": 53, "protocol": "UDP"}))
    assert (unnamed.name, unnamed.proto, unnamed.node_port) == ("ns1/u", "udp", 0)


def test_node_ports_external_ips_and_affinity_are_read() -> None:
    spec = {
        "type": "NodePort",
        "externalIPs": ["192.0.2.10", "2001:db8::1"],
        "sessionAffinity": "ClientIP",
        "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 60}},
    }
    (p,) = service_ports(svc("np", "10.0.0.1", port(nodePort=30080), **spec))
    assert (p.node_port, p.external_ips, p.affinity_seconds) == (30080, ("192.0.2.10",), 60)
    (plain,) = service_ports(svc("c", "10.0.0.2", port(nodePort=30081)))
    assert plain.node_port == 0 and plain.affinity_seconds == 0


def test_endpoint_conditions_default_as_upstream() -> None:
    slices = [
        eps(
            "s",
            ep("10.1.0.1"),
            ep("10.1.0.2", ready=False),
            ep("10.1.0.3", ready=False, serving=True, terminating=True),
        ),
        eps("s", ep("10.1.0.1"), ep("fd00::5")),
    ]
    slices[1]["addressType"] = "IPv6"
    found = slice_endpoints(slices)[("p80", "TCP")]
    assert found == [
        Endpoint("10.1.0.1", 80),
        Endpoint("10.1.0.2", 80, ready=False, serving=False),
        Endpoint("10.1.0.3", 80, ready=False, serving=True, terminating=True),
    ]
    assert usable(found) == (Endpoint("10.1.0.1", 80),)
    assert usable(found[1:]) == (found[2],)  # serving-terminating when none is ready
    assert usable(found[1:2]) == ()


def test_endpoints_objects_count_only_for_services_without_slices() -> None:
    kubernetes = svc("kubernetes", "10.100.0.1", port(443, "https", targetPort=6443), ns="default")
    legacy = {
        "metadata": {"namespace": "default", "name": "kubernetes"},
        "subsets": [
            {
                "addresses": [{"ip": "127.0.0.1"}],
                "notReadyAddresses": [{"ip": "127.0.0.2"}],
                "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}],
            }
        ],
    }
    assert len(endpoints_object_endpoints(legacy)[("https", "TCP")]) == 2
    (proxied,) = build([kubernetes], [], [legacy])
    assert proxied.endpoints == (Endpoint("127.0.0.1", 6443),)
    sliced = eps("kubernetes", ep("10.9.9.9"), ns="default", pname="https", number=443)
    (proxied,) = build([kubernetes], [sliced], [legacy])
    assert proxied.endpoints == (Endpoint("10.9.9.9", 443),)


def test_endpoints_match_service_ports_by_name() -> None:
    web = svc("web", "10.0.0.5", port(80, "http"), port(443, "https"))
    slices = [eps("web", ep("10.1.0.2"), ep("10.1.0.1"), pname="http", number=8080)]
    http, https = build([web], slices)
    assert [e.address for e in http.endpoints] == ["10.1.0.1:8080", "10.1.0.2:8080"]
    assert https.endpoints == ()


# -- rules -------------------------------------------------------------------------------


def _one_service(**spec: Any) -> Any:
    return build(
        [svc("svc1", "172.30.0.41", port(nodePort=3001), **spec)],
        [eps("svc1", ep("10.180.0.1"))],
    )


def test_one_service_one_endpoint_has_upstreams_layout() -> None:
    rules = build_rules(Chains("", prefix="KUBE"), _one_service()).tables
    sep = "KUBE-SEP-SXIVWICOYRO3J4NJ"
    assert rules["nat"]["KUBE-SERVICES-"] == [
        '-m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41/32 '
        "--dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O",
        '-m comment --comment "openeks service nodeports; NOTE: this must be the last rule in '
        'this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS-',
    ]
    assert rules["nat"]["KUBE-SVC-XPGD46QRK7WJZT7O"] == [
        f'-m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -j {sep}'
    ]
    assert rules["nat"][sep] == [
        '-m comment --comment "ns1/svc1:p80" -s 10.180.0.1/32 -j KUBE-MARK-MASQ-',
        '-m comment --comment "ns1/svc1:p80" -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80',
    ]
    assert rules["filter"]["KUBE-SERVICES-"] == []


def test_endpoints_are_chosen_with_decreasing_probabilities() -> None:
    ports = build(
        [svc("s", "10.0.0.1", port())], [eps("s", *(ep(f"10.1.0.{i}") for i in (1, 2, 3)))]
    )
    svc_rules = build_rules(CH, ports).tables["nat"][CH.svc("ns1/s:p80", "tcp")]
    assert ["--probability 0.3333333333" in r for r in svc_rules] == [True, False, False]
    assert "--probability 0.5000000000" in svc_rules[1]
    assert "statistic" not in svc_rules[2]


def test_a_service_without_endpoints_is_rejected_not_routed() -> None:
    ports = build([svc("s", "10.0.0.1", port(nodePort=30001), type="NodePort")], [])
    rules = build_rules(CH, ports).tables
    assert [r for r in rules["nat"][CH.services] if "10.0.0.1" in r] == []
    assert rules["nat"][CH.nodeports] == []
    (reject,) = rules["filter"][CH.services]
    assert "-d 10.0.0.1/32 --dport 80 -j REJECT" in reject and "has no endpoints" in reject
    (external,) = rules["filter"][CH.external]
    assert "--dst-type LOCAL -m tcp -p tcp --dport 30001 -j REJECT" in external


def test_node_ports_masquerade_then_load_balance() -> None:
    rules = build_rules(CH, _one_service(type="NodePort", externalIPs=["192.0.2.7"])).tables
    ext, target = CH.ext("ns1/svc1:p80", "tcp"), CH.svc("ns1/svc1:p80", "tcp")
    assert rules["nat"][CH.nodeports] == [
        f'-m comment --comment "ns1/svc1:p80" -m tcp -p tcp --dport 3001 -j {ext}'
    ]
    assert rules["nat"][ext] == [
        '-m comment --comment "masquerade traffic for ns1/svc1:p80 external destinations" '
        f"-j {CH.mark_masq}",
        f"-j {target}",
    ]
    assert any(f"-d 192.0.2.7/32 --dport 80 -j {ext}" in r for r in rules["nat"][CH.services])
    assert rules["nat"][CH.services][-1].endswith(f"-j {CH.nodeports}")


def test_client_ip_affinity_and_masquerade_all() -> None:
    nat = build_rules(CH, _one_service(sessionAffinity="ClientIP"), masquerade_all=True)
    sep = CH.sep("ns1/svc1:p80", "tcp", "10.180.0.1:80")
    rules = nat.tables["nat"][CH.svc("ns1/svc1:p80", "tcp")]
    assert rules[0].endswith(f"-d 172.30.0.41/32 --dport 80 -j {CH.mark_masq}")
    assert f"-m recent --name {sep} --rcheck --seconds 10800 --reap -j {sep}" in rules[1]
    assert rules[2].endswith(f"-j {sep}")
    assert f"-m recent --name {sep} --set -m tcp -p tcp -j DNAT" in nat.tables["nat"][sep][1]


# -- restore input -----------------------------------------------------------------------


class FakeIptables(Iptables):
    """Applies restore input to in-memory tables, as iptables-restore --noflush would."""

    def __init__(self, text: str = "") -> None:
        super().__init__()
        self.tables = parse_save(text) if text else {}
        for name in ("filter", "nat"):
            table = self.tables.setdefault(name, Table())
            for builtin in ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"):
                table.chains.setdefault(builtin, [])
        self.restores: list[str] = []
        self.fail = False

    def available(self) -> bool:
        return True

    async def save(self) -> dict[str, Table]:
        return {n: Table({c: list(r) for c, r in t.chains.items()}) for n, t in self.tables.items()}

    async def restore(self, text: str) -> None:
        if self.fail:
            from openeks.kube.node.proxy.iptables import IptablesError

            raise IptablesError("iptables-restore failed (1): fake")
        self.restores.append(text)
        table = Table()
        for line in text.splitlines():
            if line.startswith("*"):
                table = self.tables[line[1:]]
            elif line.startswith(":"):
                table.chains[line[1:].split()[0]] = []
            elif line[:3] in ("-A ", "-I ", "-D "):
                chain, _, rule = line[3:].partition(" ")
                assert chain in table.chains, f"no chain {chain}"
                if line[1] == "A":
                    table.chains[chain].append(rule)
                elif line[1] == "I":
                    table.chains[chain].insert(0, rule)
                else:
                    table.chains[chain].remove(rule)
            elif line.startswith("-X "):
                name = line[3:]
                assert not table.chains[name], f"{name} not empty"
                assert all(name not in " ".join(r) for r in table.chains.values()), name
                del table.chains[name]

    def ours(self, chains: Chains = CH) -> dict[str, dict[str, list[str]]]:
        def mine(chain: str, rules: list[str]) -> bool:
            return "OPENEKS" in chain or any(chains.tag in rule for rule in rules)

        return {
            n: {c: r for c, r in t.chains.items() if mine(c, r)} for n, t in self.tables.items()
        }


def _apply(fake: FakeIptables, text: str) -> None:
    asyncio.run(fake.restore(text))


def test_a_full_sync_adds_hooks_once_and_deletes_stale_chains() -> None:
    fake = FakeIptables()
    two = build([svc("a", "10.0.0.1", port()), svc("b", "10.0.0.2", port())],
                [eps("a", ep("10.1.0.1")), eps("b", ep("10.1.0.2"))])  # fmt: skip
    text, _, _ = sync_input(build_rules(CH, two), CH, existing=asyncio.run(fake.save()))
    _apply(fake, text)
    assert fake.tables["nat"].chains["PREROUTING"] == [
        f'-m comment --comment "openeks service portals" -j {CH.services}'
    ]
    one = [p for p in two if p.port.service == "a"]
    text, _, _ = sync_input(build_rules(CH, one), CH, existing=asyncio.run(fake.save()))
    assert "-I " not in text
    assert f"-X {CH.svc('ns1/b:p80', 'tcp')}" in text
    _apply(fake, text)
    assert CH.svc("ns1/b:p80", "tcp") not in fake.tables["nat"].chains
    assert len(fake.tables["filter"].chains["FORWARD"]) == 3


def test_partial_syncs_write_only_what_changed_and_end_like_a_full_one() -> None:
    services = [svc(f"s{i}", f"10.0.0.{i}", port()) for i in range(1, 6)]
    slices = [eps(f"s{i}", ep(f"10.1.0.{i}")) for i in range(1, 6)]
    fake = FakeIptables()
    text, _, written = sync_input(
        build_rules(CH, build(services, slices)), CH, existing=asyncio.run(fake.save())
    )
    _apply(fake, text)
    slices[2] = eps("s3", ep("10.1.0.3"), ep("10.1.0.33"))
    del services[4]
    text, _, written = sync_input(build_rules(CH, build(services, slices)), CH, written=written)
    declared = [line for line in text.splitlines() if line.startswith(":OPENEKS-S")]
    # nat SERVICES, s3's SVC and its new SEP; s5's SVC and SEP, to delete
    assert len(declared) == 5
    assert f":{CH.svc('ns1/s1:p80', 'tcp')} " not in text  # unchanged
    assert f"-X {CH.svc('ns1/s5:p80', 'tcp')}" in text
    _apply(fake, text)
    fresh = FakeIptables()
    text, _, _ = sync_input(
        build_rules(CH, build(services, slices)), CH, existing=asyncio.run(fresh.save())
    )
    _apply(fresh, text)
    assert fake.ours() == fresh.ours()


def test_the_periodic_full_sync_repairs_only_what_drifted() -> None:
    ports = build([svc("a", "10.0.0.1", port()), svc("b", "10.0.0.2", port())],
                  [eps("a", ep("10.1.0.1")), eps("b", ep("10.1.0.2"))])  # fmt: skip
    desired = build_rules(CH, ports)
    fake = FakeIptables()
    text, _, written = sync_input(desired, CH, existing=asyncio.run(fake.save()))
    _apply(fake, text)
    text, changes, _ = sync_input(desired, CH, written=written, existing=asyncio.run(fake.save()))
    assert not changes, text
    flushed = CH.sep("ns1/b:p80", "tcp", "10.1.0.2:80")
    fake.tables["nat"].chains[flushed] = []
    fake.tables["nat"].chains["PREROUTING"] = []
    text, changes, _ = sync_input(desired, CH, written=written, existing=asyncio.run(fake.save()))
    assert changes
    assert [line for line in text.splitlines() if line.startswith(":")] == [f":{flushed} - [0:0]"]
    assert f'-I PREROUTING -m comment --comment "openeks service portals" -j {CH.services}' in text
    _apply(fake, text)
    assert len(fake.tables["nat"].chains[flushed]) == 2


def test_cleanup_removes_only_this_clusters_hooks_and_chains() -> None:
    fake = FakeIptables()
    other = Chains("OTHERX")
    ports = build([svc("a", "10.0.0.1", port())], [eps("a", ep("10.1.0.1"))])
    for chains in (CH, other):
        text, _, _ = sync_input(
            build_rules(chains, ports), chains, existing=asyncio.run(fake.save())
        )
        _apply(fake, text)
    text = cleanup_input(asyncio.run(fake.save()), CH)
    _apply(fake, text)
    left = "\n".join(
        f"{c} {r}" for t in fake.tables.values() for c, rs in t.chains.items() for r in rs
    )
    assert CH.tag not in left and other.services in left
    assert other.svc("ns1/a:p80", "tcp") in fake.tables["nat"].chains
    assert cleanup_input(asyncio.run(fake.save()), CH) == ""


def test_other_clusters_are_found_by_their_services_chain() -> None:
    saved = parse_save(
        "*nat\n:OPENEKS-SERVICES-OTHERX - [0:0]\n:OPENEKS-SERVICES-TESTAA - [0:0]\n"
        "-A OPENEKS-SERVICES-OTHERX -m tcp -p tcp -d 10.100.0.1/32 --dport 443 -j X\n"
        "-A OPENEKS-SERVICES-TESTAA -d 10.100.0.9/32 -j Y\nCOMMIT\n"
    )
    assert other_clusters(saved, CH) == {"OTHERX": {"10.100.0.1"}}


# -- election and kernel settings --------------------------------------------------------


def test_the_host_lock_elects_one_holder_at_a_time(tmp_path: Path) -> None:
    path = lock_path(tmp_path / "run", "ABCDEF1234567890")
    first, second = HostLock(path), HostLock(path)
    assert first.try_acquire() and first.held
    assert not second.try_acquire() and not second.held
    assert lock_held_by_other(tmp_path / "run", "ABCDEF")
    assert not lock_held_by_other(tmp_path / "run", "ZZZZZZ")
    first.release()
    assert second.try_acquire()
    second.release()
    assert not lock_held_by_other(tmp_path / "run", "ABCDEF")


def test_a_lock_file_unlinked_by_a_stopping_leader_is_not_a_lock(tmp_path: Path) -> None:
    path = lock_path(tmp_path, "ABCDEF1234567890")
    leader = HostLock(path)
    assert leader.try_acquire()
    waiter = os.open(path, os.O_RDWR)  # a follower that opened the file just before...
    leader.release(unlink=True)  # ...the leader removed it and let go
    assert not path.exists()
    fcntl.flock(waiter, fcntl.LOCK_EX | fcntl.LOCK_NB)  # it gets a lock on a dead inode,
    assert not _same_file(waiter, path)  # which try_acquire refuses to count
    os.close(waiter)
    follower = HostLock(path)
    assert follower.try_acquire() and path.exists()
    follower.release()


def test_bridge_settings_are_applied_to_the_bridge_and_its_ports(tmp_path: Path) -> None:
    proc, sys_net = tmp_path / "proc", tmp_path / "sys"
    (proc / "ipv4" / "conf" / "oe-n1").mkdir(parents=True)
    (proc / "ipv4" / "conf" / "oe-n1" / "route_localnet").write_text("0\n")
    for veth in ("oev1", "oev2"):
        (sys_net / "oe-n1" / "brif" / veth).mkdir(parents=True)
        (sys_net / "oe-n1" / "brif" / veth / "hairpin_mode").write_text("0\n")
    changed = kernel.tune_bridge("oe-n1", proc, sys_net)
    assert changed == ["oe-n1:route_localnet", "oev1:hairpin", "oev2:hairpin"]
    assert kernel.tune_bridge("oe-n1", proc, sys_net) == []
    assert kernel.tune_bridge("oe-absent", proc, sys_net) == []
    assert not kernel.bridge_netfilter(proc)
    (proc / "bridge").mkdir()
    (proc / "bridge" / "bridge-nf-call-iptables").write_text("0\n")
    assert kernel.bridge_netfilter(proc)


def test_the_proxy_is_on_for_runc_nodes_unless_turned_off() -> None:
    import argparse

    from openeks.kube.node.config import NodeConfig, add_arguments

    def config(**kw: Any) -> NodeConfig:
        return NodeConfig(client=None, name="n", **kw)  # type: ignore[arg-type]

    assert config().proxy_enabled and not config(runtime="simulated").proxy_enabled
    assert not config(proxy=False).proxy_enabled
    assert config(runtime="simulated", proxy=True).proxy_enabled
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--kubeconfig", "k", "--name", "n", "--no-proxy"])
    assert args.no_proxy and not parser.parse_args(["--kubeconfig", "k", "--name", "n"]).no_proxy


# -- the proxy loop ----------------------------------------------------------------------


class Source:
    """A stand-in informer: a list of objects and the handlers of the proxy."""

    def __init__(self, *items: Obj) -> None:
        self.items = list(items)
        self.handlers: list[Any] = []

    def list(self, namespace: str = "") -> list[Obj]:
        return list(self.items)

    def on(self, add: Any = None, update: Any = None, delete: Any = None) -> None:
        self.handlers.append(add)

    async def wait_synced(self, timeout: float | None = None) -> None:
        return None

    def change(self, *items: Obj) -> None:
        self.items = list(items)
        for handler in self.handlers:
            handler(items[0] if items else {})


def _proxy(tmp_path: Path, fake: FakeIptables, services: Source, slices: Source) -> ServiceProxy:
    config = ProxyConfig(
        identity="TESTAA" + "0" * 10,
        lock_dir=tmp_path / "locks",
        debounce=0.05,
        max_delay=0.2,
        poll_interval=0.05,
    )
    return ServiceProxy(
        None, config, services=services, slices=slices, endpoints=Source(), iptables=fake
    )


async def test_the_leader_syncs_debounced_changes_and_cleans_up_on_stop(tmp_path: Path) -> None:
    fake = FakeIptables()
    services = Source(svc("a", "10.0.0.1", port()))
    slices = Source(eps("a", ep("10.1.0.1")))
    proxy = _proxy(tmp_path, fake, services, slices)
    proxy.start()
    try:
        for _ in range(100):
            if fake.restores:
                break
            await asyncio.sleep(0.02)
        assert proxy.leading and proxy.stats.full and len(fake.restores) == 1
        for i in range(2, 6):  # a burst of changes: one partial sync
            slices.change(eps("a", *(ep(f"10.1.0.{j}") for j in range(1, i))))
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.4)
        assert len(fake.restores) == 2 and not proxy.stats.full
        assert len([c for c in fake.tables["nat"].chains if "SEP" in c]) == 4
        services.change(*services.items)  # nothing changed: no restore
        await asyncio.sleep(0.3)
        assert len(fake.restores) == 2 and proxy.stats.skipped == 1
    finally:
        await proxy.stop()
    assert not proxy.leading
    assert not any(CH.tag in c for t in fake.tables.values() for c in t.chains)


async def test_a_second_proxy_takes_over_when_the_first_stops(tmp_path: Path) -> None:
    fake = FakeIptables()
    services, slices = Source(svc("a", "10.0.0.1", port())), Source(eps("a", ep("10.1.0.1")))
    first, second = (_proxy(tmp_path, fake, services, slices) for _ in range(2))
    first.start()
    await asyncio.sleep(0.1)
    second.start()
    try:
        await asyncio.sleep(0.2)
        assert first.leading and not second.leading
        await first.stop()
        for _ in range(50):
            if second.stats.count:
                break
            await asyncio.sleep(0.02)
        assert second.leading and second.stats.count == 1
        assert CH.svc("ns1/a:p80", "tcp") in fake.tables["nat"].chains
    finally:
        await first.stop()
        await second.stop()


async def test_a_live_cluster_with_the_same_cluster_ip_blocks_the_first_sync(
    tmp_path: Path,
) -> None:
    other = Chains("OTHERX")
    fake = FakeIptables()
    ports = build([svc("kubernetes", "10.0.0.1", port(443, "https"), ns="default")], [])
    text, _, _ = sync_input(build_rules(other, ports), other, existing=await fake.save())
    await fake.restore(text)
    services = Source(svc("a", "10.0.0.1", port()))
    proxy = _proxy(tmp_path, fake, services, Source(eps("a", ep("10.1.0.1"))))
    held = HostLock(lock_path(tmp_path / "locks", "OTHERX" + "1" * 10))
    assert held.try_acquire()
    try:
        proxy.lock.try_acquire()
        with pytest.raises(ProxyRefused, match=r"10\.0\.0\.1"):
            await proxy.sync(full=True)
        held.release()  # the other cluster is gone: its rules are leftovers
        await proxy.sync(full=True)
        assert other.services not in fake.tables["nat"].chains
        assert CH.services in fake.tables["nat"].chains
    finally:
        held.release()
        await proxy.stop()


# -- the real iptables -------------------------------------------------------------------

real_iptables = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("iptables-restore"), reason="needs root and iptables"
)


def _real_tag() -> Chains:
    return Chains("T" + secrets.token_hex(3).upper()[:5])


@real_iptables
async def test_the_rules_load_into_iptables_and_clean_up() -> None:
    chains, ipt = _real_tag(), Iptables()
    ports = build(
        [
            svc("a", "10.199.0.1", port(nodePort=30999), type="NodePort", sessionAffinity="None"),
            svc("b", "10.199.0.2", port(), externalIPs=["192.0.2.99"]),
        ],
        [eps("a", ep("10.244.99.2"), ep("10.244.99.3"))],
    )  # fmt: skip
    try:
        text, _, written = sync_input(build_rules(chains, ports), chains, existing=await ipt.save())
        await ipt.restore(text)
        saved = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
        assert (
            f'-A PREROUTING -m comment --comment "openeks service portals" -j {chains.services}'
            in saved
        )
        assert "--to-destination 10.244.99.3:80" in saved and "REJECT" in saved
        text, _, written = sync_input(build_rules(chains, ports[1:]), chains, written=written)
        await ipt.restore(text)
        assert chains.svc("ns1/a:p80", "tcp") not in (await ipt.save())["nat"].chains
    finally:
        assert await ipt.cleanup(chains)
    saved = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
    assert chains.tag not in saved


@real_iptables
@pytest.mark.slow
async def test_a_thousand_services_with_three_endpoints_sync_quickly() -> None:
    chains, ipt = _real_tag(), Iptables()
    services = [svc(f"s{i}", f"10.198.{i // 250}.{i % 250 + 1}", port()) for i in range(1000)]
    slices = Source(
        *(
            eps(f"s{i}", *(ep(f"10.{100 + j}.{i // 250}.{i % 250 + 1}") for j in range(3)))
            for i in range(1000)
        )
    )
    proxy = ServiceProxy(
        None,
        ProxyConfig(identity=chains.tag + "0" * 10, lock_dir=Path("/tmp/openeks-test-locks")),
        services=Source(*services),
        slices=slices,
        endpoints=Source(),
        iptables=ipt,
    )
    try:
        started = time.monotonic()
        await proxy.sync(full=True)
        full = time.monotonic() - started
        assert proxy.stats.rules == 1000 * (1 + 3 + 3 * 2) + 8
        slices.items[7] = dict(slices.items[7], endpoints=slices.items[7]["endpoints"][:2])
        started = time.monotonic()
        await proxy.sync(full=False)
        partial = time.monotonic() - started
        started = time.monotonic()
        await proxy.sync(full=True)
        check = time.monotonic() - started
        print(f"\nfirst sync {full:.3f}s ({proxy.stats.rules} rules), partial {partial:.3f}s, "
              f"periodic full {check:.3f}s")  # fmt: skip
        assert full < 3.0 and partial < 1.0 and check < 1.5
    finally:
        await ipt.cleanup(chains)
