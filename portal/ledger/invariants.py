"""The ledger's invariants, checked over the whole database (by tests and ``portal check``):
every balance is the sum of its transfers, every ``held`` the sum of its open holds, no
person's available points below zero, earnings counted in full, all balances adding up to
zero."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise import connections


@dataclass(frozen=True)
class Problem:
    account_id: int | None
    account_name: str
    message: str


_INVARIANT_QUERIES = {
    "balance differs from the sum of its transfers": """
        SELECT a.id, a.name, a.balance AS stored,
               COALESCE(c.total, 0) - COALESCE(d.total, 0) AS computed
        FROM account a
        LEFT JOIN (SELECT target_id, SUM(amount) AS total FROM transfer GROUP BY target_id) c
               ON c.target_id = a.id
        LEFT JOIN (SELECT source_id, SUM(amount) AS total FROM transfer GROUP BY source_id) d
               ON d.source_id = a.id
        WHERE a.balance <> COALESCE(c.total, 0) - COALESCE(d.total, 0)
    """,
    "held differs from the sum of its open holds": """
        SELECT a.id, a.name, a.held AS stored, COALESCE(h.total, 0) AS computed
        FROM account a
        LEFT JOIN (SELECT account_id, SUM(amount) AS total FROM hold
                   WHERE status = 'open' GROUP BY account_id) h ON h.account_id = a.id
        WHERE a.held <> COALESCE(h.total, 0)
    """,
    "available points are negative": """
        SELECT id, name, balance - held AS stored, 0 AS computed FROM account
        WHERE kind <> 'system' AND (balance - held < 0 OR held < 0)
    """,
    "earned total differs from the sum of its earnings": """
        SELECT a.id, a.name, a.earned_total AS stored, COALESCE(e.total, 0) AS computed
        FROM account a
        LEFT JOIN (SELECT target_id, SUM(amount) AS total FROM transfer
                   WHERE kind = 'earn' GROUP BY target_id) e ON e.target_id = a.id
        WHERE a.earned_total <> COALESCE(e.total, 0)
    """,
    "season earnings differ from the earn transfers of that season": """
        SELECT a.id, a.name, s.earned AS stored, COALESCE(e.total, 0) AS computed
        FROM season_score s JOIN account a ON a.id = s.account_id
        LEFT JOIN (SELECT target_id, season, SUM(amount) AS total FROM transfer
                   WHERE kind = 'earn' GROUP BY target_id, season) e
               ON e.target_id = s.account_id AND e.season = s.season
        WHERE s.earned <> COALESCE(e.total, 0)
    """,
    "a transfer moves no points": """
        SELECT a.id, a.name, t.amount AS stored, 1 AS computed
        FROM transfer t JOIN account a ON a.id = t.source_id WHERE t.amount <= 0
    """,
}


async def check_invariants() -> list[Problem]:
    """Every broken ledger invariant in the whole database; empty when all hold."""
    conn = connections.get("default")
    problems: list[Problem] = []
    for message, sql in _INVARIANT_QUERIES.items():
        for row in await conn.execute_query_dict(sql):
            problems.append(
                Problem(
                    row["id"],
                    row["name"],
                    f"{message} (stored {row['stored']}, expected {row['computed']})",
                )
            )
    totals = await conn.execute_query_dict("SELECT COALESCE(SUM(balance), 0) AS total FROM account")
    if int(totals[0]["total"]) != 0:
        problems.append(
            Problem(None, "all accounts", f"balances add up to {totals[0]['total']}, not 0")
        )
    return problems
