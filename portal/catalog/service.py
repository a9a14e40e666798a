"""The catalog's rules: what a viewer sees and can afford, redeeming, orders and codes.

Redeeming is one write transaction: the paying account's row is locked first (so one
account's redemptions, their monthly limits and the threshold are decided one at a time;
SQLite's write lock does the same), then the code is claimed by a conditional update (or
a stock unit taken by a guarded decrement), the order written, and the guarded ledger
spend made inside the same transaction. When any step refuses (sold out, not enough
points) nothing of it remains. The order's key is the idempotency key: the same key again
answers with the same order, and the spend carries it too.

A player redeems with their own account; a partner manager, acting for the company,
with the company's (``Viewer.for_company``), and only items flagged for companies.
"""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.functions import Count

from portal import i18n
from portal.accounts.models import Company, Person, Role
from portal.catalog.codes import CodeFileRefused, CodeRow, mask, read_code_file
from portal.catalog.models import (
    Category,
    Code,
    CodeStatus,
    Goal,
    Item,
    ItemKind,
    Order,
    OrderStatus,
    Reveal,
)
from portal.db import (
    Sql,
    Statement,
    dialect_sql,
    execute_each,
    execute_together,
    insert,
    is_postgres,
    placeholders,
    together,
    write_transaction,
)
from portal.i18n import N_, Refusal
from portal.ledger import service as ledger
from portal.ledger.models import Account, Transfer
from portal.notifications import mail
from portal.notifications.telling import Notice, tell
from portal.play import completion
from portal.sealing import Sealer
from portal.seasons import season_of
from portal.settings import Settings

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,100}$")
CODE_PLACEHOLDER = "[[sealed:code]]"
DETAILS_PLACEHOLDER = "[[sealed:details]]"  # the code's value and expiry, filled in at once
NAME_PLACEHOLDER = "[[buyer:name]]"  # the buyer's name, filled in at once


# -- refusals -----------------------------------------------------------------------------


class CatalogRefusal(Refusal):
    pass


class NoSuchItem(CatalogRefusal):
    status = 404

    def __init__(self) -> None:
        super().__init__(N_("There is no such reward."))


class NoSuchOrder(CatalogRefusal):
    status = 404

    def __init__(self) -> None:
        super().__init__(N_("There is no such order."))


class SoldOut(CatalogRefusal):
    def __init__(self) -> None:
        super().__init__(N_("Sorry, this reward is sold out. Nothing was charged."))


class BelowThreshold(CatalogRefusal):
    def __init__(self, threshold: int, missing: int) -> None:
        super().__init__(N_("Redeeming opens at %(threshold)s points: %(missing)s to go."),
                         threshold=threshold, missing=missing)


class LimitReached(CatalogRefusal):
    def __init__(self, limit: int) -> None:
        super().__init__(N_("This reward can be redeemed %(limit)s times a month; that is "
                            "used up. Try again next month."), limit=limit)


class BadRequest(CatalogRefusal):
    status = 400


# -- who is looking -----------------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    """Who browses or redeems, and with which account: their own, or (a partner manager
    acting for it) their company's."""

    person: Person
    account: Account
    company_id: int | None = None

    @property
    def for_company(self) -> bool:
        return self.company_id is not None


async def as_player(person: Person) -> Viewer:
    return Viewer(person, await ledger.account_of_person(person.id))


class NotAManager(CatalogRefusal):
    status = 403

    def __init__(self) -> None:
        super().__init__(N_("Only a partner manager of a company spends its points."))


async def as_company(person: Person) -> Viewer:
    """The manager acting for their company; refused for anyone else."""
    if Role.MANAGER not in person.role_set or person.outlet_id is None:
        raise NotAManager()
    await person.fetch_related("outlet")
    assert person.outlet is not None
    company_id = person.outlet.company_id
    account = await Account.get_or_none(company_id=company_id)
    if account is None:
        raise NotAManager()
    return Viewer(person, account, company_id)


# -- what a viewer sees -------------------------------------------------------------------


@dataclass(frozen=True)
class Card:
    id: int
    title: str
    description: str
    how_to_use: str
    picture: str
    price: int
    kind: ItemKind
    category_id: int
    category: str
    for_companies: bool
    left: int | None  # units or codes left; None: no limit
    monthly_limit: int | None
    available: int  # the viewer's spendable points
    goal: bool = False

    @property
    def sold_out(self) -> bool:
        return self.left is not None and self.left <= 0

    @property
    def affordable(self) -> bool:
        return self.available >= self.price

    @property
    def missing(self) -> int:
        return max(0, self.price - self.available)

    @property
    def progress(self) -> int:
        """Percent of the price the viewer has, 0 to 100."""
        return 100 if self.price <= 0 else min(100, self.available * 100 // self.price)


@dataclass(frozen=True)
class Threshold:
    points: int
    available: int

    @property
    def locked(self) -> bool:
        return self.available < self.points

    @property
    def missing(self) -> int:
        return max(0, self.points - self.available)

    @property
    def progress(self) -> int:
        return 100 if self.points <= 0 else min(100, self.available * 100 // self.points)


@dataclass(frozen=True)
class Listing:
    cards: list[Card]
    more: bool
    categories: list[Category]
    threshold: Threshold
    available: int


async def _available(account: Account) -> tuple[Account, int]:
    fresh = await Account.get(id=account.id)
    return fresh, fresh.balance - fresh.held


async def _visible(viewer: Viewer) -> Q:
    """The items this viewer may see: active, for their side (player or company), and
    not hidden behind a quiz or course they have not completed."""
    base = Q(active=True, for_companies=viewer.for_company)
    done = await completion.completed(viewer.person.id)
    quiz = Q(unlock_quiz_id__isnull=True)
    if done.quizzes:
        quiz = quiz | Q(unlock_quiz_id__in=list(done.quizzes))
    course = Q(unlock_course_id__isnull=True)
    if done.courses:
        course = course | Q(unlock_course_id__in=list(done.courses))
    return base & quiz & course


async def _may_see(viewer: Viewer, item: Item) -> bool:
    """What ``_visible`` says of one item, asking play only when the item is hidden."""
    if not item.active or item.for_companies != viewer.for_company:
        return False
    if item.unlock_quiz_id is None and item.unlock_course_id is None:
        return True
    return await completion.has_completed(viewer.person.id, quiz_id=item.unlock_quiz_id,
                                          course_id=item.unlock_course_id)


async def _codes_left(item_ids: list[int]) -> dict[int, int]:
    if not item_ids:
        return {}
    rows = await (Code.filter(item_id__in=item_ids, status=CodeStatus.AVAILABLE)
                  .group_by("item_id").annotate(n=Count("id")).values("item_id", "n"))
    return {int(row["item_id"]): int(row["n"]) for row in rows}


async def _cards(items: list[Item], available: int, goal_id: int | None = None) -> list[Card]:
    codes = await _codes_left([i.id for i in items if i.kind == ItemKind.CERTIFICATE])
    names = {c.id: c.name for c in await Category.filter(
        id__in=list({i.category_id for i in items}))} if items else {}
    return [Card(id=i.id, title=i.title, description=i.description, how_to_use=i.how_to_use,
                 picture=i.picture, price=i.price, kind=ItemKind(i.kind),
                 category_id=i.category_id, category=names.get(i.category_id, ""),
                 for_companies=i.for_companies,
                 left=codes.get(i.id, 0) if i.kind == ItemKind.CERTIFICATE else i.stock,
                 monthly_limit=i.monthly_limit, available=available,
                 goal=goal_id == i.id)
            for i in items]


async def listing(viewer: Viewer, *, threshold: int, category_id: int | None = None,
                  query: str = "", affordable_only: bool = False, offset: int = 0,
                  limit: int = 24) -> Listing:
    """A page of the catalog as the viewer sees it: by category, cheapest first."""
    account, available = await _available(viewer.account)
    filters = await _visible(viewer)
    if category_id is not None:
        filters &= Q(category_id=category_id)
    if query.strip():
        filters &= Q(title__icontains=query.strip()) | Q(description__icontains=query.strip())
    if affordable_only:
        filters &= Q(price__lte=available)
    items = await Item.filter(filters).order_by("price", "id").offset(offset).limit(limit + 1)
    goal = None if viewer.for_company else await Goal.get_or_none(person_id=viewer.person.id)
    cards = await _cards(items[:limit], available, goal.item_id if goal else None)
    shown_categories = await Category.filter(
        id__in=[row["category_id"] for row in await Item.filter(
            await _visible(viewer)).distinct().values("category_id")])
    return Listing(cards, len(items) > limit, shown_categories,
                   Threshold(threshold, available), available)


async def item_card(viewer: Viewer, item_id: int) -> Card:
    item = await Item.filter(await _visible(viewer)).filter(id=item_id).first()
    if item is None:
        raise NoSuchItem()
    _, available = await _available(viewer.account)
    goal = None if viewer.for_company else await Goal.get_or_none(person_id=viewer.person.id)
    return (await _cards([item], available, goal.item_id if goal else None))[0]


# -- goals and the dashboard --------------------------------------------------------------


async def pin_goal(viewer: Viewer, item_id: int, *, now: datetime) -> None:
    await item_card(viewer, item_id)  # only an item the player can see
    async with write_transaction() as conn:
        await Goal.filter(person_id=viewer.person.id).using_db(conn).delete()
        await Goal.create(person_id=viewer.person.id, item_id=item_id, pinned_at=now,
                          using_db=conn)


async def clear_goal(viewer: Viewer) -> None:
    await Goal.filter(person_id=viewer.person.id).delete()


@dataclass(frozen=True)
class Outlook:
    """For the dashboard: the pinned goal, and what the points buy right now."""

    goal: Card | None
    now: list[Card]
    threshold: Threshold


async def outlook(person: Person, *, threshold: int, limit: int = 3,
                  account: Account | None = None) -> Outlook:
    """The pinned goal if the player may see it, and the dearest items they can afford
    that are not sold out (looking at the ``limit * 3`` dearest).

    The dashboard asks on every view (passing the ``account`` it has just read), so it
    is one hand-written statement: the items ``_visible`` lets a player see (active, for
    players, unlocked by a finished game or completed course) that are affordable or the
    goal, the goal first, each with its category and codes left.
    """
    if account is None:
        account = await ledger.account_of_person(person.id)
    available = account.balance - account.held
    conn = connections.get("default")
    mark = placeholders(conn, 7)
    rows = await conn.execute_query_dict(
        "SELECT i.*, cat.name AS category_name, (SELECT COUNT(*) FROM catalog_code x "  # noqa: S608
        "WHERE x.item_id = i.id AND x.status = 'available') AS codes_left, "
        "CASE WHEN g.id IS NULL THEN 0 ELSE 1 END AS is_goal FROM catalog_item i "
        "JOIN catalog_category cat ON cat.id = i.category_id "
        f"LEFT JOIN catalog_goal g ON g.item_id = i.id AND g.person_id = {mark[0]} "
        f"WHERE i.active = {mark[1]} AND i.for_companies = {mark[2]} "
        f"AND (i.price <= {mark[3]} OR g.id IS NOT NULL) "
        "AND (i.unlock_quiz_id IS NULL OR EXISTS (SELECT 1 FROM game x "
        f"WHERE x.person_id = {mark[4]} AND x.quiz_id = i.unlock_quiz_id "
        "AND x.status = 'finished')) AND (i.unlock_course_id IS NULL OR EXISTS (SELECT 1 "
        f"FROM course_progress x WHERE x.person_id = {mark[5]} "
        "AND x.course_id = i.unlock_course_id AND x.completed_at IS NOT NULL)) "
        f"ORDER BY is_goal DESC, i.price DESC, i.id LIMIT {mark[6]}",
        [person.id, True, False, available, person.id, person.id, limit * 3 + 1])
    found = [(Item._init_from_db(**row), row) for row in rows]
    goal = next((_card(item, row, available, goal=True) for item, row in found
                 if row["is_goal"]), None)
    affordable = sorted((item_row for item_row in found if item_row[0].price <= available),
                        key=lambda item_row: (-item_row[0].price, item_row[0].id))[:limit * 3]
    cards = [card for card in (_card(item, row, available) for item, row in affordable)
             if not card.sold_out][:limit]
    return Outlook(goal, cards, Threshold(threshold, available))


def _card(item: Item, row: dict[str, Any], available: int, *, goal: bool = False) -> Card:
    """``_cards`` for one item read with its category's name and codes left."""
    return Card(id=item.id, title=item.title, description=item.description,
                how_to_use=item.how_to_use, picture=item.picture, price=item.price,
                kind=ItemKind(item.kind), category_id=item.category_id,
                category=row["category_name"], for_companies=item.for_companies,
                left=(int(row["codes_left"]) if item.kind == ItemKind.CERTIFICATE
                      else item.stock),
                monthly_limit=item.monthly_limit, available=available, goal=goal)


# -- redeeming ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Redeemed:
    order_id: int
    replayed: bool


def order_key(viewer: Viewer, client_key: str) -> str:
    if not KEY_PATTERN.match(client_key or ""):
        raise BadRequest(N_("The request needs a key of 8 to 100 letters, digits, - or _."))
    return f"order:{viewer.account.id}:{client_key}"


def spend_reason(viewer: Viewer, item: Item) -> ledger.Reason:
    """What the paying account's history says: a company's names the manager who
    redeemed, as several may spend its points."""
    if viewer.for_company:
        return ledger.Reason(N_("Reward: %(title)s, redeemed by %(name)s"), title=item.title,
                             name=viewer.person.full_name)
    return ledger.Reason(N_("Reward: %(title)s"), title=item.title)


async def redeem(viewer: Viewer, item_id: int, *, key: str, address: str = "",
                 settings: Settings, now: datetime | None = None) -> Redeemed:
    """Redeems the item for the viewer's account: one order, one charge per ``key``.

    Raises NoSuchItem, SoldOut, BelowThreshold, LimitReached, BadRequest (a gift without
    an address), ledger.NotEnoughPoints or ledger.KeyReused; nothing is written then.

    The hot path of a rush on a pool. First, with no lock and no transaction, the read
    that decides (``_deciding``): a refusal (sold out, below the threshold, over the
    monthly limit, hidden) or a replay ends there, as it writes nothing and is true of
    that one statement's snapshot (every order, code and balance committed when it
    began). Otherwise, under the lock, the same read decides again (a sold-out attempt
    that lost the race ends there); a win claims the code (which gives the ids the
    order and its payment will take; on SQLite in the same call as that read, the claim
    rolled back when the read refuses), then writes the order and pays
    (``ledger.spend_statements``) in one round trip (``db.execute_together``), the
    statement crediting the catalog's account (the payer's of ``ledger.CATALOG_SHARDS``,
    so racers spread over several) the last. The code's e-mail is left to the mail job
    (``mail_codes``): the order says it is owed.

    On PostgreSQL the account is locked only for an item with a monthly limit, the one
    rule a statement cannot keep on its own (two orders at once would each count the
    other's absence). Otherwise the first read's decision stands, and the writes keep
    the rest: the claim or the stock update (sold out), the guarded payment (the points
    and the threshold), the order's unique key (a replay racing its first: the insert
    fails, the transaction rolls back, and the order it lost to is the answer). An
    e-certificate is then redeemed by one statement, which is its own transaction
    (``_redeem_at_once``); when that one finds no code it may take, the transaction
    above decides.
    """
    moment = now or datetime.now(UTC)
    full_key = order_key(viewer, key)
    address = address.strip()
    conn = connections.get("default")
    account, item, replay = await _deciding(conn, viewer.account.id, item_id, full_key,
                                            season_of(moment), lock=False)
    try:
        done = await _decide(viewer, item_id, key, address, account, item, replay, settings)
    except _NoCatalogAccount:  # an account no migration made: made once, race-safe, outside
        await ledger.system_account(ledger.catalog_code(viewer.account.id), name="Catalog")
    else:
        if done is not None:
            return done
    decided = (account, item) if is_postgres(conn) and item.monthly_limit is None \
        and account.catalog_id is not None else None
    try:
        if decided is not None and item.kind == ItemKind.CERTIFICATE:
            done = await _redeem_at_once(conn, viewer, account, item, full_key, settings,
                                         moment)
            if done is not None:
                await _tell_if_low(item, now=moment, settings=settings)
                return done
        return await _write_redemption(viewer, item_id, full_key, key, address,
                                       item.kind == ItemKind.CERTIFICATE, settings, moment,
                                       decided)
    except _Replayed as replayed:  # its transaction rolled back: nothing was written
        return replayed.done
    except IntegrityError:
        if decided is None:
            raise
        # Unlocked: the same key's order was committed meanwhile (or the key is reused).
        account, item, replay = await _deciding(conn, viewer.account.id, item_id, full_key,
                                                season_of(moment), lock=False)
        if replay is None:
            raise
        done = await _decide(viewer, item_id, key, address, account, item, replay, settings)
        assert done is not None  # a replay's answer
        return done


async def _redeem_at_once(conn: BaseDBAsyncClient, viewer: Viewer, account: _Paying,
                          item: Item, full_key: str, settings: Settings, moment: datetime
                          ) -> Redeemed | None:
    """PostgreSQL, an e-certificate the first read let through with no lock (see
    ``redeem``): the whole redemption as one statement, so one round trip and one commit,
    with no transaction around it. Its parts, in the order each depends on the one
    before: the payer and the catalog's account locked, the payer's row only if it can
    pay (``ledger.payable``); a code claimed only with both (skipping codes other buyers
    hold); then the order (its code's e-mail pending, ``mail_codes``) and the payment
    (``ledger.spend_statements``), each written only if a code was claimed. The payment
    cannot fail then: the payer stays locked, and could pay. A statement fails whole, so
    a reused key writes nothing (IntegrityError, as in ``_write_redemption``).

    Returns None when no code was claimed yet some may be left (held by other buyers, or
    the payer short of points): the transaction decides then. Raises SoldOut when the
    pool had none."""
    if account.ids is None or account.catalog_id is None:
        return None
    order_id, transfer_id = account.ids
    person = viewer.person
    available = CodeStatus.AVAILABLE.value
    threshold = 0 if viewer.for_company else settings.redemption_threshold
    claim = ("UPDATE catalog_code SET status = ? WHERE status = ? AND id = (SELECT id "
             "FROM catalog_code WHERE item_id = ? AND status = ? ORDER BY id LIMIT 1 "
             "FOR UPDATE SKIP LOCKED) AND (SELECT COUNT(*) FROM payable) = 2 RETURNING id",
             [CodeStatus.ISSUED.value, available, item.id, available])
    order = _order_statement(
        order_id, key=full_key, item_id=item.id, person_id=person.id,
        company_id=viewer.company_id, account_id=viewer.account.id, price=item.price,
        month=season_of(moment), code_id=Sql("claim.id"), address="",
        transfer_id=transfer_id, now=moment, source="claim")
    paid = ledger.spend_statements(
        conn, viewer.account.id, target_id=account.catalog_id, amount=item.price,
        reason=spend_reason(viewer, item), reference=f"catalog-order:{order_id}",
        key=full_key, now=moment, transfer_id=transfer_id, keeping=threshold,
        source="claim")
    outcome = ("SELECT (SELECT id FROM claim) AS code_id, (SELECT COUNT(*) FROM paid) "
               "AS paid, EXISTS (SELECT 1 FROM catalog_code WHERE item_id = ? "
               "AND status = ?) AS codes_left", [item.id, available])
    payable = ledger.payable(viewer.account.id, target_id=account.catalog_id,
                             amount=item.price, keeping=threshold)
    rows = await conn.execute_query_dict(*together(
        [payable, claim, order, *paid, outcome],
        names=("payable", "claim", "ordered", "transferred", "paid")))
    if rows[0]["code_id"] is None:
        if not rows[0]["codes_left"]:
            raise SoldOut()
        return None
    if rows[0]["paid"] != 2:  # ledger.payable says it cannot be; the check costs nothing
        raise RuntimeError(f"order {order_id}: a code was claimed, the payment not made")
    return Redeemed(order_id, replayed=False)


class _NoCatalogAccount(Exception):
    pass


async def _decide(viewer: Viewer, item_id: int, key: str, address: str, account: _Paying,
                  item: Item, replay: tuple[int, int] | None,
                  settings: Settings) -> Redeemed | None:
    """What the deciding read says: the order a replayed key made, a refusal (raised), or
    None when the attempt may claim and pay."""
    if replay is not None:
        if replay[1] != item_id:
            raise ledger.KeyReused(N_("The key %(key)s was already used for another "
                                      "operation."), key=key)
        return Redeemed(replay[0], replayed=True)
    if not await _may_see(viewer, item):
        raise NoSuchItem()
    # The threshold is a player's rule; a company spends what marketing credited it.
    if not viewer.for_company and settings.redemption_threshold and \
            account.available < settings.redemption_threshold:
        raise BelowThreshold(settings.redemption_threshold,
                             settings.redemption_threshold - account.available)
    if item.monthly_limit is not None and account.used >= item.monthly_limit:
        raise LimitReached(item.monthly_limit)
    if account.catalog_id is None:
        raise _NoCatalogAccount()
    if item.kind == ItemKind.GIFT:
        if not address:
            raise BadRequest(N_("Say where the gift should be delivered."))
        if len(address) > 500:
            raise BadRequest(N_("The address is longer than 500 characters."))
        if item.stock is not None and item.stock < 1:
            raise SoldOut()
    elif not account.stocked:
        raise SoldOut()
    return None


class _Replayed(Exception):
    def __init__(self, done: Redeemed) -> None:
        self.done = done


async def _write_redemption(viewer: Viewer, item_id: int, full_key: str, key: str,
                            address: str, certificate: bool, settings: Settings,
                            moment: datetime, decided: tuple[_Paying, Item] | None
                            ) -> Redeemed:
    """The writes of a redemption the first read let through: under the account's lock
    (SQLite's write lock, or PostgreSQL's row lock) and decided again, or (``decided``,
    see ``redeem``) as that read decided, with no lock. ``certificate``: what the first
    read found the item to be."""
    async with write_transaction() as conn:
        claimed: tuple[Code, int, int] | None = None
        if decided is not None:
            account, item = decided
        elif certificate and not is_postgres(conn):
            # SQLite, a certificate the read before the lock found in stock: the read and
            # the claim in one call, the claim undone (rolled back) unless the read says go.
            read, claim = await execute_each(conn, [
                _deciding_statement(viewer.account.id, item_id, full_key, season_of(moment)),
                _claim_statement(conn, item_id)])
            account, item, replay = _decided(read)
            claimed = _claimed(claim[0], item_id) if claim else None
        else:
            account, item, replay = await _deciding(conn, viewer.account.id, item_id,
                                                    full_key, season_of(moment), lock=True)
        if decided is None:
            done = await _decide(viewer, item_id, key, address, account, item, replay,
                                 settings)
            if done is not None:
                raise _Replayed(done)
        assert account.catalog_id is not None  # _decide says so
        code: Code | None = None
        if item.kind == ItemKind.GIFT:
            if claimed is not None:
                raise SoldOut()  # a certificate became a gift: never, but write nothing

            if item.stock is not None and not await conn.execute_query_dict(dialect_sql(
                    conn, "UPDATE catalog_item SET stock = stock - 1 WHERE id = ? "
                    "AND stock >= 1 RETURNING id"), [item.id]):
                raise SoldOut()
            order_id, transfer_id = await _next_ids(conn)
        elif claimed is not None:
            code, order_id, transfer_id = claimed
        else:
            code, order_id, transfer_id = await _claim_code(conn, item.id)
        # The order (its code's e-mail pending) and the payment: one round trip.
        writes = [_order_statement(
            order_id, key=full_key, item_id=item.id, person_id=viewer.person.id,
            company_id=viewer.company_id, account_id=viewer.account.id, price=item.price,
            month=season_of(moment), code_id=code.id if code else None,
            address=address if not code else "", transfer_id=transfer_id, now=moment)]
        threshold = 0 if viewer.for_company else settings.redemption_threshold
        writes += ledger.spend_statements(
            conn, viewer.account.id, target_id=account.catalog_id, amount=item.price,
            reason=spend_reason(viewer, item), reference=f"catalog-order:{order_id}",
            key=full_key, now=moment, transfer_id=transfer_id, keeping=threshold)
        try:
            await ledger.check_spent(conn, await execute_together(conn, writes),
                                     viewer.account.id, account.catalog_id, item.price)
        except ledger.NotEnoughPoints as short:
            if short.available < item.price:
                raise
            # Enough for the price, no longer for the threshold (a spend meanwhile).
            raise BelowThreshold(threshold, threshold - short.available) from None
    await _tell_if_low(item, now=moment, settings=settings)
    return Redeemed(order_id, replayed=False)


@dataclass(frozen=True)
class _Paying:
    available: int  # balance - held
    used: int  # this month's orders of the item, cancelled ones aside
    stocked: bool  # the item's pool has a code available
    catalog_id: int | None  # the payer's catalog account, None before its first redemption
    # PostgreSQL's first read (``ahead``), when the pool has a code: the ids an order and
    # its payment may take.
    ids: tuple[int, int] | None = None


async def _deciding(conn: BaseDBAsyncClient, account_id: int, item_id: int, full_key: str,
                    month: str, *, lock: bool) -> tuple[_Paying, Item, tuple[int, int] | None]:
    """The paying account locked (``lock``; with no lock, a read of no transaction),
    then in one statement what decides the redemption:
    its available points, the order already made with this key (id, item), this month's
    orders of the item (by the index on account, item and month), whether the pool has a
    code, the catalog's account, and the item as it is now (NoSuchItem when there is
    none). On PostgreSQL the lock is a statement of its own, so the read sees every order
    committed before the lock was granted; with no lock, the read also gives what
    ``_redeem_at_once`` needs (``_Paying.ids``)."""
    if lock and is_postgres(conn):  # SQLite's BEGIN IMMEDIATE already took the write lock
        await conn.execute_query("SELECT 1 FROM account WHERE id = $1 FOR UPDATE",
                                 [account_id])
    sql, values = _deciding_statement(account_id, item_id, full_key, month,
                                      ahead=not lock and is_postgres(conn))
    return _decided(await conn.execute_query_dict(dialect_sql(conn, sql), values))


def _deciding_statement(account_id: int, item_id: int, full_key: str, month: str, *,
                        ahead: bool = False) -> Statement:
    available = CodeStatus.AVAILABLE.value
    if ahead:  # whether the pool has a code, and ids only for an attempt that may win
        order_id, transfer_id = (
            f"CASE WHEN f.id IS NOT NULL THEN {sql} END"
            for sql in (_NEXT_ORDER_ID_PG, ledger.next_transfer_id_sql(postgres=True)))
        stocked = (f"f.id IS NOT NULL AS paying_stocked, {order_id} AS paying_next_order_id, "
                   f"{transfer_id} AS paying_next_transfer_id")
        first = (" LEFT JOIN LATERAL (SELECT c.id FROM catalog_code c "
                 "WHERE c.item_id = i.id AND c.status = ? LIMIT 1) f ON TRUE")
    else:
        stocked = ("EXISTS (SELECT 1 FROM catalog_code c WHERE c.item_id = i.id AND "
                   "c.status = ?) AS paying_stocked")
        first = ""
    return ("SELECT i.*, a.balance - a.held AS paying_available, (SELECT COUNT(*) "  # noqa: S608
        "FROM catalog_order o WHERE o.account_id = a.id AND o.item_id = i.id "
        "AND o.month = ? AND o.status <> ?) AS paying_used, (SELECT r.id FROM "
        "catalog_order r WHERE r.key = ?) AS paying_replay, (SELECT r.item_id FROM "
        f"catalog_order r WHERE r.key = ?) AS paying_replay_item, {stocked}, "
        "(SELECT c.id FROM account c WHERE c.code = ?) AS paying_catalog "
        f"FROM account a, catalog_item i{first} WHERE a.id = ? AND i.id = ?",
        [month, OrderStatus.CANCELLED.value, full_key, full_key,
         *([ledger.catalog_code(account_id), available] if ahead
           else [available, ledger.catalog_code(account_id)]), account_id, item_id])


def _decided(rows: list[dict[str, Any]]) -> tuple[_Paying, Item, tuple[int, int] | None]:
    if not rows:
        raise NoSuchItem()
    row = rows[0]
    paying = {name: row.pop(name) for name in list(row) if name.startswith("paying_")}
    replay = None if paying["paying_replay"] is None else (
        int(paying["paying_replay"]), int(paying["paying_replay_item"]))
    catalog = paying["paying_catalog"]
    item = Item._init_from_db(**row)
    item.active, item.for_companies = bool(item.active), bool(item.for_companies)
    stocked = bool(paying["paying_stocked"])
    ids = (int(paying["paying_next_order_id"]), int(paying["paying_next_transfer_id"])) \
        if stocked and "paying_next_order_id" in paying else None  # PostgreSQL's first read
    return (_Paying(int(paying["paying_available"]), int(paying["paying_used"]), stocked,
                    None if catalog is None else int(catalog), ids),
            item, replay)


# The serial's sequence by its name: pg_get_serial_sequence() looked it up in the catalogs
# on every call, 3 % of PostgreSQL's work in a win.
_NEXT_ORDER_ID_PG = "nextval('catalog_order_id_seq'::regclass)"


def _next_ids_sql(postgres: bool) -> str:
    """The ids the order and its payment will take, given before they are written (so
    they are written together, ``execute_together``): the sequences' next values on
    PostgreSQL (an attempt that then writes nothing leaves a gap, as a rolled back one
    does); on SQLite, in a write transaction (the database's one write lock), one above
    the highest ids."""
    order = _NEXT_ORDER_ID_PG if postgres else \
        "(SELECT COALESCE(MAX(id), 0) + 1 FROM catalog_order)"
    transfer = ledger.next_transfer_id_sql(postgres)
    return f"{order} AS next_order_id, {transfer} AS next_transfer_id"


async def _next_ids(conn: BaseDBAsyncClient) -> tuple[int, int]:
    rows = await conn.execute_query_dict(f"SELECT {_next_ids_sql(is_postgres(conn))}")  # noqa: S608
    return int(rows[0]["next_order_id"]), int(rows[0]["next_transfer_id"])


def _order_statement(order_id: int, *, key: str, item_id: int, person_id: int,
                     company_id: int | None, account_id: int, price: int, month: str,
                     code_id: int | Sql | None, address: str, transfer_id: int,
                     now: datetime, source: str | None = None) -> Statement:
    """The order, with its id and the id of the transfer that will pay it (``source``:
    see ``db.insert``); a code's e-mail pending (``mail_codes``)."""
    status = OrderStatus.ISSUED if code_id is not None else OrderStatus.AWAITING
    return insert("catalog_order", {
        "id": order_id, "key": key, "item_id": item_id, "person_id": person_id,
        "company_id": company_id, "account_id": account_id, "price": price, "month": month,
        "status": status.value, "code_id": code_id, "mail_pending": code_id is not None,
        "address": address, "cancel_reason": "", "created_at": now, "updated_at": now,
        "transfer_id": transfer_id}, source=source)


async def _claim_code(conn: BaseDBAsyncClient, item_id: int) -> tuple[Code, int, int]:
    """Takes the first available code of the pool by one conditional update, which also
    gives the ids the order and its payment will take (``_next_ids_sql``). On
    PostgreSQL rows other buyers have locked are skipped, so racers spread over the pool
    instead of queueing on its first code; the same statement says whether codes were
    left that others hold (then it tries again: a buyer whose payment fails puts theirs
    back). SQLite's write lock already makes one buyer at a time: none claimed is none
    left."""
    sql, values = _claim_statement(conn, item_id)
    for _ in range(20):
        rows = await conn.execute_query_dict(dialect_sql(conn, sql), values)
        if rows and rows[0]["id"] is not None:
            return _claimed(rows[0], item_id)
        if not rows or not rows[0]["codes_left"]:
            raise SoldOut()
    raise SoldOut()


def _claim_statement(conn: BaseDBAsyncClient, item_id: int) -> Statement:
    """The claim; on PostgreSQL always one row, its ``codes_left`` telling a pool whose
    remaining codes others hold from an empty one (as the claim's snapshot saw it)."""
    available = CodeStatus.AVAILABLE.value
    claim = ("UPDATE catalog_code SET status = ? WHERE status = ? AND id = (SELECT id "  # noqa: S608
             "FROM catalog_code WHERE item_id = ? AND status = ? ORDER BY id LIMIT 1"
             f"{' FOR UPDATE SKIP LOCKED' if is_postgres(conn) else ''}) "
             f"RETURNING id, sealed, value, expires_on, {_next_ids_sql(is_postgres(conn))}")
    values: list[Any] = [CodeStatus.ISSUED.value, available, item_id, available]
    if not is_postgres(conn):
        return claim, values
    return (f"WITH claim AS ({claim}) SELECT claim.*, EXISTS (SELECT 1 FROM catalog_code "  # noqa: S608
            "WHERE item_id = ? AND status = ?) AS codes_left "
            "FROM (SELECT 1) AS one LEFT JOIN claim ON TRUE", [*values, item_id, available])


def _claimed(row: dict[str, Any], item_id: int) -> tuple[Code, int, int]:
    expires = row["expires_on"]
    return (Code(id=row["id"], item_id=item_id, sealed=row["sealed"], value=row["value"],
                 status=CodeStatus.ISSUED,
                 expires_on=date.fromisoformat(expires) if isinstance(expires, str)
                 else expires),
            int(row["next_order_id"]), int(row["next_transfer_id"]))


def _sealer(settings: Settings) -> Sealer:
    return Sealer(settings.sealing_keys)


# -- code e-mails -------------------------------------------------------------------------

MAIL_BATCH = 200


async def mail_codes(now: datetime, settings: Settings, *, batch: int = MAIL_BATCH) -> int:
    """Queues the e-mail of each e-certificate's code its order still owes
    (``Order.mail_pending``, set by the order's own insert), with its reveal logged; run by
    the mail job just before it sends. Returns how many were queued.

    A redemption or a prize writes no e-mail itself: in a rush on one pool the e-mail's
    bodies and the reveal were a third of each win's work, and the order already says
    all the e-mail needs, committed with it. Each batch is one write transaction whose
    first statement takes its orders off the list (on PostgreSQL skipping any another
    run holds), so no code is queued twice; an order cancelled before is not mailed.
    The outbox keeps a placeholder and the code as the pool sealed it (not opened nor
    sealed again) until the message is delivered; its value and expiry, no secret
    (marketing's pool lists them), are written into the bodies."""
    queued = 0
    while True:
        async with write_transaction() as conn:
            taken = await conn.execute_query_dict(*_mail_owed(conn, batch))
            orders = [o for o in taken if o["status"] == OrderStatus.ISSUED.value]
            people = await Person.in_bulk({o["person_id"] for o in orders}, using_db=conn)
            items = await Item.in_bulk({o["item_id"] for o in orders}, using_db=conn)
            codes = await Code.in_bulk({o["code_id"] for o in orders}, using_db=conn)
            await mail.queue_all([mail.Outgoing(
                people[o["person_id"]], f"email:catalog-order:{o['id']}",
                _code_email(people[o["person_id"]], items[o["item_id"]], codes[o["code_id"]],
                            settings),
                mail.sealed_each({CODE_PLACEHOLDER: codes[o["code_id"]].sealed}))
                for o in orders], now=now, conn=conn)
            await Reveal.bulk_create([Reveal(order_id=o["id"], person_id=o["person_id"],
                                             via="email", at=now) for o in orders],
                                     using_db=conn)
        queued += len(orders)
        if len(taken) < batch:
            return queued


def _mail_owed(conn: BaseDBAsyncClient, batch: int) -> Statement:
    """Takes up to ``batch`` orders off the list of code e-mails owed, by the partial
    index of those (its predicate repeated word for word, so both engines use it)."""
    skip = " FOR UPDATE SKIP LOCKED" if is_postgres(conn) else ""
    return dialect_sql(
        conn, "UPDATE catalog_order SET mail_pending = FALSE WHERE id IN (SELECT id "  # noqa: S608
        f"FROM catalog_order WHERE mail_pending = true ORDER BY id LIMIT ?{skip}) "
        "RETURNING id, status, person_id, item_id, code_id"), [batch]


def _code_email(person: Person, item: Item, code: Code, settings: Settings) -> mail.Rendered:
    """The e-mail of ``code``, the code itself still a placeholder. The templates run once
    per item text and language (``_item_email``): every buyer of an item gets the same
    message but for their name and the code's value and expiry, filled in here."""
    rendered = _item_email(person.language, item.title, item.how_to_use, settings)
    name, details = person.display_name, _code_details(person.language, code.value,
                                                       code.expires_on)
    return mail.Rendered(
        rendered.subject,
        rendered.text.replace(NAME_PLACEHOLDER, name).replace(DETAILS_PLACEHOLDER, details),
        rendered.html.replace(NAME_PLACEHOLDER, html.escape(name)).replace(
            DETAILS_PLACEHOLDER, html.escape(details)))


@functools.lru_cache(maxsize=256)
def _item_email(language: str, title: str, how_to_use: str, settings: Settings
                ) -> mail.Rendered:
    """The e-mail of a code of an item with this text, the buyer's name and the code's
    details placeholders too. Cached by everything it is made of (templates and
    translations do not change while the portal runs)."""
    reader = Person(language=language, display_name=NAME_PLACEHOLDER)
    return mail.render("catalog_code", reader, settings, title=title,
                       how_to_use=how_to_use, code=CODE_PLACEHOLDER,
                       details=DETAILS_PLACEHOLDER)


@functools.lru_cache(maxsize=1024)
def _code_details(language: str, value: str, expires_on: date | None) -> str:
    """The code's value and expiry, in the owner's language. Cached: a pool's codes mostly
    share them."""
    with i18n.language(language):
        parts = [i18n.gettext("Value: %(value)s") % {"value": value}] if value else []
        if expires_on is not None:
            parts.append(i18n.gettext("Use it by %(date)s.") % {"date": i18n.day(expires_on)})
    return " · ".join(parts)


# -- orders and codes ---------------------------------------------------------------------


@dataclass(frozen=True)
class OrderView:
    id: int
    item_id: int
    title: str
    picture: str
    kind: ItemKind
    price: int
    status: OrderStatus
    created_at: datetime
    updated_at: datetime
    address: str
    cancel_reason: str
    has_code: bool
    value: str
    expires_on: date | None
    how_to_use: str
    person_name: str = ""
    person_email: str = ""
    masked_code: str = ""
    company: str = ""


def _owned(viewer: Viewer) -> Q:
    """Orders are found scoped to their owner: another's id finds nothing (a 404)."""
    if viewer.for_company:
        return Q(company_id=viewer.company_id)
    return Q(account_id=viewer.account.id, company_id__isnull=True)


async def _views(orders: list[Order], *, staff: bool = False) -> list[OrderView]:
    items = {i.id: i for i in await Item.filter(id__in=list({o.item_id for o in orders}))}
    codes = {c.id: c for c in await Code.filter(
        id__in=[o.code_id for o in orders if o.code_id])}
    people = {p.id: p for p in await Person.filter(id__in=list({o.person_id for o in orders}))}
    views = []
    for o in orders:
        item, code, person = items[o.item_id], codes.get(o.code_id or 0), people[o.person_id]
        views.append(OrderView(
            id=o.id, item_id=o.item_id, title=item.title, picture=item.picture,
            kind=ItemKind(item.kind), price=o.price, status=OrderStatus(o.status),
            created_at=o.created_at, updated_at=o.updated_at, address=o.address,
            cancel_reason=o.cancel_reason, has_code=code is not None,
            value=code.value if code else "", expires_on=code.expires_on if code else None,
            how_to_use=item.how_to_use, person_name=person.full_name,
            person_email=person.email if staff else "",
            masked_code=mask(code.last4) if code and staff else ""))
    return views


async def my_orders(viewer: Viewer, *, offset: int = 0, limit: int = 25
                    ) -> tuple[list[OrderView], bool]:
    rows = await Order.filter(_owned(viewer)).order_by("-id").offset(offset).limit(limit + 1)
    return await _views(rows[:limit]), len(rows) > limit


async def order(viewer: Viewer, order_id: int) -> OrderView:
    row = await Order.filter(_owned(viewer)).filter(id=order_id).first()
    if row is None:
        raise NoSuchOrder()
    return (await _views([row]))[0]


@dataclass(frozen=True)
class Revealed:
    order_id: int
    code: str
    value: str
    expires_on: date | None
    how_to_use: str


async def reveal(viewer: Viewer, order_id: int, *, via: str, settings: Settings,
                 now: datetime | None = None) -> Revealed:
    """The order's code, for its owner only; each reveal is logged."""
    row = await Order.filter(_owned(viewer)).filter(id=order_id).first()
    if row is None or row.code_id is None:
        raise NoSuchOrder()
    if row.status == OrderStatus.CANCELLED:
        raise CatalogRefusal(N_("This order was cancelled: its code is no longer valid."))
    code = await Code.get(id=row.code_id)
    item = await Item.get(id=row.item_id)
    plain = _sealer(settings).open(code.sealed)
    await Reveal.create(order_id=row.id, person_id=viewer.person.id, via=via,
                        at=now or datetime.now(UTC))
    return Revealed(row.id, plain, code.value, code.expires_on, item.how_to_use)


# -- low stock ----------------------------------------------------------------------------


async def stock_left(item: Item) -> int | None:
    if item.kind == ItemKind.CERTIFICATE:
        return await Code.filter(item_id=item.id, status=CodeStatus.AVAILABLE).count()
    return item.stock


async def _tell_if_low(item: Item, *, now: datetime, settings: Settings) -> bool:
    """Tells marketing once per crossing that the item's stock fell to its low mark, in
    the portal and by e-mail (a work alert, sent whatever their news setting says). The
    flag is set by a conditional update, so two buyers crossing together tell once."""
    if item.low_stock_at is None:
        return False
    item = await Item.get(id=item.id)  # the stock after this order
    left = await stock_left(item)
    if item.low_stock_at is None or left is None or left > item.low_stock_at:
        return False
    if await Item.filter(id=item.id, low_told=False).update(
            low_told=True, low_crossings=F("low_crossings") + 1) != 1:
        return False
    crossing = (await Item.get(id=item.id)).low_crossings
    staff = [p for p in await Person.filter(is_active=True,
                                            roles__contains=Role.MARKETING.value)
             if Role.MARKETING in p.role_set]
    await tell([Notice(p, f"low-stock:{item.id}:{crossing}:{p.id}", "low_stock",
                       {"title": item.title, "left": left}) for p in staff],
               now=now, email=lambda notice: mail.render(
                   "low_stock", notice.person, settings, title=item.title, left=left,
                   item_id=item.id))
    return True


async def _rearm_if_restocked(item: Item) -> None:
    left = await stock_left(item)
    if item.low_stock_at is not None and left is not None and left > item.low_stock_at:
        await Item.filter(id=item.id, low_told=True).update(low_told=False)


# -- marketing ----------------------------------------------------------------------------


@dataclass
class ItemFields:
    category_id: int
    kind: ItemKind
    title: str
    price: int
    description: str = ""
    how_to_use: str = ""
    picture: str = ""
    for_companies: bool = False
    active: bool = True
    stock: int | None = None
    monthly_limit: int | None = None
    low_stock_at: int | None = None
    unlock_quiz_id: int | None = None
    unlock_course_id: int | None = None


async def save_category(name: str, *, position: int = 0, category_id: int | None = None
                        ) -> Category:
    name = name.strip()
    if not name:
        raise BadRequest(N_("A category needs a name."))
    clash = Category.filter(name=name)
    if category_id is not None:
        clash = clash.exclude(id=category_id)
    if await clash.exists():
        raise BadRequest(N_("There is already a category named %(name)s."), name=name)
    if category_id is None:
        return await Category.create(name=name, position=position)
    found = await Category.get_or_none(id=category_id)
    if found is None:
        raise NoSuchItem()
    await Category.filter(id=category_id).update(name=name, position=position)
    return await Category.get(id=category_id)


async def save_item(values: ItemFields, *, item_id: int | None = None,
                    now: datetime | None = None) -> Item:
    if not await Category.exists(id=values.category_id):
        raise BadRequest(N_("Choose one of the categories."))
    data = dict(values.__dict__)
    if values.kind == ItemKind.CERTIFICATE:
        data["stock"] = None  # a certificate's stock is its pool of codes
    if item_id is None:
        return await Item.create(**data, created_at=now or datetime.now(UTC))
    item = await Item.get_or_none(id=item_id)
    if item is None:
        raise NoSuchItem()
    if not data["picture"]:
        data["picture"] = item.picture  # no new picture: keep the old one
    await Item.filter(id=item_id).update(**data)
    item = await Item.get(id=item_id)
    await _rearm_if_restocked(item)
    return item


async def staff_items() -> list[tuple[Item, int | None]]:
    items = await Item.all().order_by("category_id", "price", "id")
    codes = await _codes_left([i.id for i in items if i.kind == ItemKind.CERTIFICATE])
    return [(i, codes.get(i.id, 0) if i.kind == ItemKind.CERTIFICATE else i.stock)
            for i in items]


async def staff_item(item_id: int) -> Item:
    item = await Item.get_or_none(id=item_id)
    if item is None:
        raise NoSuchItem()
    return item


@dataclass(frozen=True)
class PoolRow:
    id: int
    masked: str
    value: str
    expires_on: date | None
    status: CodeStatus


async def pool(item_id: int, *, offset: int = 0, limit: int = 50
               ) -> tuple[list[PoolRow], bool, dict[str, int]]:
    """A page of the item's codes as marketing sees them (masked), and counts by status."""
    rows = await Code.filter(item_id=item_id).order_by("id").offset(offset).limit(limit + 1)
    counts = {row["status"]: int(row["n"]) for row in await Code.filter(item_id=item_id)
              .group_by("status").annotate(n=Count("id")).values("status", "n")}
    return ([PoolRow(r.id, mask(r.last4), r.value, r.expires_on, CodeStatus(r.status))
             for r in rows[:limit]], len(rows) > limit, counts)


async def import_codes(item_id: int, data: bytes, *, settings: Settings,
                       now: datetime | None = None) -> int:
    """Adds a CSV file of codes to the item's pool, all or nothing; returns how many.

    The whole file is read and checked first (``codes.read_code_file``), then checked
    against the pool, then written in one transaction; a code that arrives meanwhile
    from another upload fails the unique fingerprint, and the transaction with it."""
    moment = now or datetime.now(UTC)
    item = await staff_item(item_id)
    if item.kind != ItemKind.CERTIFICATE:
        raise BadRequest(N_("Only e-certificates have a pool of codes."))
    rows = read_code_file(data, today=moment.date())
    sealer = _sealer(settings)
    prints = {sealer.fingerprint(row.code): row for row in rows}
    found = await _existing(list(prints))
    if found:
        first = min((prints[p] for p in found), key=lambda r: r.line)
        raise_duplicate(first)
    codes = [Code(item_id=item.id, sealed=sealer.seal(row.code), fingerprint=fp,
                  last4=row.code[-4:], value=row.value, expires_on=row.expires_on,
                  status=CodeStatus.AVAILABLE, uploaded_at=moment)
             for fp, row in prints.items()]
    try:
        async with write_transaction() as conn:
            await Code.bulk_create(codes, batch_size=1000, using_db=conn)
    except IntegrityError:
        # Another upload added one of these codes between the check and the write.
        found = await _existing(list(prints))
        raise_duplicate(min((prints[p] for p in found), key=lambda r: r.line)
                        if found else rows[0])
    await _rearm_if_restocked(item)
    return len(codes)


def raise_duplicate(row: CodeRow) -> None:
    raise CodeFileRefused(row.line, N_("Line %(line)s: this code is already in a pool."),
                          line=row.line)


async def _existing(fingerprints: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(fingerprints), 500):
        found |= {str(row["fingerprint"]) for row in await Code.filter(
            fingerprint__in=fingerprints[start:start + 500]).values("fingerprint")}
    return found


async def staff_orders(*, status: OrderStatus | None = None, offset: int = 0,
                       limit: int = 25) -> tuple[list[OrderView], bool]:
    query = Order.all() if status is None else Order.filter(status=status)
    rows = await query.order_by("-id").offset(offset).limit(limit + 1)
    return await _views(rows[:limit], staff=True), len(rows) > limit


NEXT_STATE = {OrderStatus.AWAITING: OrderStatus.SHIPPED,
              OrderStatus.SHIPPED: OrderStatus.DELIVERED}


async def advance(order_id: int, *, to: OrderStatus, now: datetime | None = None) -> None:
    """Moves a gift order one step on (awaiting shipping, shipped, delivered)."""
    before = {v: k for k, v in NEXT_STATE.items()}.get(to)
    if before is None:
        raise BadRequest(N_("An order moves on only to shipped or delivered."))
    if await Order.filter(id=order_id, status=before).update(
            status=to, updated_at=now or datetime.now(UTC)) != 1:
        if not await Order.exists(id=order_id):
            raise NoSuchOrder()
        raise CatalogRefusal(N_("This order is not waiting for that step."))


async def cancel(order_id: int, *, reason: str, now: datetime | None = None) -> bool:
    """Cancels the order and refunds its points through the ledger, once: the status
    changes by a conditional update in the refund's transaction. Its code is voided,
    never handed out again; a gift's unit goes back to stock if it was not shipped.
    False when it was already cancelled."""
    reason = reason.strip()
    if not 3 <= len(reason) <= 500:
        raise BadRequest(N_("Give a reason of 3 to 500 characters."))
    moment = now or datetime.now(UTC)
    async with write_transaction() as conn:
        row = await Order.filter(id=order_id).using_db(conn).first()
        if row is None:
            raise NoSuchOrder()
        if await Order.filter(id=order_id).exclude(status=OrderStatus.CANCELLED).using_db(
                conn).update(status=OrderStatus.CANCELLED, cancel_reason=reason,
                             updated_at=moment) != 1:
            return False
        item = await Item.filter(id=row.item_id).using_db(conn).get()
        account = await Account.filter(id=row.account_id).using_db(conn).get()
        if row.price > 0:  # a prize granted for nothing has nothing to give back
            await _refund(conn, row, item, account, reason, moment)
        if row.code_id is not None:
            await Code.filter(id=row.code_id).using_db(conn).update(status=CodeStatus.VOID)
        elif row.status == OrderStatus.AWAITING and item.stock is not None:
            await Item.filter(id=item.id).using_db(conn).update(stock=F("stock") + 1)
    # The owner hears of it in the portal (a company order: the manager who redeemed it).
    person = await Person.get(id=row.person_id)
    await tell([Notice(person, f"order-cancelled:{row.id}",
                       "order_cancelled" if row.price > 0 else "prize_cancelled",
                       {"title": item.title, "reason": reason, "points": row.price})],
               now=moment, email=lambda notice: None)
    return True


async def _refund(conn: BaseDBAsyncClient, row: Order, item: Item, account: Account,
                  reason: str, now: datetime) -> None:
    """The order's points back from the catalog account its payment credited."""
    paid = await Transfer.filter(id=row.transfer_id).using_db(conn).get()
    catalog_account = await Account.filter(id=paid.target_id).using_db(conn).get()
    refund = await ledger.refund(
        account, amount=row.price,
        reason=ledger.Reason(N_("Refund: %(title)s (order cancelled: %(why)s)"),
                             title=item.title, why=reason[:300]),
        reference=f"catalog-order:{row.id}", key=f"refund:catalog-order:{row.id}",
        source=catalog_account, now=now, conn=conn)
    await Order.filter(id=row.id).using_db(conn).update(refund_transfer_id=refund.id)


async def company_orders(company_id: int, *, offset: int = 0, limit: int = 25
                         ) -> tuple[list[OrderView], bool]:
    """The company's redemptions, with who redeemed each."""
    rows = await Order.filter(company_id=company_id).order_by("-id").offset(offset).limit(
        limit + 1)
    return await _views(rows[:limit]), len(rows) > limit


# -- prizes (used by auctions and raffles) ------------------------------------------------


async def grant(person: Person, item_id: int, *, key: str, settings: Settings,
                now: datetime | None = None) -> Redeemed:
    """An order of the item for ``person`` that nobody pays (a prize won in an auction or
    a raffle): one order per ``key``, at price 0 and with no ledger transfer. A code is
    claimed from the pool and e-mailed as with a redemption (``mail_codes``); a gift
    awaits delivery with no address yet (marketing asks the winner). Raises NoSuchItem or
    SoldOut, and then nothing is written."""
    moment = now or datetime.now(UTC)
    async with write_transaction() as conn:
        existing = await Order.filter(key=key).using_db(conn).first()
        if existing is not None:
            return Redeemed(existing.id, replayed=True)
        item = await Item.filter(id=item_id).using_db(conn).first()
        if item is None:
            raise NoSuchItem()
        account = await Account.filter(person_id=person.id).using_db(conn).get()
        code: Code | None = None
        if item.kind == ItemKind.GIFT:
            if item.stock is not None and await Item.filter(
                    id=item.id, stock__gte=1).using_db(conn).update(stock=F("stock") - 1) != 1:
                raise SoldOut()
        else:
            code = (await _claim_code(conn, item.id))[0]
        order = await Order.create(
            key=key, item_id=item.id, person_id=person.id, account_id=account.id, price=0,
            month=season_of(moment), status=OrderStatus.ISSUED if code else OrderStatus.AWAITING,
            code_id=code.id if code else None, mail_pending=code is not None,
            created_at=moment, updated_at=moment, using_db=conn)
    await _tell_if_low(item, now=moment, settings=settings)
    return Redeemed(order.id, replayed=False)


EXPORT_HEADER = ["order", "created", "status", "item", "kind", "price", "redeemed by",
                 "e-mail", "company", "address", "code", "cancel reason"]


async def export_rows() -> list[list[str | int | None]]:
    """Every order for marketing's CSV: codes masked as in the lists."""
    rows = await Order.all().order_by("id")
    views = await _views(rows, staff=True)
    companies = {c.id: c.name for c in await Company.filter(
        id__in=list({o.company_id for o in rows if o.company_id}))}
    return [[v.id, v.created_at.isoformat(timespec="seconds"), v.status.value, v.title,
             v.kind.value, v.price, v.person_name, v.person_email,
             companies.get(o.company_id or 0, ""), v.address, v.masked_code, v.cancel_reason]
            for o, v in zip(rows, views, strict=True)]
