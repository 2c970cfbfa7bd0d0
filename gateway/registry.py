"""Who receives what, in memory and without I/O: the connected operators and their
queue interest, the patrons by chat, and the per-chat live feeds with their seq
bookkeeping. The hub asks it for recipients; the socket layer is only a ``Peer``
(anything with ``send(frame: str)``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Literal, Protocol

from refdesk.contracts.queue import ChatView, OperatorProfile, TransferView

from .policy import monitoring

Side = Literal["patron", "operator"]

MAX_AHEAD = 1000
"""How many out-of-order seqs a feed remembers before it gives up on a gap."""


class Peer(Hashable, Protocol):
    """A connected client: frames (JSON text) are handed to ``send``, which never blocks."""

    def send(self, frame: str) -> None: ...


class ChatFeed:
    """One peer's live subscription to one chat's messages and typing signals.

    A feed starts *buffering*: live messages are kept while the subscriber fetches
    the history. :meth:`go_live` records what the history covered and flushes the
    buffer; from then on each message is sent once — a seq already sent (from the
    history, a buffered copy, or a repeated publish) is dropped, and messages arriving
    out of order are still delivered.

    Attributes:
        side: whose side the subscriber is on; typing is not echoed to its own side.
    """

    def __init__(self, peer: Peer, chat_id: str, side: Side) -> None:
        self.peer = peer
        self.chat_id = chat_id
        self.side = side
        self._buffer: list[tuple[int, str | None]] | None = []
        self._watermark = 0  # every seq <= watermark has been sent
        self._ahead: set[int] = set()  # seqs > watermark that have been sent

    @property
    def top_seq(self) -> int:
        """The highest seq this subscriber has been sent."""
        return max(self._ahead, default=self._watermark)

    def offer(self, seq: int, frame: str | None) -> None:
        """A live ``message`` frame for this chat: buffer it, or send it unless its
        ``seq`` was already sent. ``None`` is a seq this subscriber must not see (an
        internal note on a patron's feed): it is only marked, so the seqs stay
        contiguous."""
        if self._buffer is not None:
            self._buffer.append((seq, frame))
        elif self._mark(seq) and frame is not None:
            self.peer.send(frame)

    def go_live(self, after_seq: int, sent: Iterable[int]) -> None:
        """The history has been sent: every seq up to ``after_seq`` is covered (where it
        started, or the history's top seq) and ``sent`` are the seqs it carried. Flush
        buffered messages not covered, in seq order."""
        buffered, self._buffer = self._buffer or [], None
        self._watermark = max(self._watermark, after_seq)
        for seq in sent:
            self._mark(seq)
        for seq, frame in sorted(buffered, key=lambda item: item[0]):
            if self._mark(seq) and frame is not None:
                self.peer.send(frame)

    def _mark(self, seq: int) -> bool:
        """Record ``seq`` as sent; False when it already was."""
        if seq <= self._watermark or seq in self._ahead:
            return False
        self._ahead.add(seq)
        while self._watermark + 1 in self._ahead:
            self._watermark += 1
            self._ahead.discard(self._watermark)
        if len(self._ahead) > MAX_AHEAD:  # a gap that never fills: move on
            self._watermark = max(self._ahead)
            self._ahead.clear()
        return True


class Registry:
    """The connected peers of one gateway process and what each one wants.

    * operators: every peer of an operator shares the operator's latest profile;
      while Online they receive ``chat.update`` for the departments they monitor;
    * patrons: peers by the chat their token reaches;
    * feeds: per chat, the peers that subscribed to its messages.
    """

    def __init__(self) -> None:
        self._profiles: dict[str, OperatorProfile] = {}
        self._operator_peers: dict[str, set[Peer]] = {}
        self._operator_of: dict[Peer, str] = {}
        self._watching: dict[str, frozenset[str]] = {}  # operator id → departments
        self._watchers: dict[str, set[str]] = {}  # department id → operator ids
        self._patrons: dict[str, set[Peer]] = {}
        self._patron_chat: dict[Peer, str] = {}
        self._feeds: dict[str, dict[Peer, ChatFeed]] = {}
        self._feeds_of: dict[Peer, set[str]] = {}

    # --- membership -----------------------------------------------------------

    def join_operator(self, peer: Peer, profile: OperatorProfile) -> None:
        """Register an operator's peer and take ``profile`` as their current one."""
        self._operator_of[peer] = profile.id
        self._operator_peers.setdefault(profile.id, set()).add(peer)
        self.update_operator(profile)

    def update_operator(self, profile: OperatorProfile) -> None:
        """A newer profile (status, monitored departments, memberships): recompute
        the operator's interest. Ignored for operators with no peer here."""
        if profile.id not in self._operator_peers:
            return
        self._profiles[profile.id] = profile
        self._set_watching(profile.id, monitoring(profile))

    def operator_ids(self) -> list[str]:
        """Ids of the operators with at least one peer here, sorted."""
        return sorted(self._operator_peers)

    def operator_peers(self, operator_ids: Iterable[str] | None = None) -> set[Peer]:
        """The peers of these operators (every operator peer when ``None``)."""
        if operator_ids is None:
            return set(self._operator_of)
        return {peer for operator_id in operator_ids for peer in self._operator_peers.get(operator_id, ())}

    def profile(self, operator_id: str) -> OperatorProfile | None:
        """The operator's latest known profile (``None`` when not connected here)."""
        return self._profiles.get(operator_id)

    def join_patron(self, peer: Peer, chat_id: str) -> None:
        """Register a patron's peer for their chat."""
        self._patron_chat[peer] = chat_id
        self._patrons.setdefault(chat_id, set()).add(peer)

    def leave(self, peer: Peer) -> None:
        """Forget ``peer`` everywhere (its socket closed)."""
        for chat_id in self._feeds_of.pop(peer, set()):
            self._drop_feed(peer, chat_id)
        chat_id = self._patron_chat.pop(peer, None)
        if chat_id is not None:
            _discard(self._patrons, chat_id, peer)
        operator_id = self._operator_of.pop(peer, None)
        if operator_id is not None:
            _discard(self._operator_peers, operator_id, peer)
            if operator_id not in self._operator_peers:
                self._set_watching(operator_id, frozenset())
                self._profiles.pop(operator_id, None)

    # --- feeds ----------------------------------------------------------------

    def open_feed(self, peer: Peer, chat_id: str, side: Side) -> ChatFeed:
        """Start (or restart) ``peer``'s buffering feed of ``chat_id``."""
        feed = ChatFeed(peer, chat_id, side)
        self._feeds.setdefault(chat_id, {})[peer] = feed
        self._feeds_of.setdefault(peer, set()).add(chat_id)
        return feed

    def close_feed(self, peer: Peer, chat_id: str) -> None:
        """Stop ``peer``'s feed of ``chat_id`` (a failed subscribe)."""
        self._drop_feed(peer, chat_id)
        _discard(self._feeds_of, peer, chat_id)

    def close_chat_feeds(self, chat_id: str) -> None:
        """Stop every feed of a chat (it was closed: no more messages come)."""
        for peer in self._feeds.pop(chat_id, {}):
            _discard(self._feeds_of, peer, chat_id)

    def feeds(self, chat_id: str) -> list[ChatFeed]:
        """The feeds of a chat."""
        return list(self._feeds.get(chat_id, {}).values())

    def close_feeds_unless(self, chat_id: str, allowed: Callable[[OperatorProfile], bool]) -> list[Peer]:
        """Stop the operator feeds of ``chat_id`` whose operator's latest profile no
        longer passes ``allowed`` (their access to the chat ended); returns their peers."""
        closed = []
        for peer, feed in list(self._feeds.get(chat_id, {}).items()):
            operator_id = self._operator_of.get(peer) if feed.side == "operator" else None
            profile = self._profiles.get(operator_id) if operator_id is not None else None
            if profile is not None and not allowed(profile):
                self.close_feed(peer, chat_id)
                closed.append(peer)
        return closed

    # --- recipients -----------------------------------------------------------

    def patrons(self, chat_id: str) -> set[Peer]:
        """The patron peers of a chat."""
        return set(self._patrons.get(chat_id, ()))

    def chat_update_recipients(self, chat: ChatView, transfer: TransferView | None = None) -> set[Peer]:
        """Who gets a ``chat.update`` for ``chat``: operators whose (Online) monitored
        departments include its department, its owner, the operators who stayed in
        it (participants), its patron, and — for the chat's open transfer and for
        ``transfer`` (the one an event concerns, possibly over now) — the sender and
        the targets (:meth:`transfer_targets`)."""
        recipients = self.patrons(chat.id)
        for operator_id in self._watchers.get(chat.department_id, ()):
            recipients |= self._operator_peers.get(operator_id, set())
        if chat.claimed_by:
            recipients |= self._operator_peers.get(chat.claimed_by, set())
        for participant in chat.participants:
            recipients |= self._operator_peers.get(participant.operator_id, set())
        for concerned in {t.id: t for t in (chat.transfer, transfer) if t is not None}.values():
            recipients |= self._operator_peers.get(concerned.from_operator_id, set())
            recipients |= self.transfer_targets(concerned)
        return recipients

    def transfer_targets(self, transfer: TransferView) -> set[Peer]:
        """The peers a transfer is offered to: the target operator's, or those of every
        operator monitoring the target department (while Online) but its sender."""
        if transfer.to_operator_id is not None:
            return set(self._operator_peers.get(transfer.to_operator_id, set()))
        peers: set[Peer] = set()
        for operator_id in self._watchers.get(transfer.to_department_id or "", ()):
            if operator_id != transfer.from_operator_id:
                peers |= self._operator_peers.get(operator_id, set())
        return peers

    # --- internals ------------------------------------------------------------

    def _set_watching(self, operator_id: str, departments: frozenset[str]) -> None:
        for department in self._watching.pop(operator_id, frozenset()) - departments:
            _discard(self._watchers, department, operator_id)
        for department in departments:
            self._watchers.setdefault(department, set()).add(operator_id)
        if departments:
            self._watching[operator_id] = departments

    def _drop_feed(self, peer: Peer, chat_id: str) -> None:
        feeds = self._feeds.get(chat_id)
        if feeds is not None:
            feeds.pop(peer, None)
            if not feeds:
                del self._feeds[chat_id]


def _discard(index: dict, key: object, value: object) -> None:
    """Remove ``value`` from the set ``index[key]``; drop the key when it empties."""
    values = index.get(key)
    if values is not None:
        values.discard(value)
        if not values:
            del index[key]
