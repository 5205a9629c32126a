"""`crosstalk` command line (SPEC "Interfaces")."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import sys
from collections.abc import Sequence

from config.load import ConfigError, load_config
from config.settings import Settings

DEFAULT_PORT = 3978


def _settings() -> Settings:
    return Settings()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crosstalk", description="Customer knowledge, across teams."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP server (Slack, Teams, API)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.add_argument("--no-scheduler", action="store_true", help="do not run scheduled jobs")
    manifest = sub.add_parser("slack-manifest", help="print the Slack app manifest")
    manifest.add_argument("--url", required=True, help="public base URL, e.g. https://bot.acme.com")
    manifest.add_argument("--socket-mode", action="store_true", help="no public URL: Socket Mode")
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply migrations")
    cfg = sub.add_parser("config", help="config file tools")
    cfg_sub = cfg.add_subparsers(dest="config_command", required=True)
    check = cfg_sub.add_parser("check", help="validate the config file")
    check.add_argument("path", nargs="?", help="defaults to $CROSSTALK_CONFIG or crosstalk.toml")
    return parser


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from aiohttp import web

    from bot.app import create_app
    from bot.runtime import StoreNotReady, build_runtime

    config = load_config(settings.config_path)
    try:
        runtime = build_runtime(settings, config)
    except StoreNotReady as exc:
        print(f"crosstalk: {exc}", file=sys.stderr)
        return 2
    app = create_app(runtime)
    print(f"crosstalk: serving {config.org.name} on http://{args.host}:{args.port}", flush=True)
    web.run_app(app, host=args.host, port=args.port, print=None)
    return 0


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = _settings()
    try:
        if args.command == "serve":
            return _serve(args, settings)
        if args.command == "slack-manifest":
            from bot.adapters.slack.manifest import manifest_json

            try:
                print(manifest_json(args.url, socket_mode=args.socket_mode))
            except ValueError as exc:
                print(f"crosstalk slack-manifest: {exc}", file=sys.stderr)
                return 2
            return 0
        if args.command == "db":
            from store.db import make_engine, upgrade

            upgrade(make_engine(settings.database_url))
            print("crosstalk: database is up to date")
            return 0
        if args.command == "config":
            path = args.path or settings.config_path
            config = load_config(path)
            counts = f"{len(config.teams)} teams, {len(config.routes)} routes"
            print(f"{path}: OK ({config.org.name}: {counts})")
            return 0
    except ConfigError as exc:
        print(exc.report(), file=sys.stderr)
        return 2
    return 1


if __name__ == "__main__":
    sys.exit(main())
