"""The ``portal`` command: serve, web, scheduler, migrate, demo, check, create-user, jobs."""

from __future__ import annotations

import argparse
import asyncio
import errno
import getpass
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from tortoise import Tortoise

from portal.db import migrate_database, tortoise_config
from portal.settings import Settings, SettingsError

MAX_WORKERS = 64


async def _with_db(settings: Settings, work: Callable[[], Awaitable[Any]]) -> Any:
    from portal.accounts import service as accounts

    accounts.use_password_profile(settings.password_hashing)  # create-user, demo
    await Tortoise.init(config=tortoise_config(settings.database_url))
    try:
        return await work()
    finally:
        await Tortoise.close_connections()


def _serve(settings: Settings, args: argparse.Namespace, *, scheduler: bool) -> int:
    from portal.serving import serve

    problem = _port_problem(args.host, args.port)
    if problem:
        print(f"error: cannot serve on {args.host}:{args.port}: {problem}; stop the other "
              f"server or choose another port (PORT=8001 make run, or --port 8001)",
              file=sys.stderr)
        return 1
    if args.workers > 1 and settings.rate_limit_storage.startswith("memory://"):
        print(f"warning: each of the {args.workers} workers counts sign-in attempts on its "
              "own (PORTAL_RATE_LIMIT_STORAGE is memory://); point it at a shared Redis "
              "for the limits to hold across workers", file=sys.stderr)
    asyncio.run(migrate_database(settings.database_url))
    serve(settings, host=args.host, port=args.port, workers=args.workers,
          scheduler=scheduler, access_log=args.access_log)
    return 0


def _port_problem(host: str, port: int) -> str:
    """Why the port cannot be listened on ("" if it can), found before anything starts:
    uvicorn finds out only after the app (and its scheduler) has started."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        return "the port is already in use" if exc.errno == errno.EADDRINUSE else str(exc)
    return ""


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    return _serve(settings, args, scheduler=True)


def cmd_web(settings: Settings, args: argparse.Namespace) -> int:
    return _serve(settings, args, scheduler=False)


def cmd_scheduler(settings: Settings, args: argparse.Namespace) -> int:
    from portal.serving import run_scheduler

    async def run() -> None:
        await migrate_database(settings.database_url)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signal_number, stop.set)
        print("scheduler running; Ctrl+C stops it", flush=True)
        await run_scheduler(settings, stop)
        print("scheduler stopped", flush=True)

    asyncio.run(run())
    return 0


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    asyncio.run(migrate_database(settings.database_url))
    print("database is up to date")
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import UTC, datetime
    from pathlib import Path

    from portal.demo import (
        DEMO_PASSWORD,
        load_demo,
        load_demo_auctions,
        load_demo_catalog,
        load_demo_causes,
        load_demo_history,
        publish_demo_packs,
    )

    asyncio.run(migrate_database(settings.database_url))
    logins = asyncio.run(_with_db(settings, load_demo))

    async def packs() -> list[str]:
        return await publish_demo_packs(media_dir=Path(settings.media_dir),
                                        now=datetime.now(UTC))

    published = asyncio.run(_with_db(settings, packs))

    async def causes() -> int:
        return await load_demo_causes(media_dir=Path(settings.media_dir))

    asyncio.run(_with_db(settings, causes))

    async def rewards() -> int:
        return await load_demo_catalog(media_dir=Path(settings.media_dir), settings=settings)

    asyncio.run(_with_db(settings, rewards))

    async def auctions() -> int:
        return await load_demo_auctions(media_dir=Path(settings.media_dir), settings=settings)

    asyncio.run(_with_db(settings, auctions))
    async def history() -> int:
        return await load_demo_history(media_dir=Path(settings.media_dir))

    asyncio.run(_with_db(settings, history))
    if published:
        print(f"Content packs published: {', '.join(published)}")
    print("Demo data is loaded. Sign in with any of these, password " + DEMO_PASSWORD + ":")
    for email in logins:
        print(f"  {email}")
    return 0


def cmd_check(settings: Settings, args: argparse.Namespace) -> int:
    from portal.leaderboard.counts import count_problems
    from portal.ledger.service import check_invariants

    async def check() -> tuple[list[Any], list[Any]]:
        return await check_invariants(), await count_problems()

    problems, counts = asyncio.run(_with_db(settings, check))
    if not problems:
        print("ledger OK: every invariant holds")
    for problem in problems:
        print(f"account {problem.account_id} ({problem.account_name}): {problem.message}",
              file=sys.stderr)
    if problems:
        print(f"{len(problems)} ledger problem(s) found", file=sys.stderr)
    if not counts:
        print("leaderboards OK: every score count equals a recount of the scores")
    for count in counts:
        print(f"leaderboard counts {count.table}: {count.message}", file=sys.stderr)
    if counts:
        print("Ranks on these boards are off until the counts are refilled from the "
              "scores (the backfills of migrations 0016, 0020 and 0022).", file=sys.stderr)
    return 1 if problems or counts else 0


def cmd_raffle_verify(settings: Settings, args: argparse.Namespace) -> int:
    """Repeats a raffle's draw from its recorded seed and ticket list."""
    from portal.auctions import raffles

    async def verify() -> raffles.Verification:
        return await raffles.verify(args.raffle_id)

    try:
        found = asyncio.run(_with_db(settings, verify))
    except raffles.RaffleRefusal as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"seed: {found.seed}")
    print(f"tickets: {found.tickets}")
    print(f"winning tickets recorded:   {', '.join(map(str, found.recorded)) or '-'}")
    print(f"winning tickets recomputed: {', '.join(map(str, found.recomputed)) or '-'}")
    print("the draw is reproduced" if found.matches else "MISMATCH: the draw differs")
    return 0 if found.matches else 1


def cmd_create_user(settings: Settings, args: argparse.Namespace) -> int:
    from pydantic import EmailStr, TypeAdapter, ValidationError

    from portal.accounts import service as accounts
    from portal.accounts.models import Role
    from portal.members import service as members

    try:
        TypeAdapter(EmailStr).validate_python(args.email)
    except ValidationError:
        print(f"error: {args.email!r} is not a valid e-mail address", file=sys.stderr)
        return 2
    try:
        roles = {Role(role) for role in args.role}
    except ValueError:
        print(f"error: roles must be among {', '.join(Role)}", file=sys.stderr)
        return 2
    password = args.password or getpass.getpass("Password (at least 10 characters): ")
    if len(password) < 10:
        print("error: the password needs at least 10 characters", file=sys.stderr)
        return 2
    asyncio.run(migrate_database(settings.database_url))

    async def create() -> None:
        await members.create_person(email=args.email, password=password,
                                     full_name=args.name, roles=roles)

    try:
        asyncio.run(_with_db(settings, create))
    except accounts.AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"created {args.email} with roles {', '.join(sorted(roles))}")
    return 0


def cmd_publish(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import UTC, datetime
    from pathlib import Path

    from portal.content import schema, service

    folder = Path(args.folder)
    if not folder.is_dir():
        print(f"error: {folder} is not a folder", file=sys.stderr)
        return 2
    try:
        pack = schema.read_pack(folder)
    except schema.PackInvalid as exc:
        return _report_invalid(folder, exc)
    asyncio.run(migrate_database(settings.database_url))

    async def publish() -> service.PublishReport:
        return await service.publish(pack, media_dir=Path(settings.media_dir),
                                     now=datetime.now(UTC), dry_run=args.dry_run)

    try:
        report = asyncio.run(_with_db(settings, publish))
    except schema.PackInvalid as exc:
        return _report_invalid(folder, exc)
    verb = "would publish" if args.dry_run else "published"
    print(f"{verb} pack {report.pack} ({report.questions} questions): "
          f"{len(report.created)} new, {len(report.updated)} changed, "
          f"{len(report.unchanged)} unchanged, {len(report.removed)} removed")
    for label in report.created + report.updated + report.removed:
        print(f"  {label}")
    return 0


def _report_invalid(folder: object, exc: Exception) -> int:
    problems = getattr(exc, "problems", [])
    print(f"error: the pack in {folder} was refused, nothing was written; "
          f"{len(problems)} problem(s):", file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    return 1


def cmd_jobs(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from portal.jobs.scheduler import JOBS

    now = datetime.now(UTC)
    print(f"{'job':16} {'next run (UTC)':20} what it does")
    for job in JOBS.values():
        upcoming = job.trigger.get_next_fire_time(None, now)
        when = upcoming.strftime("%Y-%m-%d %H:%M") if upcoming else "-"
        print(f"{job.name:16} {when:20} {job.description}")
    return 0


def cmd_run_job(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from portal.jobs.scheduler import JOBS, run_job
    from portal.jobs.tasks import Outcome, RunReport

    job = JOBS.get(args.name)
    if job is None:
        print(f"error: there is no job {args.name!r}; the jobs are: {', '.join(JOBS)}",
              file=sys.stderr)
        return 2
    now = datetime.now(UTC)
    if args.now:
        try:
            now = datetime.fromisoformat(args.now)
        except ValueError:
            print(f"error: --now {args.now!r} is not a date and time like 2026-12-31T00:00",
                  file=sys.stderr)
            return 2
        now = now if now.tzinfo else now.replace(tzinfo=UTC)
    asyncio.run(migrate_database(settings.database_url))

    async def run() -> RunReport:
        return await run_job(job, settings, now=now)

    report = asyncio.run(_with_db(settings, run))
    if report.outcome is Outcome.BUSY:
        print(f"{job.name} is running in another process right now; it does "
              f"{job.period(now)} if that is still to do")
        return 0
    if report.outcome is Outcome.ALREADY_DONE or report.run is None:
        print(f"{job.name} for {job.period(now)} was already done; nothing to do")
        return 0
    if report.run.error:
        print(f"error: {job.name} failed: {report.run.error}", file=sys.stderr)
        return 1
    print(f"{job.name} for {job.period(now)}: {report.run.result}")
    return 0


def _workers(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= count <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"must be from 1 to {MAX_WORKERS}, not {count}")
    return count


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="portal", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    for name, func, help_text in [
        ("serve", cmd_serve, "one machine: web server with the scheduler inside"),
        ("web", cmd_web, "a web instance without the scheduler (for several instances)"),
    ]:
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--host", default="127.0.0.1")
        sub.add_argument("--port", type=int, default=os.environ.get("PORT", "8000"),
                         help="default: $PORT, or 8000")
        sub.add_argument("--workers", type=_workers, default=1,
                         help="worker processes, each with its own socket on the port "
                              "(default 1; on PostgreSQL one per core, see the README)")
        sub.add_argument("--no-access-log", dest="access_log", action="store_false")
        sub.set_defaults(func=func)
    commands.add_parser("scheduler", help="run the scheduled jobs alone").set_defaults(
        func=cmd_scheduler)
    commands.add_parser("migrate", help="apply database migrations").set_defaults(
        func=cmd_migrate)
    commands.add_parser("demo", help="load the demo data (safe to repeat)").set_defaults(
        func=cmd_demo)
    commands.add_parser(
        "check", help="verify the ledger invariants and the leaderboards' score counts"
    ).set_defaults(func=cmd_check)
    commands.add_parser("jobs", help="list the scheduled jobs").set_defaults(func=cmd_jobs)
    run_job = commands.add_parser("run-job", help="run a scheduled job now")
    run_job.add_argument("name", help="see `portal jobs`")
    run_job.add_argument("--now", help="replay a moment, e.g. 2026-12-31T00:00 (UTC)")
    run_job.set_defaults(func=cmd_run_job)
    publish = commands.add_parser("publish", help="validate and publish a content pack")
    publish.add_argument("folder", help="the pack's folder, e.g. quizzes/2026-12")
    publish.add_argument("--dry-run", action="store_true",
                         help="validate everything, write nothing")
    publish.set_defaults(func=cmd_publish)
    verify = commands.add_parser("raffle-verify",
                                 help="repeat a raffle's draw from its seed and tickets")
    verify.add_argument("raffle_id", type=int)
    verify.set_defaults(func=cmd_raffle_verify)
    create = commands.add_parser("create-user", help="create a person")
    create.add_argument("email")
    create.add_argument("--name", required=True)
    create.add_argument("--role", action="append", default=[], required=True,
                        help="player, manager, marketing or admin; repeat for several")
    create.add_argument("--password", help="asked for when not given")
    create.set_defaults(func=cmd_create_user)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return int(args.func(settings, args))


if __name__ == "__main__":
    sys.exit(main())
