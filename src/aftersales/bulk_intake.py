"""Bulk intake: parse and route messages in worker processes, store them in this one.

Parsing MIME and routing are CPU work on one message at a time, while storing needs one
writer taking messages in the order they were read (a reply threads under the mail before
it). So worker processes turn raw bytes into parsed messages with their cards, a chunk at a
time, and the caller stores the results in reading order. Only a few chunks are in flight at
once, so a mailbox of any size costs the memory of those chunks, not of the mailbox.
"""

from __future__ import annotations

import io
import itertools
import multiprocessing
import pickle
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from aftersales.adapters.message_files import IntakeItem, MessageReader, RawMessage, read_raw
from aftersales.domain.card import DecisionCard
from aftersales.domain.messages import ParseProblem
from aftersales.domain.routes import Route, RouteSpec
from aftersales.services.routing import RoutingKit, message_card
from aftersales.settings import Settings
from aftersales.wiring import build_routing_kit

# Messages per task: large enough that sending a task costs little next to its work.
CHUNK = 50
# Below this many messages, starting worker processes costs more than it saves.
POOL_MIN_MESSAGES = 200


@dataclass(frozen=True, slots=True)
class Prepared:
    """A message read and parsed, with its card when a worker routed it (else None)."""

    item: IntakeItem
    card: DecisionCard | None = None


def prepared_messages(
    path: Path, kit: RoutingKit, reader: MessageReader, *, settings: Settings, workers: int
) -> Iterator[Prepared]:
    """The messages in ``path`` in reading order, parsed. With ``workers`` > 0 and enough
    input, that many worker processes parse and route them with a copy of ``kit`` (or one
    built from ``settings`` where processes cannot be forked) while the caller stores them."""
    raw = read_raw(path)
    head = list(itertools.islice(raw, POOL_MIN_MESSAGES))
    if workers < 1 or len(head) < POOL_MIN_MESSAGES:
        yield from (Prepared(reader.parse(message)) for message in itertools.chain(head, raw))
        return
    yield from _in_workers(itertools.chain(head, raw), _Tools(reader, kit, settings), workers)


@dataclass(frozen=True, slots=True)
class _Tools:
    reader: MessageReader
    kit: RoutingKit
    settings: Settings


def _in_workers(raw: Iterator[RawMessage], tools: _Tools, workers: int) -> Iterator[Prepared]:
    method = _start_method()
    # a forked worker inherits the caller's kit; a spawned one builds its own from the settings
    start = (tools.reader, tools.kit if method == "fork" else None, tools.settings)
    context = multiprocessing.get_context(method)
    with ProcessPoolExecutor(workers, context, initializer=_start_worker, initargs=start) as pool:
        pending: deque[Future[bytes]] = deque()
        for chunk in _chunks(raw, CHUNK):
            pending.append(pool.submit(_prepare_chunk, chunk))
            if len(pending) >= 2 * workers + 1:
                yield from _loads(pending.popleft().result(), tools.kit)
        while pending:
            yield from _loads(pending.popleft().result(), tools.kit)


def _start_method() -> str:
    # Forking starts at once and shares the built kit. The process forks before the pool
    # starts any thread, and the workers never touch the caller's database connection.
    methods = multiprocessing.get_all_start_methods()
    return "fork" if "fork" in methods else "spawn"


def _chunks(items: Iterable[RawMessage], size: int) -> Iterator[list[RawMessage]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


# A card's route spec is the kit's own, the same in every process: it travels as its route
# name rather than as a copy, which halves the time spent unpickling results.
class _CardPickler(pickle.Pickler):
    def __init__(self, file: BinaryIO, kit: RoutingKit) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.spec_routes = {id(spec): route.value for route, spec in kit.specs.items()}

    def persistent_id(self, obj: object) -> str | None:
        return self.spec_routes.get(id(obj))


class _CardUnpickler(pickle.Unpickler):
    def __init__(self, file: BinaryIO, kit: RoutingKit) -> None:
        super().__init__(file)
        self.kit = kit

    def persistent_load(self, pid: object) -> RouteSpec:
        return self.kit.specs[Route(str(pid))]


def _dumps(prepared: list[Prepared], kit: RoutingKit) -> bytes:
    buffer = io.BytesIO()
    _CardPickler(buffer, kit).dump(prepared)
    return buffer.getvalue()


def _loads(data: bytes, kit: RoutingKit) -> list[Prepared]:
    loaded: list[Prepared] = _CardUnpickler(io.BytesIO(data), kit).load()
    return loaded


# ---------------------------------------------------------------- in a worker process

# One reader and routing kit per worker process, set once when it starts.
_worker: dict[str, tuple[MessageReader, RoutingKit]] = {}


def _start_worker(reader: MessageReader, kit: RoutingKit | None, settings: Settings) -> None:
    _worker["tools"] = (reader, kit if kit is not None else build_routing_kit(settings))


def _prepare_chunk(chunk: Sequence[RawMessage]) -> bytes:
    reader, kit = _worker["tools"]
    return _dumps([_prepare(reader, kit, raw) for raw in chunk], kit)


def _prepare(reader: MessageReader, kit: RoutingKit, raw: RawMessage) -> Prepared:
    item = reader.parse(raw)
    if isinstance(item.result, ParseProblem) or item.result[0].auto_kind is not None:
        return Prepared(item)
    try:
        return Prepared(item, message_card(kit, item.result[0]))
    except Exception:
        # one message must not fail its whole chunk: the storing process routes it again,
        # and quarantines it with the reason if it raises there too
        return Prepared(item)


__all__ = ["CHUNK", "POOL_MIN_MESSAGES", "Prepared", "prepared_messages"]
