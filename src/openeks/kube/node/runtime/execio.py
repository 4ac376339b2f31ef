"""Running commands in containers (`runc exec`) wired to an exec session or a probe.

Three shapes:

- `exec_pipes`: a foreground `runc exec` with pipes; stdin chunks are written as they
  arrive and closed at end of input, stdout and stderr are pumped to the session. The
  exit code is runc's, which is the command's.
- `exec_tty`: runc gives the pty master of a detached `runc exec -d` (terminal process)
  over a console socket; we pump it directly (no second pty in between, so the terminal
  settings are the container's own) and resize it with TIOCSWINSZ. The first size is
  part of the process spec (`consoleSize`), so the command never sees a 0x0 terminal.
  The exit code comes from `shim.py --exec-wait`, a tiny subreaper that waits for the
  detached process.
- `exec_collect`: probes. stdout and stderr combined (kubelet's CombinedOutput), and a
  deadline after which the process is killed and `TimeoutError` raised.

When the command exits, output still buffered is drained for a short while; a
background process keeping the pipe open does not keep the session open. When runc
cannot start the command at all (no such executable, container gone), that is a
`RuntimeFailure` carrying runc's message, as containerd reports it, not an exit code.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import secrets
import socket
import struct
import sys
import termios
from collections.abc import Awaitable, Callable
from pathlib import Path

from openeks.kube.node.runtime.base import ExecStreams, RuntimeFailure

SHIM = str(Path(__file__).with_name("shim.py"))
CONSOLE_DIR = Path("/run/openeks-console")
DRAIN_SECONDS = 0.5
FIRST_SIZE_WAIT = 0.1
DEFAULT_SIZE = (80, 24)
_CHUNK = 32 * 1024


class ExecFiles:
    """runc's pid file and JSON log for one exec. No pid file after a failure means
    runc never started the command: that is an error, not an exit code."""

    def __init__(self, directory: Path, command: list[str]) -> None:
        self.token = secrets.token_hex(8)
        self.pid_file = directory / f"exec-{self.token}.pid"
        self.log_file = directory / f"exec-{self.token}.log"
        self.command = command

    def runc_options(self) -> list[str]:
        """Global runc flags sending its log here (they go before `exec`)."""
        return ["--log", str(self.log_file), "--log-format", "json"]

    def check(self, code: int) -> int:
        """`code`, unless runc failed to start the command: then RuntimeFailure."""
        if code == 0 or self.pid_file.exists():
            return code
        message = "runc exec failed"
        with contextlib.suppress(OSError):
            for line in self.log_file.read_text(errors="replace").splitlines():
                with contextlib.suppress(ValueError):
                    entry = json.loads(line)
                    if entry.get("level") in ("error", "fatal"):
                        message = str(entry.get("msg", message))
        raise RuntimeFailure(
            "ExecError",
            f'failed to exec in container: failed to start exec "{self.token}": '
            f"OCI runtime exec failed: {message}: unknown",
        )

    def kill(self) -> None:
        """Kill the exec'd process itself: SIGKILL to runc would leave it running."""
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(self.pid_file.read_text()), 9)

    def remove(self) -> None:
        for path in (self.pid_file, self.log_file, self.pid_file.with_suffix(".json")):
            path.unlink(missing_ok=True)


async def _pump_stdin(streams: ExecStreams, write: Callable[[bytes], Awaitable[None]]) -> None:
    while (data := await streams.read_stdin()) is not None:
        if data:
            await write(data)


async def _pump_reader(
    reader: asyncio.StreamReader | None, sink: Callable[[bytes], Awaitable[None]]
) -> None:
    if reader is None:
        return
    while data := await reader.read(_CHUNK):
        await sink(data)


async def _finish(tasks: list[asyncio.Task[None]], grace: float = DRAIN_SECONDS) -> None:
    if tasks:
        await asyncio.wait(tasks, timeout=grace)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def exec_pipes(argv: list[str], files: ExecFiles, streams: ExecStreams) -> int:
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdin = process.stdin
    assert stdin is not None

    async def write(data: bytes) -> None:
        stdin.write(data)
        await stdin.drain()

    async def feed() -> None:
        with contextlib.suppress(ConnectionError, BrokenPipeError):
            await _pump_stdin(streams, write)
        stdin.close()

    feeder = asyncio.create_task(feed())
    outputs = [
        asyncio.create_task(_pump_reader(process.stdout, streams.write_stdout)),
        asyncio.create_task(_pump_reader(process.stderr, streams.write_stderr)),
    ]
    try:
        code = await process.wait()
        await _finish(outputs)
    finally:
        feeder.cancel()
        await asyncio.gather(feeder, return_exceptions=True)
        if process.returncode is None:
            process.kill()
            await process.wait()
    return files.check(code)


async def exec_collect(argv: list[str], files: ExecFiles, timeout: float) -> tuple[int, bytes]:
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        # Kill the command, then let runc reap it and exit: killing runc first would
        # leave a zombie in the container (its pid 1 is rarely an init that reaps).
        files.kill()
        try:
            await asyncio.wait_for(process.wait(), DRAIN_SECONDS * 4)
        except TimeoutError:
            process.kill()
            await process.wait()
        command = " ".join(files.command)
        raise TimeoutError(f"command {command!r} timed out after {timeout:g}s") from None
    return files.check(process.returncode or 0), output


def set_window_size(fd: int, width: int, height: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))


async def exec_tty(
    exec_argv: Callable[[str, tuple[int, int]], list[str]],
    files: ExecFiles,
    streams: ExecStreams,
) -> int:
    """`exec_argv(console_socket, (width, height))` builds the `runc exec -d
    --console-socket` command line (pid file and log from `files`), the size being the
    terminal's first."""
    CONSOLE_DIR.mkdir(parents=True, exist_ok=True)
    socket_path = CONSOLE_DIR / f"exec-{files.token}.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(socket_path))
    server.listen(1)
    server.setblocking(False)
    # The client sends its size right away; the pty must have it before the command
    # runs, or `stty size` and full-screen programs see 0x0.
    first_size = asyncio.ensure_future(streams.resize())
    await asyncio.wait([first_size], timeout=FIRST_SIZE_WAIT)
    size = (first_size.result() if first_size.done() else None) or DEFAULT_SIZE
    waiter = await asyncio.create_subprocess_exec(
        sys.executable, "-I", "-S", SHIM, "--exec-wait", str(files.pid_file), "--",
        *exec_argv(str(socket_path), size),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    master = -1
    try:
        master = await _receive_master(server, waiter)
        if master < 0:
            return files.check(await waiter.wait())
        return files.check(await _pump_tty(master, waiter, streams, first_size))
    finally:
        first_size.cancel()
        server.close()
        socket_path.unlink(missing_ok=True)
        if master >= 0:
            os.close(master)
        if waiter.returncode is None:
            waiter.kill()
            await waiter.wait()


async def _receive_master(server: socket.socket, waiter: asyncio.subprocess.Process) -> int:
    loop = asyncio.get_running_loop()
    accept = asyncio.ensure_future(loop.sock_accept(server))
    exited = asyncio.ensure_future(waiter.wait())
    await asyncio.wait([accept, exited], return_when=asyncio.FIRST_COMPLETED)
    if not accept.done():
        accept.cancel()
        return -1
    exited.cancel()
    connection, _ = accept.result()
    with connection:
        connection.setblocking(True)
        _, fds, _, _ = await asyncio.to_thread(socket.recv_fds, connection, 1024, 1)
    return fds[0] if fds else -1


async def _pump_tty(
    master: int,
    waiter: asyncio.subprocess.Process,
    streams: ExecStreams,
    first_size: asyncio.Future[tuple[int, int] | None],
) -> int:
    loop = asyncio.get_running_loop()
    os.set_blocking(master, False)
    output: asyncio.Queue[bytes] = asyncio.Queue()

    def readable() -> None:
        try:
            data = os.read(master, _CHUNK)
        except BlockingIOError:
            return
        except OSError:  # EIO: every holder of the pty's other end is gone
            data = b""
        if not data:
            loop.remove_reader(master)
        output.put_nowait(data)

    async def forward() -> None:
        while data := await output.get():
            await streams.write_stdout(data)

    async def write(data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(master, view) :]
            except BlockingIOError:
                await asyncio.sleep(0.01)

    async def resize() -> None:
        if not first_size.done() and (size := await first_size) is not None:
            set_window_size(master, *size)
        while (size := await streams.resize()) is not None:
            set_window_size(master, *size)

    loop.add_reader(master, readable)
    helpers = [asyncio.create_task(_pump_stdin(streams, write)), asyncio.create_task(resize())]
    forwarder = asyncio.create_task(forward())
    try:
        code = await waiter.wait()
        await _finish([forwarder])
    finally:
        loop.remove_reader(master)
        await _finish(helpers, grace=0)
    return code
