"""What play refuses: a game, quiz or course action, with the reason the player reads."""

from __future__ import annotations

from portal.i18n import N_, Refusal


class PlayError(Refusal):
    """A game action was refused; the message says why."""


class NotFound(PlayError):
    status = 404

    def __init__(self) -> None:
        super().__init__(N_("This game or quiz does not exist."))
