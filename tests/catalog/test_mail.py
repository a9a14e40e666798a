"""A code is e-mailed to its owner by the mail job, which queues the e-mail each new order
owes (``catalog.mail_codes``) and sends it in the same run: the outbox keeps a placeholder
and the sealed code, and only the message delivered to the real SMTP peer carries the
code. Each order's e-mail is queued once, whatever runs at once, and never for an order
cancelled before."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
from tortoise import connections
from tortoise.transactions import in_transaction

from portal.catalog import service as catalog
from portal.catalog.models import ItemKind, Order, Reveal
from portal.db import is_postgres
from portal.jobs import tasks
from portal.notifications.models import Email
from tests.catalog.stock import SETTINGS, give, item
from tests.factories import make_person
from tests.notifications.smtp import smtp_peer

pytestmark = pytest.mark.usefixtures("any_db")


async def test_the_code_reaches_its_owner_by_mail_and_the_outbox_never_holds_it() -> None:
    alice = await make_person("alice@example.com", name="Alice Archer")
    await give(alice, 1000)
    with smtp_peer() as peer:
        settings = peer.settings().model_copy(update={"redemption_threshold": 0})
        card = await item(price=100, codes=2, title="Book voucher", settings=settings,
                          how_to_use="Show it at the till")
        viewer = await catalog.as_player(alice)
        done = await catalog.redeem(viewer, card.id, key="mail-tap-01", settings=settings)
        code = (await catalog.reveal(viewer, done.order_id, via="web", settings=settings)).code
        assert await tasks.send_email(datetime.now(UTC), settings) == 1  # queued and sent
        queued = await Email.get(key=f"email:catalog-order:{done.order_id}")
        assert code not in queued.text + queued.html + (queued.sealed or "")
    [message] = peer.messages
    assert str(message["To"]) == "alice@example.com"
    assert str(message["Subject"]) == "Your reward: Book voucher"
    assert isinstance(message, EmailMessage)
    text_part, html_part = message.get_body(("plain",)), message.get_body(("html",))
    assert text_part is not None and html_part is not None
    text, html = text_part.get_content(), html_part.get_content()
    assert code in text and code in html and "Show it at the till" in text
    assert "Value: 50 EUR · Use it by December 31, 2099." in text
    assert "Value: 50 EUR · Use it by December 31, 2099." in html
    assert catalog.CODE_PLACEHOLDER not in text + html


async def test_each_buyer_of_an_item_gets_the_mail_in_their_name_and_language() -> None:
    """The item's message is rendered once per text and language: each buyer's own name
    (escaped in the HTML part), language and edited item text still come through."""
    card = await item(price=100, codes=4, title="Book voucher", how_to_use="At the till")
    tom, olga = await make_person(name="Tom"), await make_person(name="Olga")
    tom.display_name, olga.language = "Tom <b>&</b> Co", "ru"
    await tom.save()
    await olga.save()
    mails = []
    for n, person in enumerate((tom, olga, tom)):
        if n == 2:
            await catalog.save_item(catalog.ItemFields(
                category_id=card.category_id, kind=card.kind, title="Cinema voucher",
                price=100, how_to_use="At the box office"), item_id=card.id)
        await give(person, 100)
        viewer = await catalog.as_player(person)
        done = await catalog.redeem(viewer, card.id, key=f"mail-name-{n:04d}",
                                    settings=SETTINGS)
        assert await catalog.mail_codes(datetime.now(UTC), SETTINGS) == 1
        mails.append(await Email.get(key=f"email:catalog-order:{done.order_id}"))
    first, russian, edited = mails
    assert "Hello Tom <b>&</b> Co," in first.text
    assert "Tom &lt;b&gt;&amp;&lt;/b&gt; Co" in first.html and "<b>&</b>" not in first.html
    assert "Olga" in russian.text and "Tom" not in russian.text
    assert russian.subject != first.subject and "Book voucher" in russian.subject
    assert edited.subject == "Your reward: Cinema voucher"
    assert "At the box office" in edited.text and "At the till" not in edited.text
    for queued in mails:
        assert catalog.NAME_PLACEHOLDER not in queued.text + queued.html
        assert catalog.DETAILS_PLACEHOLDER not in queued.text + queued.html


async def test_low_stock_e_mails_marketing_once_per_crossing() -> None:
    from portal.accounts.models import Person, Role

    alice = await make_person("alice@example.com")
    carol = await make_person("carol@example.com", roles={Role.MARKETING}, name="Carol Cole")
    # A work alert: sent even to someone who turned news by e-mail off.
    await Person.filter(id=carol.id).update(email_news=False)
    await give(alice, 1000)
    with smtp_peer() as peer:
        settings = peer.settings().model_copy(update={"redemption_threshold": 0})
        card = await item(price=10, codes=3, title="Fuel card", low_stock_at=1,
                          settings=settings)
        viewer = await catalog.as_player(alice)
        await catalog.redeem(viewer, card.id, key="low-mail-01", settings=settings)  # 2 left
        assert await Email.filter(key__startswith="email:low-stock").count() == 0
        await catalog.redeem(viewer, card.id, key="low-mail-02", settings=settings)  # 1 left
        await catalog.redeem(viewer, card.id, key="low-mail-03", settings=settings)  # 0 left
        assert await Email.filter(key__startswith="email:low-stock").count() == 1
        assert await tasks.send_email(datetime.now(UTC), settings) == 4  # 3 codes, 1 alert
    [alert] = [m for m in peer.messages if str(m["To"]) == "carol@example.com"]
    assert str(alert["Subject"]) == "Low stock: 1 left of “Fuel card”."
    assert isinstance(alert, EmailMessage)
    text_part = alert.get_body(("plain",))
    assert text_part is not None
    assert f"/marketing/catalog/items/{card.id}" in text_part.get_content()


async def test_each_order_s_code_is_queued_once_by_runs_at_once_and_by_batches() -> None:
    """Two runs at once (on PostgreSQL on two connections, each skipping the orders the
    other took), in batches smaller than the list: every order's e-mail and reveal once."""
    card = await item(price=10, codes=7)
    orders = []
    for n in range(7):
        person = await make_person()
        await give(person, 100)
        orders.append((await catalog.redeem(await catalog.as_player(person), card.id,
                                            key=f"mail-once-{n:04d}", settings=SETTINGS)
                       ).order_id)
    now = datetime.now(UTC)
    queued = await asyncio.gather(*(catalog.mail_codes(now, SETTINGS, batch=2)
                                    for _ in range(2)))
    assert sum(queued) == 7
    assert sorted(e.key for e in await Email.all()) == sorted(
        f"email:catalog-order:{n}" for n in orders)
    assert sorted(r.order_id for r in await Reveal.filter(via="email")) == sorted(orders)
    assert not await Order.filter(mail_pending=True).exists()
    assert await catalog.mail_codes(now, SETTINGS) == 0


async def test_an_order_cancelled_before_its_mail_is_not_mailed_and_a_gift_owes_none() -> None:
    alice = await make_person()
    await give(alice, 1000)
    viewer = await catalog.as_player(alice)
    card, mug = await item(price=100, codes=2), await item(price=100, kind=ItemKind.GIFT, stock=3)
    cancelled = await catalog.redeem(viewer, card.id, key="mail-gone-01", settings=SETTINGS)
    kept = await catalog.redeem(viewer, card.id, key="mail-kept-01", settings=SETTINGS)
    gift = await catalog.redeem(viewer, mug.id, key="mail-gift-01", address="Main St 1",
                                settings=SETTINGS)
    assert not (await Order.get(id=gift.order_id)).mail_pending
    assert await catalog.cancel(cancelled.order_id, reason="Bought by mistake")
    assert await catalog.mail_codes(datetime.now(UTC), SETTINGS) == 1
    assert [e.key for e in await Email.filter(key__startswith="email:catalog-order:")] == [
        f"email:catalog-order:{kept.order_id}"]
    assert not await Reveal.filter(order_id=cancelled.order_id).exists()
    assert not await Order.filter(mail_pending=True).exists()


async def test_a_prize_s_code_is_mailed_as_a_redemption_s() -> None:
    bob = await make_person(name="Bob")
    card = await item(price=100, codes=1, title="Book voucher")
    won = await catalog.grant(bob, card.id, key="mail-prize-01", settings=SETTINGS)
    assert await catalog.mail_codes(datetime.now(UTC), SETTINGS) == 1
    queued = await Email.get(key=f"email:catalog-order:{won.order_id}")
    assert queued.to == bob.email and "Book voucher" in queued.subject


async def test_the_owed_mail_is_found_by_its_partial_index() -> None:
    """The job's list is the few orders still owing: both engines must be able to read it
    by the partial index, so the query repeats the index's predicate exactly."""
    conn = connections.get("default")
    sql, values = catalog._mail_owed(conn, 10)
    select = sql[sql.index("SELECT id"):sql.index(")", sql.index("SELECT id"))]
    if is_postgres(conn):
        async with in_transaction() as tx:
            await tx.execute_script("SET LOCAL enable_seqscan = off")
            plan = await tx.execute_query_dict(f"EXPLAIN {select}", values)
        text = " ".join(r["QUERY PLAN"] for r in plan)
    else:
        plan = await conn.execute_query_dict(f"EXPLAIN QUERY PLAN {select}", values)
        text = " ".join(str(r["detail"]) for r in plan)
    assert "catalog_order_mail_pending" in text, text
