"""What a failed command says: one line naming what to fix, never a traceback."""

from __future__ import annotations

import errno
import socket
from importlib import metadata
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError

URL_FORMS = "sqlite:///path/to/crosstalk.db or postgresql://user:password@host/db"


def version() -> str:
    try:
        return metadata.version("crosstalk")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def shown_url(url: str) -> str:
    """The database URL with its password masked (or a placeholder when it cannot be read)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "(not a URL)"


def _first_line(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return lines[0].strip() if lines else type(cause).__name__


def database_problem(exc: SQLAlchemyError, url: str) -> str:
    where = shown_url(url)
    if isinstance(exc, ArgumentError | NoSuchModuleError):
        return (
            f"CROSSTALK_DATABASE_URL={where} is not a database URL Crosstalk can use ({URL_FORMS})"
        )
    if isinstance(exc, OperationalError):
        return (
            f"cannot use the database at {where} ({_first_line(exc)}): check "
            "CROSSTALK_DATABASE_URL and that the database server is up"
        )
    return f"the database at {where} failed: {_first_line(exc)}"


def settings_problem(exc: ValueError) -> str:
    """A pydantic ValidationError (an environment variable that does not parse) or our own
    ValueError, as one line naming the variable."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        parts = []
        for error in errors():
            where = ".".join(str(p) for p in error.get("loc", ())) or "a setting"
            parts.append(f"{where}: {error.get('msg', 'invalid')}")
        if parts:
            return "; ".join(parts)
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def listen_socket(host: str, port: int) -> socket.socket:
    """A socket bound to host:port and listening; an OSError whose `strerror` says what to
    change (`crosstalk serve` prints it and exits)."""
    if not 0 <= port < 65536:  # 0: any free port
        raise OSError(errno.EINVAL, f"--port {port} is not a port (1-65535)")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise OSError(errno.EINVAL, f"--host {host}: no such address ({exc.strerror})") from exc
    family = infos[0][0]
    try:
        return socket.create_server((host, port), family=family, backlog=1024)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            why = f"port {port} on {host} is already in use: stop what listens there or use --port"
        elif exc.errno == errno.EACCES:
            why = f"port {port} needs privileges: use a port above 1023 behind a reverse proxy"
        elif exc.errno == errno.EADDRNOTAVAIL:
            why = f"--host {host} is not an address of this machine"
        else:
            why = f"cannot listen on {host}:{port}: {exc.strerror}"
        raise OSError(exc.errno, why) from exc


def write_problem(option: str, out: str, exc: OSError) -> str:
    path = Path(out)
    if isinstance(exc, IsADirectoryError) or path.is_dir():
        example = path / "crosstalk-teams.zip"
        return f"{option} {out} is a directory: name the file to write, e.g. {example}"
    if isinstance(exc, FileNotFoundError):
        return f"{option} {out}: the directory {path.parent} does not exist"
    if isinstance(exc, PermissionError):
        return f"{option} {out}: permission denied"
    return f"{option} {out}: {exc.strerror or exc}"
