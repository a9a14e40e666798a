"""PostgreSQL's pooled connections go back to the pool without asyncpg's reset query
(``portal.db.PooledConnection``), which is safe only while nothing the portal sends leaves
session state behind on them; these tests hold both."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tortoise import Tortoise, connections
from tortoise.transactions import in_transaction

from portal.db import tortoise_config
from tests.conftest import _close_orm

PORTAL = Path(__file__).resolve().parents[2] / "portal"

# What would outlive its transaction on a pooled connection, were the pool not to reset it.
SESSION_STATE = {
    "a session setting (SET without LOCAL)": re.compile(r"(^|;)\s*SET\s+(?!LOCAL\b)", re.I),
    "a setting changed for the session": re.compile(r"set_config\s*\([^)]*\bfalse\s*\)", re.I),
    "a session advisory lock": re.compile(r"pg_(try_)?advisory_lock(_shared)?\s*\(", re.I),
    "a LISTEN": re.compile(r"(^|;)\s*LISTEN\b", re.I),
    "a cursor WITH HOLD": re.compile(r"\bWITH\s+HOLD\b", re.I),
    "a temporary table": re.compile(r"\bCREATE\s+(GLOBAL\s+|LOCAL\s+)?TEMP(ORARY)?\b", re.I),
    "a prepared statement of its own": re.compile(r"(^|;)\s*PREPARE\s+\w+", re.I),
}
# The job locks: advisory locks on a connection of the job's own, closed after the run.
OWN_CONNECTION = {PORTAL / "jobs" / "locks.py"}


def _strings(tree: ast.AST) -> list[str]:
    """Every string literal, an f-string with ``{}`` where its values go."""
    inside_f = {
        id(value)
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
        for value in node.values
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            found.append(
                "".join(
                    str(value.value) if isinstance(value, ast.Constant) else "{}"
                    for value in node.values
                )
            )
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in inside_f
        ):
            found.append(node.value)
    return found


def test_no_statement_of_the_portal_leaves_session_state() -> None:
    problems = []
    for path in sorted(PORTAL.rglob("*.py")):
        if path in OWN_CONNECTION:
            continue
        for text in _strings(ast.parse(path.read_text(), str(path))):
            problems += [
                f"{path.relative_to(PORTAL.parent)}: {what}: {text[:80]!r}"
                for what, pattern in SESSION_STATE.items()
                if pattern.search(text)
            ]
    assert problems == []


def test_the_checks_see_what_they_look_for() -> None:
    samples = [
        "SET synchronous_commit TO OFF",
        "SELECT set_config('x', 'y', false)",
        "SELECT pg_advisory_lock($1)",
        "LISTEN news",
        "DECLARE c CURSOR WITH HOLD",
        "CREATE TEMP TABLE t (x int)",
        "PREPARE p AS SELECT 1",
    ]
    for sample, pattern in zip(samples, SESSION_STATE.values(), strict=True):
        assert pattern.search(sample), sample
    fine = [
        "UPDATE game SET sent_at = $1",
        "SET LOCAL synchronous_commit TO OFF",
        "SELECT pg_advisory_xact_lock($1)",
        "INSERT INTO t (a) VALUES (1) ON CONFLICT (a) DO UPDATE SET a = excluded.a",
    ]
    assert [text for text in fine if any(p.search(text) for p in SESSION_STATE.values())] == []


async def test_a_pooled_connection_goes_back_without_a_round_trip(postgres_url: str) -> None:
    await Tortoise.init(config=tortoise_config(postgres_url + "?minsize=1&maxsize=1"))
    try:
        client = connections.get("default")
        sent: list[str] = []
        async with client.acquire_connection() as conn:  # the pool's only connection
            conn.add_query_logger(lambda query: sent.append(query.query))
        await client.execute_query_dict("SELECT 1 AS one")
        async with in_transaction() as transaction:
            await transaction.execute_query("SELECT 2 AS two")
        assert sent == ["SELECT 1 AS one", "BEGIN;", "SELECT 2 AS two", "COMMIT;"]
    finally:
        await _close_orm()


async def test_a_transaction_left_open_is_rolled_back_with_its_settings(postgres_url: str) -> None:
    await Tortoise.init(config=tortoise_config(postgres_url + "?minsize=1&maxsize=1"))
    try:
        client = connections.get("default")
        async with client.acquire_connection() as conn:
            await conn.execute("BEGIN")
            await conn.execute("SET LOCAL synchronous_commit TO OFF")
            await conn.execute("CREATE TABLE left_open (x int)")
        async with client.acquire_connection() as conn:
            assert not conn.is_in_transaction()
            assert await conn.fetchval("SHOW synchronous_commit") == "on"
            assert await conn.fetchval("SELECT to_regclass('left_open')") is None
    finally:
        await _close_orm()
