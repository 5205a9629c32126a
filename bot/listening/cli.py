"""`crosstalk listen evaluate` and `crosstalk listen status` (SPEC "Listening")."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_parser(sub: Any) -> None:
    listen = sub.add_parser("listen", help="the listening model: evaluate it, or its status")
    listen_sub = listen.add_subparsers(dest="listen_command", required=True)
    evaluate = listen_sub.add_parser(
        "evaluate", help="train on a CSV as the server learns from feedback; score another"
    )
    evaluate.add_argument("--train", required=True, help="CSV with columns text, flag, team")
    evaluate.add_argument("--test", required=True, help="CSV with columns text, flag, team")
    evaluate.add_argument("--json", action="store_true", help="one JSON object")
    status = listen_sub.add_parser(
        "status", help="each org's model: version, labels, precision, recall, threshold"
    )
    status.add_argument("--json", action="store_true", help="JSON")


def command(args: argparse.Namespace, database_url: str) -> int:
    if args.listen_command == "evaluate":
        from bot.listening.evaluate import evaluate_command

        return evaluate_command(
            train=args.train, test=args.test, as_json=args.json, out=sys.stdout, err=sys.stderr
        )
    from bot.listening.status import status_command
    from store.db import Database, make_engine

    db = Database(make_engine(database_url), threads=1)
    try:
        return status_command(db=db, as_json=args.json, out=sys.stdout)
    finally:
        db.close()
