"""The inside half of a long-lived sandboxed process: a channel and a fork server.

Standard library only, and never imported by the harness: it is copied into a sandbox
(``harness.sandbox.process``) beside the script that uses it (the test server, the
agent process). Such a process is the init of the sandbox's pid namespace. It never runs
untrusted code itself: for each request it forks a child that does, waits for it, then
kills every other process in the namespace and empties the writable root, so nothing a
request leaves behind (a process, a file) reaches the next one. It makes itself
non-dumpable, so a child running as the same user cannot ptrace it or read its memory to
outlive its request that way.
"""

import contextlib
import ctypes
import json
import os
import shutil
import signal
import traceback

PR_SET_DUMPABLE = 4


class Channel:
    """Newline-delimited JSON on two file descriptors, unbuffered on the read side (the
    protocol is strict request/response, so a line is never read ahead of its turn)."""

    def __init__(self, rfd, wfd):
        self.rfd, self.wfd, self.buf = rfd, wfd, b""

    def send(self, message):
        data = (json.dumps(message, ensure_ascii=True) + "\n").encode()
        view = memoryview(data)
        while view:
            view = view[os.write(self.wfd, view):]

    def receive(self):
        while b"\n" not in self.buf:
            chunk = os.read(self.rfd, 1 << 20)
            if not chunk:
                raise EOFError("the harness closed the channel")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return json.loads(line)


def error_message(exc):
    return {"op": "error", "type": type(exc).__name__, "message": str(exc)[:2000],
            "traceback": "".join(traceback.format_exception(exc))[-20000:]}


def open_channel():
    """The protocol on private copies of stdin/stdout; fds 0 and 1 are left to be pointed
    elsewhere in a child (its reads see nothing, its prints go to the log)."""
    return Channel(os.dup(0), os.dup(1))


def quiet_child():
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def make_nondumpable():
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def sweep(root):
    """Kill every other process of the namespace (we are its init) and empty the root."""
    for _ in range(20 if os.getpid() == 1 else 0):  # again, for what forked meanwhile
        others = [int(n) for n in os.listdir("/proc") if n.isdigit() and int(n) != 1]
        if not others:
            break
        for pid in others:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        while True:
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                break
    for entry in os.listdir(root):
        path = os.path.join(root, entry)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.unlink(path)


def fork_server(channel, handle):
    """Serve requests until the harness closes the channel: ``handle(channel, request)``
    runs in a forked child (which exits after it); the server then reports ``exited``."""
    make_nondumpable()
    root = os.getcwd()
    while True:
        try:
            request = channel.receive()
        except EOFError:
            return
        with contextlib.suppress(OSError):  # each request's log starts empty: no run fills it for the next
            os.ftruncate(2, 0)
            os.lseek(2, 0, os.SEEK_SET)
        pid = os.fork()
        if pid == 0:
            quiet_child()
            code = 0
            try:
                handle(channel, request)
            except BaseException as exc:  # noqa: BLE001 - every kind ends this request, reported
                with contextlib.suppress(OSError):
                    channel.send(error_message(exc))
                code = 1
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        sweep(root)
        channel.send({"op": "exited", "status": status})
