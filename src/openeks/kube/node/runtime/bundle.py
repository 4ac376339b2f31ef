"""The OCI runtime spec (`config.json`) of a container, as containerd's CRI plugin
would write it for the same pod.

Everything a container gets is decided here, from the container config, the image
config and the sandbox: the process (argv, environment with the image's `Env` under the
pod's, working directory, user resolved against the image's /etc/passwd and
/etc/group, containerd's default capability set, `noNewPrivileges`), the mounts (runc's
defaults for /proc, /dev, /sys, ..., the pod's hosts/resolv.conf/hostname files, then the
pod's volumes as bind mounts), the namespaces (a new PID and mount namespace; the
sandbox's network, IPC and UTS namespaces joined by path) and the cgroup limits
(CFS quota from the CPU limit, shares from the CPU request as kubelet converts them,
memory limit). Pure functions over plain data, apart from reading the image's passwd
and group files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openeks.kube.node.runtime.base import Mount, Resources

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CFS_PERIOD = 100_000
MIN_SHARES = 2
MIN_QUOTA = 1_000

# containerd's default set (pkg/oci/spec.go): what unprivileged pods get.
DEFAULT_CAPABILITIES = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
]
MASKED_PATHS = [
    "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
    "/sys/firmware", "/sys/devices/virtual/powercap",
]  # fmt: skip
READONLY_PATHS = [
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
]  # fmt: skip


@dataclass(frozen=True)
class User:
    uid: int = 0
    gid: int = 0
    additional_gids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Namespaces:
    """Paths of the sandbox namespaces to join ('' = the host's, for host networking)."""

    network: str = ""
    ipc: str = ""
    uts: str = ""


def cpu_shares(request_millis: int) -> int:
    """kubelet's MilliCPUToShares."""
    if request_millis <= 0:
        return MIN_SHARES
    return max(MIN_SHARES, request_millis * 1024 // 1000)


def cpu_quota(limit_millis: int) -> int:
    """kubelet's MilliCPUToQuota for a 100 ms period (0 = no limit)."""
    if limit_millis <= 0:
        return 0
    return max(MIN_QUOTA, limit_millis * CFS_PERIOD // 1000)


def merge_env(image_env: list[str], env: dict[str, str], hostname: str) -> list[str]:
    """Image `Env` first, the container's variables override; PATH always set."""
    merged: dict[str, str] = {}
    for item in image_env:
        key, _, value = item.partition("=")
        merged[key] = value
    merged.setdefault("PATH", DEFAULT_PATH)
    if hostname:
        merged["HOSTNAME"] = hostname
    merged.update(env)
    return [f"{key}={value}" for key, value in merged.items()]


def resolve_user(spec: str, rootfs: Path) -> User:
    """`uid`, `uid:gid`, `name` or `name:group` against the image's passwd and group."""
    if not spec:
        return User()
    name, _, group = spec.partition(":")
    passwd = _read_db(rootfs / "etc" / "passwd")
    groups = _read_db(rootfs / "etc" / "group")
    uid, gid = _lookup_user(name, passwd)
    if group:
        gid = _lookup_id(group, groups, "group")
    member_of = tuple(
        int(fields[2])
        for fields in groups
        if len(fields) > 3 and fields[2].isdigit() and name in fields[3].split(",")
    )
    return User(uid=uid, gid=gid, additional_gids=tuple(g for g in member_of if g != gid))


def _read_db(path: Path) -> list[list[str]]:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return []
    return [line.split(":") for line in text.splitlines() if line and not line.startswith("#")]


def _lookup_user(name: str, passwd: list[list[str]]) -> tuple[int, int]:
    for fields in passwd:
        if len(fields) > 3 and (fields[0] == name or fields[2] == name):
            return int(fields[2]), int(fields[3])
    if name.isdigit():
        return int(name), 0
    raise ValueError(f"unable to find user {name}: no matching entries in passwd file")


def _lookup_id(name: str, database: list[list[str]], kind: str) -> int:
    if name.isdigit():
        return int(name)
    for fields in database:
        if len(fields) > 2 and fields[0] == name:
            return int(fields[2])
    raise ValueError(f"unable to find {kind} {name}: no matching entries in {kind} file")


def default_mounts() -> list[dict[str, Any]]:
    def entry(dest: str, kind: str, source: str, options: list[str]) -> dict[str, Any]:
        return {"destination": dest, "type": kind, "source": source, "options": options}

    return [
        entry("/proc", "proc", "proc", ["nosuid", "noexec", "nodev"]),
        entry("/dev", "tmpfs", "tmpfs", ["nosuid", "strictatime", "mode=755", "size=65536k"]),
        entry("/dev/pts", "devpts", "devpts",
              ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
        entry("/dev/shm", "tmpfs", "shm",
              ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
        entry("/dev/mqueue", "mqueue", "mqueue", ["nosuid", "noexec", "nodev"]),
        entry("/sys", "sysfs", "sysfs", ["nosuid", "noexec", "nodev", "ro"]),
        entry("/sys/fs/cgroup", "cgroup", "cgroup",
              ["nosuid", "noexec", "nodev", "relatime", "ro"]),
    ]  # fmt: skip


def bind_mount(source: str, destination: str, read_only: bool) -> dict[str, Any]:
    return {
        "destination": destination,
        "type": "bind",
        "source": source,
        "options": ["rbind", "rprivate", "ro" if read_only else "rw"],
    }


def build_spec(
    *,
    args: list[str],
    env: list[str],
    cwd: str,
    user: User,
    tty: bool,
    mounts: list[Mount],
    pod_files: dict[str, Path],
    namespaces: Namespaces,
    resources: Resources,
    cgroups_path: str,
) -> dict[str, Any]:
    """The whole `config.json` for runc."""
    wanted = {m.container_path.rstrip("/") for m in mounts}
    all_mounts = default_mounts()
    all_mounts += [
        bind_mount(str(source), target, read_only=False)
        for target, source in pod_files.items()
        if target not in wanted
    ]
    all_mounts += [bind_mount(m.host_path, m.container_path, m.read_only) for m in mounts]
    return {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": tty,
            "user": {
                "uid": user.uid,
                "gid": user.gid,
                **({"additionalGids": list(user.additional_gids)} if user.additional_gids else {}),
            },
            "args": args,
            "env": env,
            "cwd": cwd or "/",
            "capabilities": {
                "bounding": DEFAULT_CAPABILITIES,
                "effective": DEFAULT_CAPABILITIES,
                "permitted": DEFAULT_CAPABILITIES,
            },
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": False},
        "mounts": all_mounts,
        "linux": {
            "cgroupsPath": cgroups_path,
            "resources": _resources(resources),
            "namespaces": _namespaces(namespaces),
            "maskedPaths": MASKED_PATHS,
            "readonlyPaths": READONLY_PATHS,
        },
    }


def _resources(resources: Resources) -> dict[str, Any]:
    cpu: dict[str, int] = {"shares": cpu_shares(resources.cpu_request_millis)}
    quota = cpu_quota(resources.cpu_millis)
    if quota:
        cpu.update(quota=quota, period=CFS_PERIOD)
    result: dict[str, Any] = {"devices": [{"allow": False, "access": "rwm"}], "cpu": cpu}
    if resources.memory_bytes > 0:
        result["memory"] = {"limit": resources.memory_bytes}
    return result


def _namespaces(namespaces: Namespaces) -> list[dict[str, str]]:
    result = [{"type": "pid"}, {"type": "mount"}]
    for kind, path in (
        ("network", namespaces.network),
        ("ipc", namespaces.ipc),
        ("uts", namespaces.uts),
    ):
        if path:
            result.append({"type": kind, "path": path})
    return result
