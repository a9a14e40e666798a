"""Redeeming's hot path (issue 10's benchmark) on SQLite and PostgreSQL: a sold-out attempt
is the read that says so, with no lock nor transaction, and nothing more; a win's writes
after the claim (the order, which owes its code's e-mail, and the payment) go in one round
trip (``db.execute_together``), and the mail job queues the e-mail, with the code as the
pool sealed it; mail queued before that still opens."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from tortoise import connections
from tortoise.exceptions import IntegrityError

from portal.catalog import service as catalog
from portal.catalog.models import Category, Code, Order, Reveal
from portal.db import dialect_sql, execute_together, is_postgres, write_transaction
from portal.ledger.models import Account, Transfer
from portal.notifications import mail
from portal.notifications.models import Email
from portal.sealing import Sealer
from tests.catalog.stock import SETTINGS, code_file, give, item
from tests.factories import make_person
from tests.sql_log import statements

pytestmark = pytest.mark.usefixtures("any_db")


async def _player() -> catalog.Viewer:
    person = await make_person()
    await give(person, 1000)
    return await catalog.as_player(person)


async def _next_ids_taken() -> list[Any]:
    """PostgreSQL: the last values the order and transfer sequences gave."""
    conn = connections.get("default")
    if not is_postgres(conn):
        return []
    rows = await conn.execute_query_dict(
        "SELECT (SELECT last_value FROM catalog_order_id_seq) AS o, "
        "(SELECT last_value FROM transfer_id_seq) AS t")
    return [rows[0]["o"], rows[0]["t"]]


def _first_words(sent: list[str]) -> list[str]:
    return [" ".join(sql.split()[:3]).upper() for sql in sent]


async def test_a_sold_out_attempt_is_the_read_that_says_so_and_writes_nothing() -> None:
    alice, card = await _player(), await item(price=100, codes=1)
    await catalog.redeem(alice, card.id, key="hot-path-01", settings=SETTINGS)
    ids_before = await _next_ids_taken()
    with statements() as sent, pytest.raises(catalog.SoldOut):
        await catalog.redeem(alice, card.id, key="hot-path-02", settings=SETTINGS)
    # No id was taken for an order or a payment that cannot be (PostgreSQL's read takes
    # them ahead only while the pool has codes).
    assert await _next_ids_taken() == ids_before
    words = _first_words(sent)
    # The deciding read, with no lock and no transaction (no e-mail rendered either).
    assert len(words) == 1 and words[0].startswith("SELECT"), sent
    assert not any(w.startswith(("INSERT", "UPDATE", "WITH", "DELETE")) for w in words)
    assert await Order.filter(item_id=card.id).count() == 1
    assert await catalog.mail_codes(datetime.now(UTC), SETTINGS) == 1  # the win's alone


async def test_a_win_writes_the_order_and_payment_in_one_round_trip_and_owes_the_mail(
        ) -> None:
    alice, card = await _player(), await item(price=100, codes=2, title="Fuel card")
    with statements() as sent:
        done = await catalog.redeem(alice, card.id, key="hot-path-03", settings=SETTINGS)
    words = _first_words(sent)
    if is_postgres(connections.get("default")):
        # The read with no lock (the item has no monthly limit), then one statement, its
        # own transaction: the claim and every write.
        assert len(words) == 2 and words[1].startswith("WITH PAYABLE AS"), sent
        assert "FOR UPDATE SKIP LOCKED" in sent[1]
    else:
        claim = next(n for n, w in enumerate(words) if w.startswith("UPDATE CATALOG_CODE"))
        # Logged one by one, run in one call on the connection's thread.
        assert [w.split()[:3] for w in words[claim + 1:]] == [
            ["INSERT", "INTO", "CATALOG_ORDER"], ["INSERT", "INTO", "TRANSFER"],
            ["UPDATE", "ACCOUNT", "SET"]], sent
    order = await Order.get(id=done.order_id)
    paid = await Transfer.get(id=order.transfer_id)
    assert (paid.key, paid.reference, paid.amount) == (order.key,
                                                       f"catalog-order:{order.id}", 100)
    # The order owes its code's e-mail; the mail job queues it, and its reveal, once.
    assert order.mail_pending and not await Email.exists() and not await Reveal.exists()
    assert await catalog.mail_codes(datetime.now(UTC), SETTINGS) == 1
    assert await catalog.mail_codes(datetime.now(UTC), SETTINGS) == 0
    assert not (await Order.get(id=order.id)).mail_pending
    assert await Reveal.filter(order_id=order.id, via="email").count() == 1
    queued = await Email.get(key=f"email:catalog-order:{order.id}")
    code = await Code.get(id=order.code_id)
    # The code as its pool sealed it, not sealed again; its value in the bodies.
    assert json.loads(queued.sealed or "") == {catalog.CODE_PLACEHOLDER: code.sealed}
    assert "Value: 50 EUR" in queued.text and catalog.DETAILS_PLACEHOLDER not in queued.text
    # The next win takes the next ids.
    again = await catalog.redeem(alice, card.id, key="hot-path-04", settings=SETTINGS)
    assert again.order_id > order.id
    assert (await Order.get(id=again.order_id)).transfer_id > paid.id


async def test_on_postgresql_only_an_item_with_a_monthly_limit_locks_the_account() -> None:
    if not is_postgres(connections.get("default")):
        pytest.skip("SQLite's write transaction already holds the database's one lock")
    alice, card = await _player(), await item(price=100, codes=2, monthly_limit=2)
    with statements() as sent:
        await catalog.redeem(alice, card.id, key="hot-path-05", settings=SETTINGS)
    words = _first_words(sent)
    # The read with no lock, the lock, the read again (the month's orders as they are
    # now), the claim, and one statement for every other write.
    assert len(words) == 5 and words[1].startswith("SELECT 1 FROM"), sent
    assert "FOR UPDATE" in sent[1] and words[3].startswith("WITH CLAIM AS"), sent


async def test_writes_together_fail_together() -> None:
    conn = connections.get("default")
    assert await execute_together(conn, [
        ("INSERT INTO catalog_category (name, position) VALUES (?, ?)", ["Alpha", 1]),
        ("SELECT name FROM catalog_category WHERE position = ?", [0])]) == []
    with pytest.raises(IntegrityError):
        async with write_transaction() as tx:
            await execute_together(tx, [
                ("INSERT INTO catalog_category (name, position) VALUES (?, ?)", ["Beta", 2]),
                ("INSERT INTO catalog_category (name, position) VALUES (?, ?)", ["Alpha", 3])])
    assert [c.name for c in await Category.all()] == ["Alpha"]


async def test_mail_sealed_whole_before_still_opens(tmp_path: Path) -> None:
    """An e-mail queued with its secrets sealed as one JSON object (as every code's was
    before) is delivered with them filled in."""
    alice = await make_person("alice@example.com")
    settings = SETTINGS.model_copy(update={"outbox_dir": str(tmp_path)})
    now = datetime.now(UTC)
    secret = Sealer(settings.sealing_keys).seal(json.dumps({"[[sealed:code]]": "XYZ-1234"}))
    await mail.queue(alice, key="old-format", now=now, sealed=secret,
                     rendered=mail.Rendered("Your code", "Code: [[sealed:code]]\n",
                                            "<p>[[sealed:code]]</p>"))
    assert await mail.send_due(now, settings) == 1
    [sent] = await asyncio.to_thread(lambda: [p.read_bytes() for p in tmp_path.glob("*.eml")])
    message = message_from_bytes(sent, policy=policy.default)
    body = message.get_body(("plain",))
    assert body is not None and "Code: XYZ-1234" in body.get_content()


async def test_what_the_read_before_the_lock_let_through_is_decided_again_under_it() -> None:
    # Both attempts read before either takes the lock (one key; then two keys and a
    # monthly limit of one): the second's read under the lock sees the first's order, and
    # its claim of a code (made with that read on SQLite) is rolled back. (On PostgreSQL
    # an item with no limit takes no lock: the order's unique key answers the replay.)
    alice, card = await _player(), await item(price=100, codes=3)
    first, again = await asyncio.gather(*(
        catalog.redeem(alice, card.id, key="hot-path-05", settings=SETTINGS)
        for _ in range(2)))
    assert again.order_id == first.order_id and {first.replayed, again.replayed} == {
        False, True}
    limited = await item(price=100, codes=3, monthly_limit=1)
    outcomes = await asyncio.gather(*(
        catalog.redeem(alice, limited.id, key=f"hot-path-0{n}", settings=SETTINGS)
        for n in (6, 7)), return_exceptions=True)
    assert sum(isinstance(o, catalog.Redeemed) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, catalog.LimitReached) for o in outcomes) == 1, outcomes
    for made in (card, limited):
        assert await Order.filter(item_id=made.id).count() == 1
        assert await Code.filter(item_id=made.id, status="issued").count() == 1
    assert await catalog.mail_codes(datetime.now(UTC), SETTINGS) == 2
    assert (await Account.get(id=alice.account.id)).balance == 1000 - 2 * 100


async def test_a_claim_tells_codes_others_hold_from_an_empty_pool(any_db: str) -> None:
    """PostgreSQL skips codes other buyers hold; the claim's own statement says whether
    any were left, so a buyer tries again only while someone may still put one back."""
    if not is_postgres(connections.get("default")):
        pytest.skip("SQLite's one writer: none claimed is none left")
    import asyncpg

    card = await item(price=100, codes=1)
    code = await Code.get(item_id=card.id)
    other = await asyncpg.connect(any_db)
    async def claim() -> dict[str, object]:
        async with write_transaction() as conn:
            sql, values = catalog._claim_statement(conn, card.id)
            [row] = await conn.execute_query_dict(dialect_sql(conn, sql), values)
            return row

    try:
        async with other.transaction():  # another buyer holds the last code...
            await other.execute("SELECT 1 FROM catalog_code WHERE id = $1 FOR UPDATE",
                                code.id)
            held = await claim()
            await other.execute("UPDATE catalog_code SET status = 'issued' WHERE id = $1",
                                code.id)
        gone = await claim()  # ...and has taken it
    finally:
        await other.close()
    assert held["id"] is None and held["codes_left"] is True
    assert gone["id"] is None and gone["codes_left"] is False
    with pytest.raises(catalog.SoldOut):
        async with write_transaction() as conn:
            await catalog._claim_code(conn, card.id)


async def test_a_win_skips_a_code_another_buyer_holds_and_its_mail_says_its_own_value(
        any_db: str) -> None:
    """On PostgreSQL the one statement claims the pool's first code nobody else holds,
    whatever its value; the e-mail, queued later, says that code's value and expiry."""
    if not is_postgres(connections.get("default")):
        pytest.skip("SQLite claims in its write transaction: nobody else holds a code")
    import asyncpg

    card = await item(price=100)
    await catalog.import_codes(card.id, code_file(1, prefix="TEN-", value="10 EUR"),
                               settings=SETTINGS)
    await catalog.import_codes(card.id, code_file(1, prefix="FIFTY-", value="50 EUR",
                                                  expiry="2098-06-30"), settings=SETTINGS)
    ten = await Code.get(item_id=card.id, value="10 EUR")
    alice = await _player()
    other = await asyncpg.connect(any_db)
    try:
        async with other.transaction():  # another buyer holds the first code
            await other.execute("SELECT 1 FROM catalog_code WHERE id = $1 FOR UPDATE",
                                ten.id)
            with statements() as sent:
                done = await catalog.redeem(alice, card.id, key="hot-path-10",
                                            settings=SETTINGS)
    finally:
        await other.close()
    words = _first_words(sent)
    assert len(words) == 2 and words[1].startswith("WITH PAYABLE AS"), sent
    order = await Order.get(id=done.order_id)
    code = await Code.get(id=order.code_id)
    assert code.value == "50 EUR"
    assert await catalog.mail_codes(datetime.now(UTC), SETTINGS) == 1
    queued = await Email.get(key=f"email:catalog-order:{order.id}")
    assert "Value: 50 EUR" in queued.text and "10 EUR" not in queued.text
    assert "2098" in queued.text
    assert await Order.filter(person_id=alice.person.id).count() == 1
    assert await Transfer.filter(key=order.key).count() == 1
    assert (await Code.get(id=ten.id)).status == "available"
    assert (await Account.get(id=alice.account.id)).balance == 900
