"""`crosstalk queue list | retry`: the operator's view of the durable queues (a row that
stopped for good is listed with its last error and can be sent again), and
`crosstalk erase`: a customer's data removed everywhere Crosstalk keeps it."""

from __future__ import annotations

import argparse
import json
from typing import TextIO

from sqlmodel import Session

from bot.core.clock import Clock
from store.db import Database
from store.erase import erase_customer
from store.models import InboxEvent, OutboxMessage
from store.orgs import org_id_of
from store.queue import revive, rows

QUEUES: dict[str, type[InboxEvent] | type[OutboxMessage]] = {
    "inbox": InboxEvent,
    "outbox": OutboxMessage,
}


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    queue = sub.add_parser("queue", help="list or retry queued events and side effects")
    q_sub = queue.add_subparsers(dest="queue_command", required=True)
    listing = q_sub.add_parser("list", help="rows not done yet, oldest first")
    listing.add_argument("--dead", action="store_true", help="only the rows that stopped")
    listing.add_argument("--json", action="store_true", help="one JSON object per row")
    retry = q_sub.add_parser("retry", help="send dead rows again")
    retry.add_argument("rows", nargs="*", help="inbox:ID or outbox:ID (see `queue list`)")
    retry.add_argument("--all-dead", action="store_true", help="every dead row")


def add_erase_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    erase = sub.add_parser(
        "erase", help="delete everything Crosstalk keeps about one customer (GDPR erasure)"
    )
    who = erase.add_mutually_exclusive_group(required=True)
    who.add_argument("--crm-ref", help="the customer's CRM reference")
    who.add_argument("--customer", help="the customer's name as the flags name them")


def erase_command(args: argparse.Namespace, *, db: Database, org: str, out: TextIO) -> int:
    """Erase within the org the config names (another org's customers are not touched)."""

    def erase(session: Session) -> dict[str, int]:
        org_id = org_id_of(session=session, name=org)
        if org_id is None:
            return {"flags": 0}
        return erase_customer(
            session=session, org_id=org_id, crm_ref=args.crm_ref, customer=args.customer
        )

    counts = db.transaction(erase)
    named = args.crm_ref or args.customer
    if not counts["flags"]:
        print(f"crosstalk: nothing is kept about {named!r}", file=out)
        return 0
    detail = ", ".join(f"{v} {k}" for k, v in counts.items() if v)
    print(f"crosstalk: erased {named!r}: {detail}", file=out)
    print("  (messages already posted in Slack or Teams are the platforms' to delete)", file=out)
    return 0


def _parse(names: list[str]) -> dict[str, list[int]]:
    chosen: dict[str, list[int]] = {}
    for name in names:
        queue, _, number = name.partition(":")
        if queue not in QUEUES or not number.isascii() or not number.isdecimal():
            raise ValueError(f"{name!r} is not inbox:ID or outbox:ID")
        chosen.setdefault(queue, []).append(int(number))
    return chosen


def _line(name: str, row: InboxEvent | OutboxMessage) -> dict[str, object]:
    return {
        "row": f"{name}:{row.id}",
        "status": row.status,
        "kind": row.kind,
        "attempts": row.attempts,
        "next_attempt_at": row.next_attempt_at.isoformat(),
        "last_error": row.last_error,
    }


def _list(args: argparse.Namespace, db: Database, out: TextIO) -> int:
    status = "dead" if args.dead else None
    for name, model in QUEUES.items():

        def read(
            session: Session, model: type[InboxEvent] | type[OutboxMessage] = model
        ) -> list[InboxEvent | OutboxMessage]:
            return list(rows(session=session, model=model, status=status))

        for row in db.transaction(read):
            line = _line(name, row)
            if args.json:
                print(json.dumps(line), file=out)
                continue
            error = f"  {row.last_error}" if row.last_error else ""
            print(
                f"{line['row']:<14} {row.status:<8} {row.kind:<16} attempts {row.attempts}{error}",
                file=out,
            )
    return 0


def _retry(args: argparse.Namespace, db: Database, clock: Clock, out: TextIO, err: TextIO) -> int:
    if not args.rows and not args.all_dead:
        print("usage: crosstalk queue retry inbox:ID|outbox:ID ... | --all-dead", file=err)
        return 2
    try:
        chosen = _parse(args.rows)
    except ValueError as exc:
        print(f"crosstalk queue retry: {exc}", file=err)
        return 2
    now = clock.now()
    total = 0
    for name, model in QUEUES.items():
        if not args.all_dead and name not in chosen:
            continue
        ids = None if args.all_dead else chosen[name]

        def send_again(
            session: Session,
            model: type[InboxEvent] | type[OutboxMessage] = model,
            ids: list[int] | None = ids,
        ) -> int:
            return revive(session=session, model=model, ids=ids, now=now)

        total += db.transaction(send_again)
    print(f"crosstalk: {total} dead row(s) queued again", file=out)
    return 0


def queue_command(
    args: argparse.Namespace, *, db: Database, clock: Clock, out: TextIO, err: TextIO
) -> int:
    if args.queue_command == "list":
        return _list(args, db, out)
    return _retry(args, db, clock, out, err)
