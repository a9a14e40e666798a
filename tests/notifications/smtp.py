"""A real SMTP peer (aiosmtpd) for the tests: it accepts mail, or refuses it while told to."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller

from portal.settings import Settings


class Peer:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.refusal: str | None = None  # the reply to every RCPT while set, e.g. "451 ..."
        # While set, RCPT waits for `release` after setting `arrived`, so a test can act
        # in the middle of a delivery.
        self.hold = False
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.port = 0

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        if self.hold:
            self.arrived.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 10)
        if self.refusal:
            return self.refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def settings(self) -> Settings:
        return Settings(secret_key="x", smtp_host="127.0.0.1", smtp_port=self.port,
                        smtp_tls="none", base_url="https://club.example.com")


def free_port() -> int:
    """A port nothing listens on (bound, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def unreachable() -> Settings:
    return Settings(secret_key="x", smtp_host="127.0.0.1", smtp_port=free_port(),
                    smtp_tls="none")


@contextmanager
def smtp_peer() -> Iterator[Peer]:
    peer = Peer()
    peer.port = free_port()
    controller = Controller(peer, hostname="127.0.0.1", port=peer.port)
    controller.start()
    try:
        yield peer
    finally:
        peer.release.set()
        controller.stop()
