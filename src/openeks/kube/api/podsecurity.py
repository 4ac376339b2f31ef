"""The Pod Security Standards as pure checks: a pod spec against a level and version.

A port of `k8s.io/pod-security-admission/policy` and `api` as of Kubernetes 1.37: one
function per upstream check revision, each returning upstream's `CheckResult` (reason and
detail, word for word), a registry that picks the revision for a policy version, drops the
Baseline checks a Restricted check overrides, and orders the checks as upstream does
(Baseline check IDs sorted, then Restricted ones) so aggregated messages read
`allowPrivilegeEscalation != false (...), unrestricted capabilities (...), ...` exactly.

Namespace labels parse into a `Policy` (enforce/audit/warn level and version) with
upstream's fail-closed rules for bad values. The admission side (which requests, which
namespace, warnings) is `openeks.kube.apiserver.admission.podsecurity`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from openeks.kube.api import fielderrors

Obj = dict[str, Any]
Version = tuple[int, int] | None
"""(1, minor), or None for `latest`."""

PRIVILEGED, BASELINE, RESTRICTED = "privileged", "baseline", "restricted"
LEVELS = (PRIVILEGED, BASELINE, RESTRICTED)
MAX_VERSION = (1, 37)
LABEL_PREFIX = "pod-security.kubernetes.io/"
MODES = ("enforce", "audit", "warn")
_VERSION = re.compile(r"v1\.([0-9]|[1-9][0-9]*)")


@dataclass(frozen=True)
class CheckResult:
    allowed: bool = True
    reason: str = ""
    detail: str = ""


@dataclass(frozen=True)
class LevelVersion:
    level: str = PRIVILEGED
    version: Version = None

    def __str__(self) -> str:
        v = "latest" if self.version is None else f"v{self.version[0]}.{self.version[1]}"
        return f"{self.level}:{v}"


@dataclass(frozen=True)
class Policy:
    enforce: LevelVersion = LevelVersion()
    audit: LevelVersion = LevelVersion()
    warn: LevelVersion = LevelVersion()

    def fully_privileged(self) -> bool:
        return all(lv.level == PRIVILEGED for lv in (self.enforce, self.audit, self.warn))


@dataclass
class Aggregate:
    reasons: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return not self.reasons

    def forbidden_reason(self) -> str:
        return ", ".join(self.reasons)

    def forbidden_detail(self) -> str:
        return ", ".join(
            f"{r} ({d})" if d else r for r, d in zip(self.reasons, self.details, strict=True)
        )


# -- labels --------------------------------------------------------------------------------
def parse_level(value: str) -> tuple[str, str]:
    """(level, error); a bad value means restricted, as upstream fails closed."""
    if value in LEVELS:
        return value, ""
    return RESTRICTED, "must be one of " + ", ".join(LEVELS)


def parse_version(value: str) -> tuple[Version, str]:
    if value == "latest":
        return None, ""
    match = _VERSION.fullmatch(value)
    if match is None:
        return None, 'must be "latest" or "v1.x"'
    return (1, int(match.group(1))), ""


def policy_for(labels: dict[str, str]) -> tuple[Policy, list[fielderrors.FieldError]]:
    """The namespace's policy (default privileged:latest) and the label errors.

    Bad levels fail closed for enforce (restricted) and open for audit and warn; bad
    versions mean latest. An enforce level set without a warn level also warns at it."""
    errs: list[fielderrors.FieldError] = []
    modes: dict[str, LevelVersion] = {}
    for mode in MODES:
        level, version = PRIVILEGED, None
        key = LABEL_PREFIX + mode
        if key in labels:
            level, err = parse_level(labels[key])
            if err:
                errs.append(fielderrors.invalid(f"metadata.labels[{key}]", labels[key], err))
                if mode != "enforce":
                    level = PRIVILEGED
        if key + "-version" in labels:
            value = labels[key + "-version"]
            version, err = parse_version(value)
            if err:
                errs.append(fielderrors.invalid(f"metadata.labels[{key}-version]", value, err))
        modes[mode] = LevelVersion(level, version)
    enforce_key = LABEL_PREFIX + "enforce"
    enforce_set = enforce_key in labels and labels[enforce_key] in LEVELS
    warn_key = LABEL_PREFIX + "warn"
    if enforce_set and warn_key not in labels:
        enforce, warn = modes["enforce"], modes["warn"]
        if LEVELS.index(enforce.level) > LEVELS.index(warn.level):
            version = warn.version if warn_key + "-version" in labels else enforce.version
            modes["warn"] = LevelVersion(enforce.level, version)
    return Policy(**modes), errs


# -- containers ------------------------------------------------------------------------------
def containers(spec: Obj) -> Iterator[Obj]:
    """Init containers, containers, ephemeral containers: upstream's visiting order."""
    for key in ("initContainers", "containers", "ephemeralContainers"):
        yield from spec.get(key) or ()


def _sc(obj: Obj) -> Obj:
    return obj.get("securityContext") or {}


def _plural(singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


def _quote(items: list[str]) -> str:
    return '"' + '", "'.join(items) + '"' if items else ""


def _named(kind: str, names: list[str]) -> str:
    return f"{_plural(kind, kind + 's', len(names))} {_quote(names)}"


def _windows(spec: Obj) -> bool:
    return (spec.get("os") or {}).get("name") == "windows"


def _userns(spec: Obj) -> bool:
    return spec.get("hostUsers") is False


Check = Callable[[Obj, Obj], CheckResult]
_OK = CheckResult()


# -- baseline checks ---------------------------------------------------------------------------
def app_armor_profile(meta: Obj, spec: Obj) -> CheckResult:
    ok = ("RuntimeDefault", "Localhost")
    setters: list[str] = []
    bad: set[str] = set()
    pod_profile = _sc(spec).get("appArmorProfile")
    if pod_profile is not None and pod_profile.get("type") not in ok:
        setters.append("pod")
        bad.add(str(pod_profile.get("type", "")))
    names = []
    for c in containers(spec):
        profile = _sc(c).get("appArmorProfile")
        if profile is not None and profile.get("type") not in ok:
            names.append(c.get("name", ""))
            bad.add(str(profile.get("type", "")))
    if names:
        setters.append(_named("container", names))
    values = sorted(bad)
    annotations = sorted(
        f'{k}="{v}"'
        for k, v in (meta.get("annotations") or {}).items()
        if k.startswith("container.apparmor.security.beta.kubernetes.io/")
        and not (not v or v == "runtime/default" or v.startswith("localhost/"))
    )
    if annotations:
        values += annotations
        setters.append(_plural("annotation", "annotations", len(annotations)))
    if not setters:
        return _OK
    return CheckResult(
        False,
        _plural("forbidden AppArmor profile", "forbidden AppArmor profiles", len(values)),
        f"{' and '.join(setters)} must not set AppArmor profile type to {_quote(values)}",
    )


_BASELINE_CAPABILITIES = {
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
    "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
}  # fmt: skip


def capabilities_baseline(meta: Obj, spec: Obj) -> CheckResult:
    names, bad = [], set()
    for c in containers(spec):
        added = [str(a) for a in (_sc(c).get("capabilities") or {}).get("add") or ()]
        forbidden = [a for a in added if a not in _BASELINE_CAPABILITIES]
        if forbidden:
            names.append(c.get("name", ""))
            bad.update(forbidden)
    if not names:
        return _OK
    return CheckResult(
        False,
        "non-default capabilities",
        f"{_named('container', names)} must not include {_quote(sorted(bad))} "
        "in securityContext.capabilities.add",
    )


def host_namespaces(meta: Obj, spec: Obj) -> CheckResult:
    used = [f"{k}=true" for k in ("hostNetwork", "hostPID", "hostIPC") if spec.get(k)]
    return CheckResult(False, "host namespaces", ", ".join(used)) if used else _OK


def host_path_volumes(meta: Obj, spec: Obj) -> CheckResult:
    names = [v.get("name", "") for v in spec.get("volumes") or () if v.get("hostPath") is not None]
    return CheckResult(False, "hostPath volumes", _named("volume", names)) if names else _OK


def host_ports(meta: Obj, spec: Obj) -> CheckResult:
    names, ports = [], set()
    for c in containers(spec):
        used = [str(p["hostPort"]) for p in c.get("ports") or () if p.get("hostPort")]
        if used:
            names.append(c.get("name", ""))
            ports.update(used)
    if not names:
        return _OK
    return CheckResult(
        False,
        "hostPort",
        f"{_named('container', names)} {_plural('uses', 'use', len(names))} "
        f"{_plural('hostPort', 'hostPorts', len(ports))} {', '.join(sorted(ports))}",
    )


def _hosts(handler: Obj | None) -> list[str]:
    out = []
    for kind in ("httpGet", "tcpSocket"):
        host = ((handler or {}).get(kind) or {}).get("host")
        if host:
            out.append(str(host))
    return out


def host_probes_and_lifecycle(meta: Obj, spec: Obj) -> CheckResult:
    names, hosts = set(), set()
    for c in containers(spec):
        handlers = [c.get(p) for p in ("livenessProbe", "readinessProbe", "startupProbe")]
        handlers += [(c.get("lifecycle") or {}).get(h) for h in ("postStart", "preStop")]
        for handler in handlers:
            bad = _hosts(handler)
            if bad:
                names.add(c.get("name", ""))
                hosts.update(bad)
    if not names:
        return _OK
    what = _plural("probe or lifecycle host", "probe or lifecycle hosts", len(hosts))
    return CheckResult(
        False,
        "probe or lifecycle host",
        f"{_named('container', sorted(names))} {_plural('uses', 'use', len(names))} "
        f"{what} {_quote(sorted(hosts))}",
    )


def privileged(meta: Obj, spec: Obj) -> CheckResult:
    names = [c.get("name", "") for c in containers(spec) if _sc(c).get("privileged") is True]
    if not names:
        return _OK
    return CheckResult(
        False,
        "privileged",
        f"{_named('container', names)} must not set securityContext.privileged=true",
    )


def proc_mount(meta: Obj, spec: Obj) -> CheckResult:
    names, kinds = [], set()
    for c in containers(spec):
        mount = _sc(c).get("procMount")
        if mount is not None and mount != "Default":
            names.append(c.get("name", ""))
            kinds.add(str(mount))
    if not names:
        return _OK
    return CheckResult(
        False,
        "procMount",
        f"{_named('container', names)} must not set securityContext.procMount to "
        f"{_quote(sorted(kinds))}",
    )


def proc_mount_1_35(meta: Obj, spec: Obj) -> CheckResult:
    return _OK if _userns(spec) else proc_mount(meta, spec)


def _se_linux(types: set[str]) -> Check:
    def check(meta: Obj, spec: Obj) -> CheckResult:
        setters: list[str] = []
        bad_types: set[str] = set()
        flags = {"user": False, "role": False}

        def valid(opts: Obj) -> bool:
            ok = True
            if opts.get("type", "") not in types:
                ok = False
                bad_types.add(str(opts.get("type", "")))
            for key in ("user", "role"):
                if opts.get(key):
                    flags[key] = True
                    ok = False
            return ok

        pod_opts = _sc(spec).get("seLinuxOptions")
        if pod_opts is not None and not valid(pod_opts):
            setters.append("pod")
        names = [
            c.get("name", "")
            for c in containers(spec)
            if _sc(c).get("seLinuxOptions") is not None and not valid(_sc(c)["seLinuxOptions"])
        ]
        if names:
            setters.append(_named("container", names))
        if not setters:
            return _OK
        data = []
        if bad_types:
            data.append(f"{_plural('type', 'types', len(bad_types))} {_quote(sorted(bad_types))}")
        data += [f"{key} may not be set" for key in ("user", "role") if flags[key]]
        return CheckResult(
            False,
            "seLinuxOptions",
            f"{' and '.join(setters)} set forbidden securityContext.seLinuxOptions: "
            + "; ".join(data),
        )

    return check


_SELINUX_1_0 = {"", "container_t", "container_init_t", "container_kvm_t"}
_SELINUX_1_31 = _SELINUX_1_0 | {"container_engine_t"}


def _seccomp_annotation_ok(value: str) -> bool:
    return value in ("runtime/default", "docker/default") or value.startswith("localhost/")


def seccomp_baseline_1_0(meta: Obj, spec: Obj) -> CheckResult:
    annotations = meta.get("annotations") or {}
    bad = set()
    pod_key = "seccomp.security.alpha.kubernetes.io/pod"
    if pod_key in annotations and not _seccomp_annotation_ok(annotations[pod_key]):
        bad.add(f'{pod_key}="{annotations[pod_key]}"')
    for c in containers(spec):
        key = "container.seccomp.security.alpha.kubernetes.io/" + c.get("name", "")
        if key in annotations and not _seccomp_annotation_ok(annotations[key]):
            bad.add(f'{key}="{annotations[key]}"')
    if not bad:
        return _OK
    return CheckResult(
        False,
        "seccompProfile",
        f"forbidden {_plural('annotation', 'annotations', len(bad))} {', '.join(sorted(bad))}",
    )


_SECCOMP_OK = ("RuntimeDefault", "Localhost")


def _seccomp(spec: Obj, required: bool) -> CheckResult:
    setters: list[str] = []
    bad: set[str] = set()
    pod_set = False
    profile = _sc(spec).get("seccompProfile")
    if profile is not None:
        if profile.get("type") not in _SECCOMP_OK:
            setters.append("pod")
            bad.add(str(profile.get("type", "")))
        else:
            pod_set = True
    explicit, implicit = [], []
    for c in containers(spec):
        own = _sc(c).get("seccompProfile")
        if own is not None:
            if own.get("type") not in _SECCOMP_OK:
                explicit.append(c.get("name", ""))
                bad.add(str(own.get("type", "")))
        elif not pod_set:
            implicit.append(c.get("name", ""))
    if explicit:
        setters.append(_named("container", explicit))
    if setters:
        return CheckResult(
            False,
            "seccompProfile",
            f"{' and '.join(setters)} must not set securityContext.seccompProfile.type to "
            f"{_quote(sorted(bad))}",
        )
    if required and implicit:
        return CheckResult(
            False,
            "seccompProfile",
            f"pod or {_named('container', implicit)} must set securityContext.seccompProfile."
            'type to "RuntimeDefault" or "Localhost"',
        )
    return _OK


def seccomp_baseline_1_19(meta: Obj, spec: Obj) -> CheckResult:
    return _seccomp(spec, required=False)


_SYSCTLS_1_0 = {
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
}
_SYSCTLS_1_27 = _SYSCTLS_1_0 | {"net.ipv4.ip_local_reserved_ports"}
_SYSCTLS_1_29 = _SYSCTLS_1_27 | {
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}
_SYSCTLS_1_32 = _SYSCTLS_1_29 | {"net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"}
_SYSCTLS_1_37 = _SYSCTLS_1_32 | {"net.ipv4.tcp_slow_start_after_idle", "net.ipv4.tcp_notsent_lowat"}


def _sysctls(allowed: set[str]) -> Check:
    def check(meta: Obj, spec: Obj) -> CheckResult:
        bad = [
            str(s.get("name", ""))
            for s in _sc(spec).get("sysctls") or ()
            if s.get("name") not in allowed
        ]
        return CheckResult(False, "forbidden sysctls", ", ".join(bad)) if bad else _OK

    return check


def windows_host_process(meta: Obj, spec: Obj) -> CheckResult:
    def on(sc: Obj) -> bool:
        return (sc.get("windowsOptions") or {}).get("hostProcess") is True

    setters = ["pod"] if on(_sc(spec)) else []
    names = [c.get("name", "") for c in containers(spec) if on(_sc(c))]
    if names:
        setters.append(_named("container", names))
    if not setters:
        return _OK
    return CheckResult(
        False,
        "hostProcess",
        f"{' and '.join(setters)} must not set securityContext.windowsOptions.hostProcess=true",
    )


# -- restricted checks -------------------------------------------------------------------------
def allow_privilege_escalation(meta: Obj, spec: Obj) -> CheckResult:
    names = [
        c.get("name", "")
        for c in containers(spec)
        if _sc(c).get("allowPrivilegeEscalation") is not False
    ]
    if not names:
        return _OK
    return CheckResult(
        False,
        "allowPrivilegeEscalation != false",
        f"{_named('container', names)} must set securityContext.allowPrivilegeEscalation=false",
    )


def _not_on_windows(check: Check) -> Check:
    return lambda meta, spec: _OK if _windows(spec) else check(meta, spec)


def capabilities_restricted(meta: Obj, spec: Obj) -> CheckResult:
    missing_drop, adding, bad = [], [], set()
    for c in containers(spec):
        caps = _sc(c).get("capabilities")
        if caps is None:
            missing_drop.append(c.get("name", ""))
            continue
        if "ALL" not in (caps.get("drop") or ()):
            missing_drop.append(c.get("name", ""))
        forbidden = [str(a) for a in caps.get("add") or () if a != "NET_BIND_SERVICE"]
        if forbidden:
            adding.append(c.get("name", ""))
            bad.update(forbidden)
    details = []
    if missing_drop:
        details.append(
            f"{_named('container', missing_drop)} must set "
            'securityContext.capabilities.drop=["ALL"]'
        )
    if adding:
        details.append(
            f"{_named('container', adding)} must not include {_quote(sorted(bad))} in "
            "securityContext.capabilities.add"
        )
    return CheckResult(False, "unrestricted capabilities", "; ".join(details)) if details else _OK


_ALLOWED_VOLUMES = (
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image",
    "persistentVolumeClaim", "projected", "secret",
)  # fmt: skip
_RESTRICTED_VOLUMES = (
    "hostPath", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "nfs", "iscsi",
    "glusterfs", "rbd", "flexVolume", "cinder", "cephfs", "flocker", "fc", "azureFile",
    "vsphereVolume", "quobyte", "azureDisk", "portworxVolume", "photonPersistentDisk",
    "scaleIO", "storageos",
)  # fmt: skip


def restricted_volumes(meta: Obj, spec: Obj) -> CheckResult:
    names, kinds = [], set()
    for volume in spec.get("volumes") or ():
        if any(volume.get(k) is not None for k in _ALLOWED_VOLUMES):
            continue
        names.append(volume.get("name", ""))
        kinds.add(next((k for k in _RESTRICTED_VOLUMES if volume.get(k) is not None), "unknown"))
    if not names:
        return _OK
    return CheckResult(
        False,
        "restricted volume types",
        f"{_named('volume', names)} {_plural('uses', 'use', len(names))} "
        f"{_plural('restricted volume type', 'restricted volume types', len(kinds))} "
        f"{_quote(sorted(kinds))}",
    )


def run_as_non_root(meta: Obj, spec: Obj) -> CheckResult:
    setters: list[str] = []
    pod_value = _sc(spec).get("runAsNonRoot")
    if pod_value is False:
        setters.append("pod")
    explicit, implicit = [], []
    for c in containers(spec):
        value = _sc(c).get("runAsNonRoot")
        if value is False:
            explicit.append(c.get("name", ""))
        elif value is None and pod_value is not True:
            implicit.append(c.get("name", ""))
    if explicit:
        setters.append(_named("container", explicit))
    if setters:
        return CheckResult(
            False,
            "runAsNonRoot != true",
            f"{' and '.join(setters)} must not set securityContext.runAsNonRoot=false",
        )
    if implicit:
        return CheckResult(
            False,
            "runAsNonRoot != true",
            f"pod or {_named('container', implicit)} must set securityContext.runAsNonRoot=true",
        )
    return _OK


def run_as_user(meta: Obj, spec: Obj) -> CheckResult:
    setters = ["pod"] if _sc(spec).get("runAsUser") == 0 else []
    names = [c.get("name", "") for c in containers(spec) if _sc(c).get("runAsUser") == 0]
    if names:
        setters.append(_named("container", names))
    if not setters:
        return _OK
    return CheckResult(False, "runAsUser=0", f"{' and '.join(setters)} must not set runAsUser=0")


def _relaxed_for_userns(check: Check) -> Check:
    return lambda meta, spec: _OK if _userns(spec) else check(meta, spec)


def seccomp_restricted(meta: Obj, spec: Obj) -> CheckResult:
    return _seccomp(spec, required=True)


# -- registry ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckDef:
    id: str
    level: str
    versions: tuple[tuple[tuple[int, int], Check], ...]
    overrides: tuple[str, ...] = ()


CHECKS: tuple[CheckDef, ...] = (
    CheckDef("appArmorProfile", BASELINE, (((1, 0), app_armor_profile),)),
    CheckDef("capabilities_baseline", BASELINE, (((1, 0), capabilities_baseline),)),
    CheckDef("hostNamespaces", BASELINE, (((1, 0), host_namespaces),)),
    CheckDef("hostPathVolumes", BASELINE, (((1, 0), host_path_volumes),)),
    CheckDef("hostPorts", BASELINE, (((1, 0), host_ports),)),
    CheckDef("hostProbesAndHostLifecycle", BASELINE, (((1, 34), host_probes_and_lifecycle),)),
    CheckDef("privileged", BASELINE, (((1, 0), privileged),)),
    CheckDef("procMount", BASELINE, (((1, 0), proc_mount), ((1, 35), proc_mount_1_35))),
    CheckDef(
        "seLinuxOptions",
        BASELINE,
        (((1, 0), _se_linux(_SELINUX_1_0)), ((1, 31), _se_linux(_SELINUX_1_31))),
    ),
    CheckDef(
        "seccompProfile_baseline",
        BASELINE,
        (((1, 0), seccomp_baseline_1_0), ((1, 19), seccomp_baseline_1_19)),
    ),
    CheckDef(
        "sysctls",
        BASELINE,
        (
            ((1, 0), _sysctls(_SYSCTLS_1_0)),
            ((1, 27), _sysctls(_SYSCTLS_1_27)),
            ((1, 29), _sysctls(_SYSCTLS_1_29)),
            ((1, 32), _sysctls(_SYSCTLS_1_32)),
            ((1, 37), _sysctls(_SYSCTLS_1_37)),
        ),
    ),
    CheckDef("windowsHostProcess", BASELINE, (((1, 0), windows_host_process),)),
    CheckDef(
        "allowPrivilegeEscalation",
        RESTRICTED,
        (
            ((1, 8), allow_privilege_escalation),
            ((1, 25), _not_on_windows(allow_privilege_escalation)),
        ),
    ),
    CheckDef(
        "capabilities_restricted",
        RESTRICTED,
        (((1, 22), capabilities_restricted), ((1, 25), _not_on_windows(capabilities_restricted))),
        ("capabilities_baseline",),
    ),
    CheckDef("procMount_restricted", RESTRICTED, (((1, 35), proc_mount),), ("procMount",)),
    CheckDef(
        "restrictedVolumes", RESTRICTED, (((1, 0), restricted_volumes),), ("hostPathVolumes",)
    ),
    CheckDef(
        "runAsNonRoot",
        RESTRICTED,
        (((1, 0), run_as_non_root), ((1, 35), _relaxed_for_userns(run_as_non_root))),
    ),
    CheckDef(
        "runAsUser",
        RESTRICTED,
        (((1, 23), run_as_user), ((1, 35), _relaxed_for_userns(run_as_user))),
    ),
    CheckDef(
        "seccompProfile_restricted",
        RESTRICTED,
        (((1, 19), seccomp_restricted), ((1, 25), _not_on_windows(seccomp_restricted))),
        ("seccompProfile_baseline",),
    ),
)


def _revision(check: CheckDef, version: tuple[int, int]) -> Check | None:
    chosen = None
    for minimum, fn in check.versions:
        if minimum <= version:
            chosen = fn
    return chosen


def checks_for(lv: LevelVersion) -> list[tuple[str, Check]]:
    """The (id, check) pairs a level and version runs, in upstream's order."""
    if lv.level == PRIVILEGED:
        return []
    version = MAX_VERSION if lv.version is None or lv.version > MAX_VERSION else lv.version
    active = [(c, fn) for c in CHECKS if (fn := _revision(c, version)) is not None]
    baseline = sorted((c.id, fn) for c, fn in active if c.level == BASELINE)
    if lv.level == BASELINE:
        return baseline
    restricted = sorted((c.id, fn) for c, fn in active if c.level == RESTRICTED)
    overridden = {o for c, _ in active if c.level == RESTRICTED for o in c.overrides}
    return [(i, fn) for i, fn in baseline if i not in overridden] + restricted


def evaluate(lv: LevelVersion, meta: Obj, spec: Obj) -> list[CheckResult]:
    return [fn(meta or {}, spec or {}) for _, fn in checks_for(lv)]


def aggregate(results: list[CheckResult]) -> Aggregate:
    out = Aggregate()
    for r in results:
        if not r.allowed:
            out.reasons.append(r.reason or "unknown forbidden reason")
            out.details.append(r.detail)
    return out


def check_pod(lv: LevelVersion, meta: Obj, spec: Obj) -> Aggregate:
    return aggregate(evaluate(lv, meta, spec))
