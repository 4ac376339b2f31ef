"""A container's environment and argv, computed as kubelet computes them.

- `expand`: `$(VAR)` references (third_party/forked/golang/expansion): a defined name is
  replaced, an undefined one stays as written, `$$` is a literal `$`.
- `container_env`: envFrom sources in order, then `env` entries (each expanded against
  what is defined so far, then the service variables), then the service variables not
  already defined — upstream's makeEnvironmentVariables. Missing sources that are not
  optional raise `EnvError` with kubelet's message, which becomes the container's
  `CreateContainerConfigError`.
- `field_value` / `resource_value`: the downward API, shared with downwardAPI volumes.
- `service_env`: the Docker-links-style variables of Services (`FOO_SERVICE_HOST`, ...).
- `container_argv`: `command` replaces the image's entrypoint, `args` its cmd.

Everything here is pure; configMaps and secrets are fetched beforehand and passed in.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from openeks.kube.api.validation.quantity import parse as parse_quantity

Obj = dict[str, Any]


class EnvError(Exception):
    """A container's environment cannot be built (reason CreateContainerConfigError)."""


# -- $(VAR) expansion ----------------------------------------------------------------------


def expand(text: str, lookup: Callable[[str], str | None]) -> str:
    """Replace `$(NAME)` with its value where `lookup` knows NAME; `$$` escapes a `$`."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch != "$" or i + 1 >= n:
            out.append(ch)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "(":
            end = text.find(")", i + 2)
            if end < 0:
                out.append("$(")
                i += 2
                continue
            name = text[i + 2 : end]
            value = lookup(name) if name else None
            out.append(value if value is not None else text[i : end + 1])
            i = end + 1
        else:
            out.append(ch + nxt)
            i += 2
    return "".join(out)


def mapping(*maps: Mapping[str, str]) -> Callable[[str], str | None]:
    def lookup(name: str) -> str | None:
        for m in maps:
            if name in m:
                return m[name]
        return None

    return lookup


# -- the downward API ----------------------------------------------------------------------


@dataclass
class PodContext:
    """What the downward API may read besides the pod: addresses and node allocatable."""

    pod: Obj
    pod_ips: list[str] = field(default_factory=list)
    host_ips: list[str] = field(default_factory=list)
    allocatable: dict[str, str] = field(default_factory=dict)


def _subscript(path: str, prefix: str) -> str | None:
    """`metadata.labels['app']` → `app`."""
    if path.startswith(prefix + "[") and path.endswith("]"):
        inner = path[len(prefix) + 1 : -1]
        if len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "'\"":
            return inner[1:-1]
    return None


def format_map(values: Mapping[str, str]) -> str:
    """`key="value"` lines in key order (upstream FormatMap, for labels/annotations files)."""
    import json

    return "\n".join(f"{k}={json.dumps(values[k], ensure_ascii=False)}" for k in sorted(values))


def field_value(ctx: PodContext, path: str) -> str:
    """A fieldRef's value; raises EnvError for paths the API does not support."""
    pod_meta = ctx.pod.get("metadata") or {}
    spec = ctx.pod.get("spec") or {}
    simple = {
        "metadata.name": pod_meta.get("name", ""),
        "metadata.namespace": pod_meta.get("namespace", ""),
        "metadata.uid": pod_meta.get("uid", ""),
        "spec.nodeName": spec.get("nodeName", ""),
        "spec.serviceAccountName": spec.get("serviceAccountName", ""),
        "status.podIP": ctx.pod_ips[0] if ctx.pod_ips else "",
        "status.podIPs": ",".join(ctx.pod_ips),
        "status.hostIP": ctx.host_ips[0] if ctx.host_ips else "",
        "status.hostIPs": ",".join(ctx.host_ips),
    }
    if path in simple:
        return str(simple[path])
    if path == "metadata.labels":
        return format_map(pod_meta.get("labels") or {})
    if path == "metadata.annotations":
        return format_map(pod_meta.get("annotations") or {})
    for prefix in ("metadata.labels", "metadata.annotations"):
        key = _subscript(path, prefix)
        if key is not None:
            return str((pod_meta.get(prefix.split(".")[1]) or {}).get(key, ""))
    raise EnvError(f"unsupported fieldPath: {path}")


def _container_named(pod: Obj, name: str) -> Obj | None:
    spec = pod.get("spec") or {}
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        if c.get("name") == name:
            return c
    return None


def resource_value(ctx: PodContext, ref: Obj, default_container: str = "") -> str:
    """A resourceFieldRef's value: limits fall back to node allocatable, rounded up."""
    name = ref.get("containerName") or default_container
    container = _container_named(ctx.pod, name)
    if container is None:
        raise EnvError(f"container {name} not found")
    resource = ref.get("resource", "")
    kind, _, res_name = resource.partition(".")
    if kind not in ("limits", "requests") or res_name not in (
        "cpu",
        "memory",
        "ephemeral-storage",
    ):
        raise EnvError(f"unsupported container resource : {resource}")
    resources = container.get("resources") or {}
    raw = (resources.get(kind) or {}).get(res_name)
    if raw is None and kind == "limits":
        raw = ctx.allocatable.get(res_name)
    value = parse_quantity(raw).value if raw is not None else Fraction(0)
    divisor = parse_quantity(ref.get("divisor") or "1").value or Fraction(1)
    if res_name == "cpu":
        # upstream compares milli values, so a 1m divisor yields millicores.
        milli = math.ceil(value * 1000)
        return str(math.ceil(Fraction(milli) / math.ceil(divisor * 1000)))
    return str(math.ceil(value / divisor))


# -- services ------------------------------------------------------------------------------


def _env_name(name: str) -> str:
    return name.upper().replace("-", "_")


def service_env(services: list[Obj]) -> dict[str, str]:
    """FOO_SERVICE_HOST, FOO_SERVICE_PORT[_NAME], FOO_PORT[_N_PROTO[_PROTO|_PORT|_ADDR]]."""
    env: dict[str, str] = {}
    for svc in services:
        spec = svc.get("spec") or {}
        ip = spec.get("clusterIP") or ""
        ports = spec.get("ports") or []
        if not ip or ip == "None" or not ports:
            continue
        prefix = _env_name(svc["metadata"]["name"])
        env[f"{prefix}_SERVICE_HOST"] = ip
        env[f"{prefix}_SERVICE_PORT"] = str(ports[0].get("port"))
        for port in ports:
            if port.get("name"):
                env[f"{prefix}_SERVICE_PORT_{_env_name(port['name'])}"] = str(port.get("port"))
        host = f"[{ip}]" if ":" in ip else ip
        first = ports[0]
        env[f"{prefix}_PORT"] = f"{first.get('protocol', 'TCP').lower()}://{host}:{first['port']}"
        for port in ports:
            proto = port.get("protocol", "TCP")
            base = f"{prefix}_PORT_{port['port']}_{proto.upper()}"
            env[base] = f"{proto.lower()}://{host}:{port['port']}"
            env[f"{base}_PROTO"] = proto.lower()
            env[f"{base}_PORT"] = str(port["port"])
            env[f"{base}_ADDR"] = ip
    return env


def services_for_pod(pod: Obj, services: list[Obj]) -> list[Obj]:
    """The `kubernetes` Service always; the pod's namespace's with enableServiceLinks."""
    namespace = pod["metadata"].get("namespace", "")
    links = (pod.get("spec") or {}).get("enableServiceLinks", True) is not False
    chosen: dict[str, Obj] = {}
    for svc in services:
        m = svc["metadata"]
        if m.get("namespace") == "default" and m.get("name") == "kubernetes":
            chosen.setdefault(m["name"], svc)
        elif m.get("namespace") == namespace and links:
            chosen[m["name"]] = svc
    return [chosen[k] for k in sorted(chosen)]


# -- the container's environment -----------------------------------------------------------


@dataclass
class Sources:
    """ConfigMaps and Secrets of the pod's namespace by name (None: does not exist)."""

    namespace: str
    configmaps: dict[str, Obj | None] = field(default_factory=dict)
    secrets: dict[str, Obj | None] = field(default_factory=dict)

    def configmap_data(self, name: str, optional: bool) -> dict[str, str] | None:
        cm = self.configmaps.get(name)
        if cm is None:
            if optional:
                return None
            raise EnvError(f'configmap "{name}" not found')
        data = dict(cm.get("data") or {})
        for key, value in (cm.get("binaryData") or {}).items():
            data[key] = base64.b64decode(value).decode(errors="replace")
        return data

    def secret_data(self, name: str, optional: bool) -> dict[str, str] | None:
        secret = self.secrets.get(name)
        if secret is None:
            if optional:
                return None
            raise EnvError(f'secret "{name}" not found')
        data = {
            k: base64.b64decode(v).decode(errors="replace")
            for k, v in (secret.get("data") or {}).items()
        }
        data.update(secret.get("stringData") or {})
        return data


def referenced_sources(container: Obj) -> tuple[set[str], set[str]]:
    """Names of the configMaps and secrets a container's env and envFrom read."""
    configmaps: set[str] = set()
    secrets: set[str] = set()
    for source in container.get("envFrom") or ():
        if source.get("configMapRef"):
            configmaps.add(source["configMapRef"].get("name", ""))
        if source.get("secretRef"):
            secrets.add(source["secretRef"].get("name", ""))
    for var in container.get("env") or ():
        value_from = var.get("valueFrom") or {}
        if value_from.get("configMapKeyRef"):
            configmaps.add(value_from["configMapKeyRef"].get("name", ""))
        if value_from.get("secretKeyRef"):
            secrets.add(value_from["secretKeyRef"].get("name", ""))
    return configmaps, secrets


def _env_from(container: Obj, sources: Sources) -> dict[str, str]:
    env: dict[str, str] = {}
    for source in container.get("envFrom") or ():
        prefix = source.get("prefix", "")
        data: dict[str, str] | None = None
        if source.get("configMapRef"):
            ref = source["configMapRef"]
            data = sources.configmap_data(ref.get("name", ""), bool(ref.get("optional")))
        elif source.get("secretRef"):
            ref = source["secretRef"]
            data = sources.secret_data(ref.get("name", ""), bool(ref.get("optional")))
        for key, value in (data or {}).items():
            env[prefix + key] = value
    return env


def _key_ref(ref: Obj, kind: str, sources: Sources) -> str | None:
    name, key, optional = ref.get("name", ""), ref.get("key", ""), bool(ref.get("optional"))
    if kind == "ConfigMap":
        data = sources.configmap_data(name, optional)
    else:
        data = sources.secret_data(name, optional)
    if data is None:
        return None
    if key not in data:
        if optional:
            return None
        raise EnvError(f"couldn't find key {key} in {kind} {sources.namespace}/{name}")
    return data[key]


def _value_from(var: Obj, container: Obj, ctx: PodContext, sources: Sources) -> str | None:
    source = var["valueFrom"]
    if source.get("fieldRef"):
        return field_value(ctx, source["fieldRef"].get("fieldPath", ""))
    if source.get("resourceFieldRef"):
        return resource_value(ctx, source["resourceFieldRef"], container.get("name", ""))
    if source.get("configMapKeyRef"):
        return _key_ref(source["configMapKeyRef"], "ConfigMap", sources)
    if source.get("secretKeyRef"):
        return _key_ref(source["secretKeyRef"], "Secret", sources)
    return None


def container_env(
    container: Obj, ctx: PodContext, sources: Sources, services: Mapping[str, str]
) -> dict[str, str]:
    """The variables kubelet hands the runtime (before the image's own are merged)."""
    env = _env_from(container, sources)
    for var in container.get("env") or ():
        name = var.get("name", "")
        if var.get("valueFrom"):
            value = _value_from(var, container, ctx, sources)
            if value is None:
                continue
        else:
            value = expand(var.get("value", ""), mapping(env, services))
        env[name] = value
    for name, value in services.items():
        env.setdefault(name, value)
    return env


def merge_image_env(image_env: list[str], env: Mapping[str, str]) -> dict[str, str]:
    """The image's `ENV` lines first, the pod's variables over them."""
    merged: dict[str, str] = {}
    for line in image_env:
        key, _, value = line.partition("=")
        merged[key] = value
    merged.update(env)
    return merged


def container_argv(
    container: Obj, entrypoint: list[str], cmd: list[str], env: Mapping[str, str]
) -> list[str]:
    """command replaces the entrypoint (and drops cmd); args replace cmd; both expanded."""
    lookup = mapping(env)
    command = [expand(a, lookup) for a in container.get("command") or []]
    args = [expand(a, lookup) for a in container.get("args") or []]
    if command:
        return command + args
    return list(entrypoint) + (args if container.get("args") else list(cmd))
