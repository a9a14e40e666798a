"""A code is e-mailed to its owner: the outbox keeps a placeholder and the sealed code,
and only the message delivered to the real SMTP peer carries the code."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from portal.catalog import service as catalog
from portal.notifications import mail
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
        queued = await Email.get(key=f"email:catalog-order:{done.order_id}")
        assert code not in queued.text + queued.html + (queued.sealed or "")
        assert await mail.send_due(datetime.now(UTC), settings) == 1
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
        assert await mail.send_due(datetime.now(UTC), settings) == 4  # 3 codes, 1 alert
    [alert] = [m for m in peer.messages if str(m["To"]) == "carol@example.com"]
    assert str(alert["Subject"]) == "Low stock: 1 left of “Fuel card”."
    assert isinstance(alert, EmailMessage)
    text_part = alert.get_body(("plain",))
    assert text_part is not None
    assert f"/marketing/catalog/items/{card.id}" in text_part.get_content()
