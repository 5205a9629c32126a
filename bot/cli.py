"""`crosstalk` command line (SPEC "Interfaces")."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from collections.abc import Callable, Sequence

from sqlalchemy.exc import SQLAlchemyError

from bot import queue_cli
from bot.cli_errors import database_problem, listen_socket, settings_problem, version, write_problem
from bot.core.clock import Clock, clock_from
from bot.listening import cli as listen_cli
from bot.logs import configure as configure_logging
from config.load import ConfigError, load_config
from config.schema import CrosstalkConfig
from config.settings import Settings

DEFAULT_PORT = 3978
DEFAULT_HOST = "127.0.0.1"


def _settings() -> Settings:
    return Settings()


def _running_config(settings: Settings) -> CrosstalkConfig:
    """The config file with its names (#channel, @person, e-mail) resolved to ids."""
    from bot.names import resolved

    return resolved(settings, load_config(settings.config_path))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crosstalk", description="Customer knowledge, across teams."
    )
    parser.add_argument("--version", action="version", version=f"crosstalk {version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP server (Slack, Teams, API)")
    serve.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to listen on (default: {DEFAULT_HOST})"
    )
    serve.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default: {DEFAULT_PORT})"
    )
    serve.add_argument("--no-scheduler", action="store_true", help="do not run scheduled jobs")
    demo = sub.add_parser(
        "demo", help="play a sample org through the real server, locally, and print what happened"
    )
    demo.add_argument(
        "--charts",
        metavar="DIR",
        default="crosstalk-demo-charts",
        help="where the digests' PNG charts are written (default: ./crosstalk-demo-charts)",
    )
    demo.add_argument(
        "--serve", action="store_true", help="keep the server up afterwards, with a dashboard link"
    )
    demo.add_argument("--port", type=int, default=0, help="with --serve: the port (default: free)")
    manifest = sub.add_parser("slack-manifest", help="print the Slack app manifest")
    manifest.add_argument("--url", required=True, help="public base URL, e.g. https://bot.acme.com")
    manifest.add_argument("--socket-mode", action="store_true", help="no public URL: Socket Mode")
    package = sub.add_parser("teams-package", help="write the Teams app package (zip)")
    package.add_argument("--app-id", help="the bot's Microsoft App ID (default: $MICROSOFT_APP_ID)")
    package.add_argument(
        "--url", help="public base URL, e.g. https://bot.acme.com (default: $CROSSTALK_PUBLIC_URL)"
    )
    package.add_argument("--out", default="crosstalk-teams.zip", help="the zip to write")
    digest = sub.add_parser("digest", help="print or send the weekly digests")
    digest.add_argument("--week", help="ISO week, e.g. 2026-W47 (default: the last complete one)")
    digest.add_argument("--team", help="one team's key, or 'managers' for the org digest")
    mode = digest.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="print only (the default)")
    mode.add_argument("--send", action="store_true", help="queue for sending (once per week)")
    digest.add_argument(
        "--charts", metavar="DIR", help="with a dry run: write each digest's PNG charts into DIR"
    )
    roi = sub.add_parser(
        "roi",
        help="the /roi figures in the terminal",
        epilog="Every figure and --json key is defined in docs/metrics.md (in the repository).",
    )
    roi.add_argument("--period", help="7d, 30d (default), 90d, quarter, 2026-Q3, A..B dates")
    roi.add_argument("--team", help="one team's figures (a team key)")
    roi.add_argument("--json", action="store_true", help="the stable JSON of docs/metrics.md")
    link = sub.add_parser("dashboard-link", help="print a one-time dashboard sign-in link")
    link.add_argument("--user", required=True, help="the manager's user id (config roi.managers)")
    link.add_argument("--platform", choices=("slack", "teams"), default="slack")
    queue_cli.add_parser(sub)
    queue_cli.add_erase_parser(sub)
    listen_cli.add_parser(sub)
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply migrations")
    cfg = sub.add_parser("config", help="config file tools")
    cfg_sub = cfg.add_subparsers(dest="config_command", required=True)
    check = cfg_sub.add_parser("check", help="validate the config file")
    check.add_argument("path", nargs="?", help="defaults to $CROSSTALK_CONFIG or crosstalk.toml")
    return parser


def _serve(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    from aiohttp import web

    from bot.app import StartupRefused, create_app
    from bot.runtime import StoreNotReady, build_runtime

    try:  # bound before anything starts: a port in use is said first, and "serving" never
        sock = listen_socket(args.host, args.port)
    except OSError as exc:
        print(f"crosstalk: {exc.strerror}", file=sys.stderr)
        return 2
    config = _running_config(settings)
    try:
        runtime = build_runtime(settings, config, clock=clock)
    except StoreNotReady as exc:
        sock.close()
        print(f"crosstalk: {exc}", file=sys.stderr)
        return 2
    try:
        app = create_app(runtime, host=args.host, run_scheduler=not args.no_scheduler)
    except StartupRefused as exc:
        sock.close()
        print(f"crosstalk: {exc}", file=sys.stderr)
        return 2
    serving = f"crosstalk: serving {config.org.name} on http://{args.host}:{args.port}"

    async def started(_: web.Application) -> None:
        print(serving, flush=True)

    app.on_startup.append(started)  # after the workers and the scheduler have started
    # What startup built lives as long as the process: frozen, a full collection skips it,
    # which took ~90 ms (every request in flight waiting) in bench/slack_events.py.
    gc.collect()
    gc.freeze()
    web.run_app(app, sock=sock, print=None)
    return 0


def _digest(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    from bot.handlers.digest.cli import digest_command
    from bot.runtime import StoreNotReady, build_runtime

    try:
        runtime = build_runtime(settings, _running_config(settings), clock=clock)
    except StoreNotReady as exc:
        print(f"crosstalk: {exc}", file=sys.stderr)
        return 2
    try:
        return digest_command(
            runtime,
            week=args.week,
            team=args.team,
            send=args.send,
            out=sys.stdout,
            err=sys.stderr,
            charts=args.charts,
        )
    finally:
        runtime.engine.dispose()


def _roi(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    import json

    from bot.handlers.roi.report import roi_report
    from bot.handlers.roi.view import roi_text
    from bot.runtime import StoreNotReady, build_runtime

    try:
        runtime = build_runtime(settings, _running_config(settings), clock=clock)
    except StoreNotReady as exc:
        print(f"crosstalk: {exc}", file=sys.stderr)
        return 2
    try:
        report = roi_report(
            engine=runtime.engine,
            org=runtime.org,
            clock=runtime.clock,
            period=args.period,
            team=args.team,
        ).to_json()
    except ValueError as exc:
        usage = "usage: crosstalk roi [--period P] [--team T] [--json]"
        print(f"crosstalk roi: {str(exc).splitlines()[0]}\n{usage}", file=sys.stderr)
        return 2
    finally:
        runtime.engine.dispose()
    print(json.dumps(report, indent=2) if args.json else roi_text(report))
    return 0


def _dashboard_link(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    from bot.core.refs import Platform, UserRef
    from bot.runtime import StoreNotReady, build_runtime
    from bot.web.links import NO_PUBLIC_URL, new_link

    if not settings.public_url:
        print(f"crosstalk dashboard-link: {NO_PUBLIC_URL}", file=sys.stderr)
        return 2
    user = UserRef(Platform(args.platform), args.user)
    try:
        runtime = build_runtime(settings, _running_config(settings), clock=clock)
    except StoreNotReady as exc:
        print(f"crosstalk: {exc}", file=sys.stderr)
        return 2
    try:
        if not runtime.config.roi.is_manager(user):
            print(
                f"crosstalk dashboard-link: {args.platform} user {args.user} is not a manager "
                "(config roi.managers), so the dashboard would refuse them",
                file=sys.stderr,
            )
            return 2
        url = runtime.db.transaction(
            lambda s: new_link(
                s, org_id=runtime.org.org_id, user=user, clock=clock, public_url=settings.public_url
            )
        )
    finally:
        runtime.db.close()
    print(url)
    return 0


def _demo(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    import asyncio
    from pathlib import Path

    from bot.demo.run import run_demo

    charts = Path(args.charts)
    if charts.exists() and not charts.is_dir():
        print(
            f"crosstalk demo: --charts {charts}: that is a file, not a directory", file=sys.stderr
        )
        return 2
    logging.getLogger().setLevel(logging.WARNING)  # the report is the output
    demo = run_demo(today=clock.now(), charts=Path(args.charts), serve=args.serve, port=args.port)
    try:
        return asyncio.run(demo)
    except KeyboardInterrupt:  # Ctrl-C ends `--serve`: the demo's work is done
        return 0


def _slack_manifest(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    from bot.adapters.slack.manifest import manifest_json

    try:
        print(manifest_json(args.url, socket_mode=args.socket_mode))
    except ValueError as exc:
        print(f"crosstalk slack-manifest: {exc}", file=sys.stderr)
        return 2
    return 0


def _teams_package(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    from bot.adapters.teams.package import USAGE, chosen, write_package

    try:
        app_id, url = chosen(args.app_id, args.url, settings=settings)
    except ValueError as exc:
        print(f"crosstalk teams-package: {exc}\n{USAGE}", file=sys.stderr)
        return 2
    try:
        write_package(args.out, app_id=app_id, url=url)
    except ValueError as exc:
        print(f"crosstalk teams-package: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"crosstalk teams-package: {write_problem('--out', args.out, exc)}", file=sys.stderr)
        return 2
    print(f"crosstalk: wrote {args.out}")
    return 0


def _queues(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    from store.db import Database, make_engine

    db = Database(make_engine(settings.database_url), threads=1)
    try:
        if args.command == "erase":
            org = load_config(settings.config_path).org.name
            return queue_cli.erase_command(args, db=db, org=org, out=sys.stdout)
        return queue_cli.queue_command(args, db=db, clock=clock, out=sys.stdout, err=sys.stderr)
    finally:
        db.close()


def _db(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    from store.db import make_engine, upgrade

    upgrade(make_engine(settings.database_url))
    print("crosstalk: database is up to date")
    return 0


def _config(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    path = args.path or settings.config_path
    config = load_config(path)
    counts = f"{len(config.teams)} teams, {len(config.routes)} routes"
    print(f"{path}: OK ({config.org.name}: {counts})")
    from config.names import resolution_note

    if note := resolution_note(config.model_dump()):
        print(f"{path}: {note}")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings, Clock], int]] = {
    "serve": _serve,
    "demo": _demo,
    "slack-manifest": _slack_manifest,
    "teams-package": _teams_package,
    "roi": _roi,
    "dashboard-link": _dashboard_link,
    "digest": _digest,
    "queue": _queues,
    "erase": _queues,
    "db": _db,
    "config": _config,
    "listen": lambda args, settings, clock: listen_cli.command(args, settings.database_url),
}


def main(argv: Sequence[str] | None = None, *, clock: Clock | None = None) -> int:
    """`clock`: the time every command works on (tests pass a fake one); by default the
    system's, or the one `CROSSTALK_CLOCK_START` sets."""
    args = _parser().parse_args(argv)
    try:
        configure_logging(os.environ)
        settings = _settings()
    except ValueError as exc:  # pydantic's ValidationError is one
        print(f"crosstalk: {settings_problem(exc)}", file=sys.stderr)
        return 2
    clock = clock or clock_from(settings.clock_start)
    try:
        return COMMANDS[args.command](args, settings, clock)
    except ConfigError as exc:
        print(exc.report(), file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        print(f"crosstalk: {database_problem(exc, settings.database_url)}", file=sys.stderr)
        return 2
    except OSError as exc:  # the machine's refusal (a file, a socket): what and where
        where = f": {exc.filename}" if exc.filename else ""
        print(f"crosstalk: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
