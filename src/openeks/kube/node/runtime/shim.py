"""The per-container shim: starts one container with runc, copies its output into the
CRI log file and records how it ended. Runs as its own process, outside the node agent.

Why a process of its own: containers must outlive a restart of the node agent, and so
must whatever reads their stdout/stderr (a pipe whose reader dies kills the writer with
SIGPIPE) and whatever collects their exit status (only a parent or a subreaper can).
So, like containerd's shim, this process:

1. detaches (the agent starts it in a new session; it forks once so the agent's child
   exits at once and the shim is adopted by init),
2. makes itself a child subreaper, runs `runc create` with pipes (or a console socket
   for tty containers) as the container's stdio, then `runc start`; the container's init
   is re-parented to the shim when `runc create` exits,
3. reports `{"ok": true, "pid": ..., "started_at": ...}` (or the runc error) as one JSON
   line on its stdout, which the agent reads, then lets go of it,
4. writes every output line as `<RFC 3339 nano time> <stdout|stderr> <F|P> <text>`,
   splitting lines longer than 16 KiB into partial (`P`) records, as containerd does,
5. reaps the container, checks the memory cgroup's OOM-kill counter, and writes
   `exit.json` (exit code, finish time, reason `Completed`/`Error`/`OOMKilled`) with an
   atomic rename; `started.json` is written the same way when the container starts.

`--exec-wait` is a second, small job: the subreaper that waits for a tty exec.

It imports nothing but the standard library and is run as `python -I -S shim.py SPEC`,
so it starts in a few milliseconds and does not depend on the agent's environment.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

PR_SET_CHILD_SUBREAPER = 36
MAX_LINE = 16 * 1024
_READ = 64 * 1024


def rfc3339(seconds: float | None = None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def log_timestamp() -> bytes:
    nanos = time.time_ns()
    seconds, fraction = divmod(nanos, 1_000_000_000)
    return f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(seconds))}.{fraction:09d}Z".encode()


def write_json(path: Path, document: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(document))
    os.replace(tmp, path)


def process_start_time(pid: int) -> str:
    """Field 22 of /proc/PID/stat: tells a process from a later one with the same pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]


def wait_for_exec(pid: int, timeout: float = 2.0) -> None:
    """Wait until runc's init has exec'd the container's command. `runc start` returns
    before that; a signal sent in between would hit runc's init instead of the command
    (which, as pid 1 of its namespace, may rightly ignore it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if not Path(f"/proc/{pid}/comm").read_text().startswith("runc:"):
                return
        except OSError:
            return
        time.sleep(0.001)


def runc_error(log_path: Path) -> str:
    """The last error runc logged (its `--log-format json` log)."""
    message = ""
    try:
        lines = log_path.read_text(errors="replace").splitlines()
    except OSError:
        return "runc failed without a message"
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("level") in ("error", "fatal"):
            message = str(entry.get("msg", ""))
    return message or "runc failed without a message"


class CriLog:
    """Appends CRI-format records to the container's log file."""

    def __init__(self, path: str) -> None:
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(path or os.devnull, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        self.lock = threading.Lock()

    def write(self, stream: bytes, tag: bytes, content: bytes) -> None:
        record = b"%s %s %s %s\n" % (log_timestamp(), stream, tag, content)
        with self.lock:
            os.write(self.fd, record)

    def copy(self, fd: int, stream: bytes, tty: bool = False) -> None:
        """Copy `fd` until EOF, one record per line."""
        pending = b""
        while True:
            try:
                data = os.read(fd, _READ)
            except OSError:  # EIO: the tty's other side is gone
                data = b""
            if not data:
                break
            pending += data
            while True:
                end = pending.find(b"\n", 0, MAX_LINE + 1)
                if end >= 0:
                    line, pending = pending[:end], pending[end + 1 :]
                    self.write(stream, b"F", line.rstrip(b"\r") if tty else line)
                elif len(pending) >= MAX_LINE:
                    self.write(stream, b"P", pending[:MAX_LINE])
                    pending = pending[MAX_LINE:]
                else:
                    break
        if pending:
            self.write(stream, b"F", pending)
        os.close(fd)


class Shim:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.state = Path(spec["state_dir"])
        self.id = str(spec["id"])
        self.runc = [spec["runc"], "--root", spec["root"], "--log", str(self.state / "runc.log")]
        self.runc += ["--log-format", "json"]
        self.tty = bool(spec.get("tty"))
        self.log = CriLog(str(spec.get("log_path") or ""))
        self.readers: list[threading.Thread] = []
        self.held_stdin = -1

    def report(self, document: dict[str, Any]) -> None:
        """Answer the agent; if it is gone (restarted mid-start), carry on regardless."""
        with contextlib.suppress(OSError):
            os.write(1, (json.dumps(document) + "\n").encode())
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.close(null)

    def fail(self, message: str) -> None:
        write_json(
            self.state / "exit.json",
            {"exit_code": 128, "finished_at": rfc3339(), "reason": "StartError",
             "message": message},
        )  # fmt: skip
        self.report({"ok": False, "error": message})

    def run(self) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        me = os.getpid()
        (self.state / "shim.pid").write_text(f"{me} {process_start_time(me)}")
        pid = self.create()
        if pid is None:
            return
        started = subprocess.run(
            [*self.runc, "start", self.id], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False,
        )  # fmt: skip
        if started.returncode != 0:
            os.kill(pid, signal.SIGKILL)
            self.wait(pid)
            self.fail(runc_error(self.state / "runc.log"))
            return
        wait_for_exec(pid)
        started_at = rfc3339()
        memory_cgroup = self.memory_cgroup(pid)
        write_json(
            self.state / "started.json",
            {"pid": pid, "pid_start": process_start_time(pid), "started_at": started_at},
        )
        self.report({"ok": True, "pid": pid, "started_at": started_at})
        status = self.wait(pid)
        for reader in self.readers:
            reader.join(timeout=2)
        self.record_exit(status, memory_cgroup)

    def create(self) -> int | None:
        """`runc create` with our pipes as the container's stdio; returns its pid."""
        pid_file = self.state / "container.pid"
        command = [
            *self.runc,
            "create",
            "--bundle",
            self.spec["bundle"],
            "--pid-file",
            str(pid_file),
        ]
        stdin = os.open(os.devnull, os.O_RDONLY)
        keep_stdin = -1
        if self.spec.get("stdin") and not self.tty:
            stdin, keep_stdin = os.pipe()  # held open: the container never sees EOF
        if self.tty:
            return self._create_tty(command, stdin, pid_file)
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        process = subprocess.Popen(
            [*command, self.id], stdin=stdin, stdout=out_w, stderr=err_w, close_fds=True
        )
        for fd in (stdin, out_w, err_w):
            os.close(fd)
        if process.wait() != 0:
            os.close(out_r)
            os.close(err_r)
            self.fail(runc_error(self.state / "runc.log"))
            return None
        self.held_stdin = keep_stdin
        self._read(out_r, b"stdout")
        self._read(err_r, b"stderr")
        return int(pid_file.read_text())

    def _create_tty(self, command: list[str], stdin: int, pid_file: Path) -> int | None:
        path = f"/run/openeks-console/{self.id[:32]}.sock"
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).unlink(missing_ok=True)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(path)
        server.listen(1)
        server.settimeout(0.05)
        null = os.open(os.devnull, os.O_RDWR)
        process = subprocess.Popen(
            [*command, "--console-socket", path, self.id],
            stdin=null, stdout=null, stderr=null, close_fds=True,
        )  # fmt: skip
        os.close(null)
        os.close(stdin)
        master = -1
        while master < 0 and process.poll() is None:
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            _, fds, _, _ = socket.recv_fds(connection, 1024, 1)
            connection.close()
            master = fds[0] if fds else -1
        server.close()
        Path(path).unlink(missing_ok=True)
        if process.wait() != 0 or master < 0:
            self.fail(runc_error(self.state / "runc.log"))
            return None
        self._read(master, b"stdout", tty=True)
        return int(pid_file.read_text())

    def _read(self, fd: int, stream: bytes, tty: bool = False) -> None:
        reader = threading.Thread(target=self.log.copy, args=(fd, stream, tty), daemon=True)
        reader.start()
        self.readers.append(reader)

    def wait(self, pid: int) -> int:
        """Reap children (the container's orphans too) until `pid` exits; its status."""
        while True:
            try:
                reaped, status = os.waitpid(-1, 0)
            except ChildProcessError:
                return 255 << 8
            except InterruptedError:
                continue
            if reaped == pid:
                return status

    @staticmethod
    def memory_cgroup(pid: int) -> Path | None:
        try:
            lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
        except OSError:
            return None
        for line in lines:
            _, controllers, path = line.split(":", 2)
            if "memory" in controllers.split(","):
                return Path("/sys/fs/cgroup/memory" + path)
        unified = [line for line in lines if line.startswith("0::")]
        return Path("/sys/fs/cgroup" + unified[0][3:]) if unified else None

    def record_exit(self, status: int, memory_cgroup: Path | None) -> None:
        if os.WIFSIGNALED(status):
            code = 128 + os.WTERMSIG(status)
        else:
            code = os.waitstatus_to_exitcode(status)
        reason = "Completed" if code == 0 else "Error"
        if code != 0 and oom_killed(memory_cgroup):
            reason = "OOMKilled"
        write_json(
            self.state / "exit.json",
            {"exit_code": code, "finished_at": rfc3339(), "reason": reason, "message": ""},
        )


def oom_killed(cgroup: Path | None) -> bool:
    """Whether the kernel OOM-killed a process of the cgroup (v1 or v2 counters)."""
    if cgroup is None:
        return False
    for name in ("memory.oom_control", "memory.events"):
        try:
            text = (cgroup / name).read_text()
        except OSError:
            continue
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip().isdigit() and int(value) > 0:
                return True
    return False


def exec_wait(pid_file: str, command: list[str]) -> int:
    """`--exec-wait PIDFILE -- runc exec -d ...`: run a detached exec and wait for the
    process it started (we are its subreaper); returns its exit code, or runc's if it
    failed. Used for tty execs, whose pty master runc hands over a console socket."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    result = subprocess.run(command, check=False)
    if result.returncode != 0:
        return result.returncode
    pid = int(Path(pid_file).read_text())
    while True:
        try:
            reaped, status = os.waitpid(-1, 0)
        except ChildProcessError:
            return 255
        if reaped == pid:
            if os.WIFSIGNALED(status):
                return 128 + os.WTERMSIG(status)
            return os.waitstatus_to_exitcode(status)


def main(argv: list[str]) -> None:
    if argv[1] == "--exec-wait":
        sys.exit(exec_wait(argv[2], argv[4:]))
    spec = json.loads(Path(argv[1]).read_text())
    if os.fork() > 0:
        os._exit(0)
    # Dispositions are inherited through exec: whatever the agent ignored, the container
    # must get the defaults (an ignored SIGTERM would break graceful stops).
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_DFL)
    try:
        Shim(spec).run()
    except Exception as exc:  # reported where the agent looks: never die silently
        message = f"shim: {type(exc).__name__}: {exc}"
        print(message, file=sys.stderr)
        exit_file = Path(spec["state_dir"]) / "exit.json"
        if not exit_file.exists():
            write_json(
                exit_file,
                {"exit_code": 255, "finished_at": rfc3339(), "reason": "Unknown",
                 "message": message},
            )  # fmt: skip
        with contextlib.suppress(OSError):
            os.write(1, (json.dumps({"ok": False, "error": message}) + "\n").encode())
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv)
