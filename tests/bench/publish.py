"""Publishing time of a large pack, measured in-process with the portal's own functions.

``python -m tests.bench.publish WORKDIR`` (``PORTAL_DATABASE_URL`` names the database)
writes a valid pack of 5 quizzes x 100 questions (three question types, English and
Russian) into WORKDIR, then times, as ``portal publish`` does them:

* validation: ``schema.read_pack`` of the folder (YAML parsing and every check);
* publishing: ``service.publish`` of that pack under a new pack id, into the database;
* republishing it unchanged (every quiz found unchanged by its checksum, nothing written).

Each is repeated (``--rounds``, fresh pack ids each round) and every time is printed in
``BENCH_RESULT {json}``. The packs are not live (their window lies in the past), so
players never see them.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import secrets
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from portal.cli import _with_db
from portal.content import schema, service
from portal.settings import Settings
from tests.bench.packs import write_pack

NOT_LIVE_FROM = datetime(2001, 1, 1, tzinfo=UTC)
NOT_LIVE_UNTIL = datetime(2001, 2, 1, tzinfo=UTC)


class PublishBenchError(Exception):
    pass


async def _publish_rounds(pack: schema.Pack, media_dir: Path, rounds: int,
                          tag: str) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"publish_s": [], "republish_s": []}
    for round_ in range(rounds):
        meta = pack.meta.model_copy(update={"id": f"bench-publish-{tag}-{round_}"})
        this = dataclasses.replace(pack, meta=meta)
        started = time.perf_counter()
        first = await service.publish(this, media_dir=media_dir, now=datetime.now(UTC))
        times["publish_s"].append(time.perf_counter() - started)
        started = time.perf_counter()
        again = await service.publish(this, media_dir=media_dir, now=datetime.now(UTC))
        times["republish_s"].append(time.perf_counter() - started)
        if len(first.created) != len(pack.quizzes) or first.updated or first.removed:
            raise PublishBenchError(f"the first publish did not create every quiz: {first}")
        if again.created or again.updated or again.removed:
            raise PublishBenchError(f"republishing the same pack changed something: {again}")
    return times


def run(workdir: Path, *, quizzes: int, questions: int, rounds: int) -> dict[str, Any]:
    tag = secrets.token_hex(3)  # a database kept between runs gets new packs each time
    folder = workdir / "publish-pack"
    write_pack(folder, pack_id=f"bench-publish-{tag}", title="Bench publish",
               quizzes=quizzes, questions=questions, live_from=NOT_LIVE_FROM,
               live_until=NOT_LIVE_UNTIL)
    validate: list[float] = []
    pack = None
    for _ in range(rounds):
        started = time.perf_counter()
        pack = schema.read_pack(folder)
        validate.append(time.perf_counter() - started)
    assert pack is not None
    total = sum(len(quiz.questions) for quiz in pack.quizzes)

    async def publish() -> dict[str, list[float]]:
        return await _publish_rounds(pack, workdir / "media", rounds, tag)

    times = asyncio.run(_with_db(Settings.from_env(), publish))
    return {"questions": total, "quizzes": len(pack.quizzes), "validate_s": validate,
            **times}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.publish",
                                     description=__doc__)
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--quizzes", type=int, default=5)
    parser.add_argument("--questions", type=int, default=100, help="per quiz (at most 100)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    try:
        result = run(args.workdir, quizzes=args.quizzes, questions=args.questions,
                     rounds=args.rounds)
    except (PublishBenchError, schema.PackInvalid) as exc:
        problems = getattr(exc, "problems", [])
        print(f"publish bench failed: {exc}", *problems, sep="\n  ", file=sys.stderr)
        return 1
    print("BENCH_RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
