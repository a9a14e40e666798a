"""Auctions: creating lots, bidding, the live state of a lot, closing and cancelling.

A bid is one write transaction that starts by reading the lot's row locked (``FOR
UPDATE`` on PostgreSQL; on SQLite ``BEGIN IMMEDIATE`` has taken the write lock): the
amount must beat the current highest by the increment (or reach the starting bid), and
the lot must be open, started and not past its end. That read is where bids on one lot
meet: the second of two racing bids waits for the first to end and then decides against
the new highest. Holding the row, the bid updates the lot (leader, highest bid, counts,
the soft close), and ``ledger.replace_hold`` releases the previous leader's hold and holds
the new amount, accounts in id order (so two bids on two lots never deadlock); a bidder
raising their own bid has the old hold released and the new one made in the same
statements, so only the difference leaves what they have available. Then the bid row and
the outbid leader's notice. The hot path is hand-written SQL on both databases (about
eight statements where the benchmark's raw ceiling makes two); any refusal (not enough
points, too low, closed) rolls everything back.

So a lot has at most one open hold at any moment, its leader's, for the highest bid.
Closing claims the lot by a conditional update (open and past its end), which waits for
a bid holding the row, then captures that hold, in one transaction; a bid that raced it
either committed first
(and may have moved the end by the soft close, so the lot is not closed yet) or finds
the lot closed. The prize is then delivered as a catalog order and everyone told, each
keyed, so a resumed run finishes the work without doing any of it twice.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError

from portal.accounts.models import Person
from portal.auctions.models import Bid, Lot, LotStatus
from portal.auctions.prizes import check_prize_item, deliver, tell_everyone
from portal.db import dialect_sql, is_postgres, write_transaction
from portal.i18n import N_, Refusal
from portal.ledger import service as ledger
from portal.ledger.models import Account, Hold, HoldStatus
from portal.ledger.reasons import Reason
from portal.notifications.telling import Notice
from portal.settings import Settings

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,100}$")
MAX_BID = 1_000_000_000


# -- refusals -----------------------------------------------------------------------------


class AuctionRefusal(Refusal):
    pass


class NoSuchLot(AuctionRefusal):
    status = 404

    def __init__(self) -> None:
        super().__init__(N_("There is no such auction."))


class NotStarted(AuctionRefusal):
    def __init__(self) -> None:
        super().__init__(N_("This auction has not started yet."))


class LotEnded(AuctionRefusal):
    def __init__(self) -> None:
        super().__init__(N_("This auction has ended: no more bids."))


class BidTooLow(AuctionRefusal):
    def __init__(self, minimum: int) -> None:
        super().__init__(N_("Bid at least %(minimum)s points."), minimum=minimum)
        self.minimum = minimum


class BadBid(AuctionRefusal):
    status = 400


class CannotCancel(AuctionRefusal):
    def __init__(self) -> None:
        super().__init__(N_("Only an auction that has not closed can be cancelled."))


# -- creating -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LotFields:
    title: str
    description: str
    prize_text: str
    prize_item_id: int | None
    starts_at: datetime
    ends_at: datetime
    starting_bid: int
    increment: int
    picture: str = ""


async def create_lot(values: LotFields, *, by: Person, settings: Settings,
                     now: datetime | None = None) -> Lot:
    """A new lot with its own ledger account; the soft close is the portal's setting.
    Raises catalog.NoSuchItem (the prize is no catalog reward) or BadBid."""
    moment = now or datetime.now(UTC)
    await check_prize_item(values.prize_item_id)
    if values.ends_at <= values.starts_at:
        raise BadBid(N_("The end must come after the start."))
    if values.ends_at <= moment:
        raise BadBid(N_("The end must be in the future."))
    if not values.prize_text.strip() and values.prize_item_id is None:
        raise BadBid(N_("Say what the winner gets: a catalog reward or a text."))
    async with write_transaction() as conn:
        lot = await Lot.create(
            title=values.title, description=values.description, picture=values.picture,
            prize_text=values.prize_text, prize_item_id=values.prize_item_id,
            starts_at=values.starts_at, ends_at=values.ends_at,
            starting_bid=values.starting_bid, increment=values.increment,
            soft_close_minutes=settings.auction_soft_close_minutes,
            account_id=(await ledger.system_account(
                f"auction:{secrets.token_hex(8)}", name=f"Auction: {values.title}"[:200],
                conn=conn)).id,
            created_by_id=by.id, created_at=moment, using_db=conn)
    return lot


# -- bidding ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Placed:
    bid_id: int
    lot_id: int
    amount: int
    ends_at: datetime
    extended: bool  # the soft close moved the end
    replayed: bool  # the same key was used before: nothing happened now


def bid_key(person: Person, client_key: str) -> str:
    if not KEY_PATTERN.match(client_key or ""):
        raise BadBid(N_("The request needs a key of 8 to 100 letters, digits, - or _."))
    return f"bid:{person.id}:{client_key}"


async def place_bid(person: Person, lot_id: int, *, amount: int, key: str,
                    settings: Settings, now: datetime | None = None) -> Placed:
    """Bids ``amount`` on the lot, holding the points at once; the outbid leader's hold is
    released in the same transaction and they are told. One bid per ``key``.

    Raises NoSuchLot, NotStarted, LotEnded, BidTooLow, BadBid, ledger.NotEnoughPoints or
    ledger.KeyReused; nothing is written then.
    """
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    full_key = bid_key(person, key)
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= MAX_BID:
        raise BadBid(N_("A bid is a whole number of points from 1 to %(most)s."),
                     most=MAX_BID)
    # A bid that cannot lead is refused before taking the write lock (the lot as read now:
    # the locked read below decides for the bids that pass), and a replay answers here.
    seen = await _seen(lot_id, full_key)
    if seen is None or seen.replay is not None:
        return await _replay_or(NoSuchLot(), full_key, key, lot_id, amount)
    if amount < minimum_bid(seen) or state_of(seen, moment) != "open":
        _refuse(seen, moment)
    try:
        async with write_transaction() as conn:
            return await _place(conn, person, lot_id, amount, full_key, settings, moment)
    except (IntegrityError, _KeyUsed) as refused:
        # A bid with the same key committed while this one waited for the lot.
        return await _replay_or(refused, full_key, key, lot_id, amount)


class _KeyUsed(Exception):
    """A bid with this key committed while this one waited: it is replayed."""


@dataclass(frozen=True)
class _LotRow:
    """The columns of a lot a bid decides by (``minimum_bid`` and ``state_of`` read it
    like a Lot)."""

    status: str
    starts_at: datetime
    ends_at: datetime
    high_bid: int
    increment: int
    starting_bid: int
    replay: int | None  # the id of a bid made with this bid's key
    leader_id: int | None = None
    leader_account: int | None = None
    account_id: int = 0  # the lot's own ledger account
    soft_close_minutes: int = 0
    title: str = ""
    bidder_account: int | None = None


_DECIDING = ("l.status, l.starts_at, l.ends_at, l.high_bid, l.increment, l.starting_bid, "
             "(SELECT b.id FROM auction_bid b WHERE b.key = ?) AS replay")


def _row(row: dict[str, Any]) -> _LotRow:
    values = dict(row)
    for name in ("starts_at", "ends_at"):  # SQLite answers with text
        if isinstance(values[name], str):
            values[name] = datetime.fromisoformat(values[name])
    return _LotRow(**values)


async def _seen(lot_id: int, full_key: str) -> _LotRow | None:
    """The lot as it is now, and the bid already made with this key, in one statement."""
    conn = connections.get("default")
    rows = await conn.execute_query_dict(dialect_sql(
        conn, f"SELECT {_DECIDING} FROM auction_lot l WHERE l.id = ?"),  # noqa: S608
        [full_key, lot_id])
    return _row(rows[0]) if rows else None


async def _replay_or(refusal: Exception, full_key: str, key: str, lot_id: int,
                     amount: int) -> Placed:
    """What the bid made with this key answered, or the refusal when there is none."""
    existing = await Bid.get_or_none(key=full_key)
    if existing is None:
        raise refusal
    if (existing.lot_id, existing.amount) != (lot_id, amount):
        raise ledger.KeyReused(N_("The key %(key)s was already used for another operation."),
                               key=key)
    return Placed(existing.id, existing.lot_id, existing.amount, existing.created_at,
                  extended=False, replayed=True)


async def _place(conn: BaseDBAsyncClient, person: Person, lot_id: int, amount: int,
                 full_key: str, settings: Settings, moment: datetime) -> Placed:
    """The bid's write transaction, in hand-written SQL: about six statements where the
    raw ceiling makes two. The lot's row is read locked (FOR UPDATE; SQLite's write lock
    is already taken), so the bid is decided against the latest highest bid and nothing
    changes the lot until this transaction ends: the lot, the moved hold (``ledger.
    replace_hold``), the bid and the outbid leader's notice then follow from it."""
    lock = " FOR UPDATE OF l" if is_postgres(conn) else ""
    rows = await conn.execute_query_dict(dialect_sql(
        conn, f"SELECT {_DECIDING}, l.leader_id, l.account_id, l.soft_close_minutes, "  # noqa: S608
        "l.title, (SELECT a.id FROM account a WHERE a.person_id = l.leader_id) "
        "AS leader_account, (SELECT a.id FROM account a WHERE a.person_id = ?) "
        f"AS bidder_account FROM auction_lot l WHERE l.id = ?{lock}"),
        [full_key, person.id, lot_id])
    if not rows:
        raise NoSuchLot()
    lot = _row(rows[0])
    if lot.replay is not None:  # committed while this bid waited (SQLite sees it here)
        raise _KeyUsed()
    if amount < minimum_bid(lot) or state_of(lot, moment) != "open":
        # On PostgreSQL the read above saw the bids as they were before it waited for the
        # lock: a bid with this key that committed meanwhile is looked for afresh.
        if is_postgres(conn) and await conn.execute_query_dict(
                "SELECT 1 FROM auction_bid WHERE key = $1", [full_key]):
            raise _KeyUsed()
        _refuse(lot, moment)
    if lot.bidder_account is None:
        raise ledger.LedgerError(N_("You have no points account."))
    window = timedelta(minutes=lot.soft_close_minutes)
    extended = bool(window) and lot.ends_at - moment <= window
    ends_at = lot.ends_at + window if extended else lot.ends_at
    # The bidders count grows with a bidder new to the lot (the statement sees every bid
    # committed before the lock was granted).
    await conn.execute_query(dialect_sql(
        conn, "UPDATE auction_lot SET high_bid = ?, leader_id = ?, bids_count = bids_count + 1, "
        "bidders = bidders + CASE WHEN EXISTS (SELECT 1 FROM auction_bid WHERE lot_id = ? "
        "AND person_id = ?) THEN 0 ELSE 1 END, ends_at = ? WHERE id = ?"),
        [amount, person.id, lot_id, person.id, ends_at, lot_id])
    hold_id = await ledger.replace_hold(
        conn, lot.bidder_account, target_id=lot.account_id, amount=amount,
        reason=Reason(N_("Bid on “%(title)s”"), title=lot.title),
        reference=f"auction-lot:{lot_id}", key=full_key, now=moment,
        releasing=lot.leader_account if lot.high_bid else None, active=True)
    bid_id = int((await conn.execute_query_dict(dialect_sql(
        conn, "INSERT INTO auction_bid (key, lot_id, person_id, amount, hold_id, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?) RETURNING id"),
        [full_key, lot_id, person.id, amount, hold_id, moment]))[0]["id"])
    if lot.leader_id is not None and lot.leader_id != person.id:
        await _tell_outbid(conn, lot.leader_id, lot.high_bid, lot.title, bid_id, settings,
                           moment)
    return Placed(bid_id, lot_id, amount, ends_at, extended, replayed=False)


def _refuse(lot: Lot | _LotRow, moment: datetime) -> NoReturn:
    """Says why a bid cannot lead (the lot as it is now)."""
    if lot.status != LotStatus.OPEN or lot.ends_at <= moment:
        raise LotEnded()
    if lot.starts_at > moment:
        raise NotStarted()
    raise BidTooLow(minimum_bid(lot))


def minimum_bid(lot: Lot | _LotRow) -> int:
    return lot.high_bid + lot.increment if lot.high_bid else lot.starting_bid


async def _tell_outbid(conn: BaseDBAsyncClient, person_id: int, points: int, title: str,
                       bid_id: int, settings: Settings, moment: datetime) -> None:
    """The outbid leader is told in the bid's transaction: their points come back and the
    notice says so, together or not at all, with one commit."""
    person = await Person.filter(id=person_id).using_db(conn).get()
    await tell_everyone([Notice(person, f"auction-outbid:{bid_id}", "outbid",
                                {"title": title, "points": points})],
                        settings=settings, now=moment, conn=conn)


# -- reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LotState:
    """A lot as one viewer sees it right now (the live panel)."""

    lot: Lot
    state: str  # upcoming, open, closed, cancelled
    high_bid: int
    minimum: int
    bidders: int
    bids: int
    seconds_left: int
    leader_name: str
    mine: int  # my highest bid on it (0: none)
    leading: bool
    outbid: bool  # I bid and someone else leads
    available: int | None  # my available points (None: not a player)
    won: bool


def state_of(lot: Lot | _LotRow, moment: datetime) -> str:
    if lot.status == LotStatus.CANCELLED:
        return "cancelled"
    if lot.status == LotStatus.CLOSED or lot.ends_at <= moment:
        return "closed"
    return "upcoming" if lot.starts_at > moment else "open"


async def lots(*, now: datetime | None = None, include_closed: bool = False,
               offset: int = 0, limit: int = 25) -> tuple[list[Lot], bool]:
    """Open and upcoming lots, ending soonest first (with the closed ones after them for
    marketing when asked)."""
    moment = now or datetime.now(UTC)
    query = Lot.all() if include_closed else Lot.filter(status=LotStatus.OPEN,
                                                         ends_at__gt=moment)
    order = ("-id",) if include_closed else ("ends_at", "id")
    rows = await query.order_by(*order).offset(offset).limit(limit + 1)
    return rows[:limit], len(rows) > limit


async def get_lot(lot_id: int) -> Lot:
    lot = await Lot.get_or_none(id=lot_id)
    if lot is None:
        raise NoSuchLot()
    return lot


async def lot_state(lot_id: int, viewer: Person | None, *,
                    now: datetime | None = None) -> LotState:
    moment = now or datetime.now(UTC)
    lot = await get_lot(lot_id)
    mine = 0
    available: int | None = None
    if viewer is not None:
        top = await Bid.filter(lot_id=lot.id, person_id=viewer.id).order_by("-amount").first()
        mine = top.amount if top else 0
        account = await Account.get_or_none(person_id=viewer.id)
        available = account.balance - account.held if account else None
    leader = await Person.get_or_none(id=lot.leader_id) if lot.leader_id else None
    leading = viewer is not None and lot.leader_id == viewer.id
    state = state_of(lot, moment)
    return LotState(
        lot=lot, state=state, high_bid=lot.high_bid, minimum=minimum_bid(lot),
        bidders=lot.bidders, bids=lot.bids_count,
        seconds_left=max(0, int((lot.ends_at - moment).total_seconds())),
        leader_name=leader.display_name if leader else "", mine=mine, leading=leading,
        outbid=bool(mine) and not leading and state != "cancelled", available=available,
        won=leading and lot.status == LotStatus.CLOSED)


@dataclass(frozen=True)
class HistoryLine:
    display_name: str  # never an e-mail
    amount: int
    at: datetime


async def history(lot_id: int, *, offset: int = 0, limit: int = 25
                  ) -> tuple[list[HistoryLine], bool]:
    rows = await (Bid.filter(lot_id=lot_id).order_by("-id").offset(offset).limit(limit + 1)
                  .prefetch_related("person"))
    return ([HistoryLine(b.person.display_name, b.amount, b.created_at) for b in rows[:limit]],
            len(rows) > limit)


# -- closing and cancelling ---------------------------------------------------------------


async def close_due(now: datetime, settings: Settings) -> int:
    """Closes every lot past its end (the ``auction-close`` job), and finishes delivering
    and telling for lots a run that died left half done. Returns the lots settled."""
    settled = 0
    for (lot_id,) in await Lot.filter(status=LotStatus.OPEN, ends_at__lte=now).order_by(
            "ends_at").values_list("id"):
        settled += await close_lot(lot_id, settings=settings, now=now)
    for lot in await Lot.filter(status__in=[LotStatus.CLOSED, LotStatus.CANCELLED],
                                told_at__isnull=True):
        await _finish(lot, settings, now)
    return settled


async def close_lot(lot_id: int, *, settings: Settings, now: datetime) -> bool:
    """Settles the lot once: False when it was not due or someone else settled it."""
    async with write_transaction() as conn:
        if await Lot.filter(id=lot_id, status=LotStatus.OPEN, ends_at__lte=now).using_db(
                conn).update(status=LotStatus.CLOSED, closed_at=now) != 1:
            return False
        lot = await Lot.filter(id=lot_id).using_db(conn).get()
        for hold_id in await _open_holds(conn, lot):
            winner = await Bid.filter(lot_id=lot.id, hold_id=hold_id).using_db(conn).first()
            if winner is not None and winner.person_id == lot.leader_id:
                await ledger.capture(hold_id, now=now, conn=conn)
            else:  # never expected: only the leader's hold stays open
                await ledger.release(hold_id, now=now, conn=conn)
    await _finish(lot, settings, now)
    return True


async def cancel_lot(lot_id: int, *, settings: Settings, now: datetime | None = None) -> int:
    """Marketing cancels the lot: every hold is released, every bidder told. Returns the
    holds released."""
    moment = now or datetime.now(UTC)
    async with write_transaction() as conn:
        if await Lot.filter(id=lot_id, status=LotStatus.OPEN).using_db(conn).update(
                status=LotStatus.CANCELLED, closed_at=moment) != 1:
            if not await Lot.filter(id=lot_id).using_db(conn).exists():
                raise NoSuchLot()
            raise CannotCancel()
        lot = await Lot.filter(id=lot_id).using_db(conn).get()
        holds = await _open_holds(conn, lot)
        for hold_id in holds:
            await ledger.release(hold_id, now=moment, conn=conn)
    await _finish(lot, settings, moment)
    return len(holds)


async def _open_holds(conn: BaseDBAsyncClient, lot: Lot) -> list[int]:
    return [hold_id for (hold_id,) in await Hold.filter(
        target_id=lot.account_id, status=HoldStatus.OPEN).using_db(conn).values_list("id")]


async def _finish(lot: Lot, settings: Settings, now: datetime) -> None:
    """Delivers the prize (a closed lot with a winner) and tells every bidder; each step
    keyed, so a resumed run repeats nothing."""
    lot = await Lot.get(id=lot.id)
    winner = (await Person.get(id=lot.leader_id)
              if lot.status == LotStatus.CLOSED and lot.leader_id else None)
    if winner is not None and lot.delivered_at is None:
        order_id, problem = await deliver(winner, lot.prize_item_id,
                                          key=f"auction-prize:{lot.id}", settings=settings,
                                          now=now)
        await Lot.filter(id=lot.id).update(order_id=order_id, delivery_problem=problem,
                                           delivered_at=now)
    bidders = await Person.filter(id__in=await Bid.filter(lot_id=lot.id).distinct()
                                  .values_list("person_id", flat=True))
    notices = []
    for person in bidders:
        if lot.status == LotStatus.CANCELLED:
            kind = "auction_cancelled"
        else:
            kind = "auction_won" if winner is not None and person.id == winner.id \
                else "auction_lost"
        notices.append(Notice(person, f"auction:{lot.id}:{kind}:{person.id}", kind,
                              {"title": lot.title, "points": lot.high_bid}))
    await tell_everyone(notices, settings=settings, now=now)
    await Lot.filter(id=lot.id).update(told_at=now)
