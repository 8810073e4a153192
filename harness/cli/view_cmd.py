"""``harness view``: browse a results store in a web browser (runs, episodes, transcripts).

Everything is checked before serving: a missing or damaged store, or a port that is taken,
is one line and exit code 2. The socket is bound here and handed to uvicorn, so the port
checked is the port served (no window for another process to take it in between).
"""

from __future__ import annotations

import errno
import socket

import typer

from harness.core.errors import UserInputError
from harness.store import reader


def bind(host: str, port: int) -> socket.socket:
    """A listening-ready socket on host:port, or a one-line UserInputError."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UserInputError(f"cannot serve on host {host!r}: {exc.strerror}") from None
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    # as uvicorn does: a restarted viewer may reuse a port whose old connections linger
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise UserInputError(f"port {port} on {host} is in use",
                                 hint="choose another with --port N (or stop what holds it)") from None
        raise UserInputError(f"cannot serve on {host}:{port}: {exc.strerror}") from None
    return sock


def view(
    db: str = typer.Option("results/harness.duckdb", "--db", help="The results store."),
    port: int = typer.Option(8765, "--port", min=0, max=65535, help="The port to serve on (0: any free port)."),
    host: str = typer.Option("127.0.0.1", "--host", help="The address to serve on (default: this machine only)."),
) -> None:
    reader.list_runs(db)  # a missing, damaged or foreign store: StoreError, exit 2, nothing served
    sock = bind(host, port)
    import uvicorn  # the server only when serving: `harness --help` stays fast

    from harness.view.app import create_app

    bound = sock.getsockname()[1]
    typer.echo(f"harness view: http://{host}:{bound}/ (store {db}); Ctrl-C stops", err=True)
    config = uvicorn.Config(create_app(db), log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])
