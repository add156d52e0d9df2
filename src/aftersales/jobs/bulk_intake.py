"""Bulk intake: parse and route messages in worker processes, store them in this one.

Parsing MIME and routing are CPU work on one message at a time, while storing needs one
writer taking messages in the order they were read (a reply threads under the mail before
it). So worker processes turn raw bytes into parsed messages with their cards, a chunk at a
time, and the caller stores the results in reading order. Only a few chunks are in flight at
once, so a mailbox of any size costs the memory of those chunks, not of the mailbox.

Memory is bounded by bytes, not only by counts: the messages read ahead to decide whether
workers are worth starting are capped in bytes and let go of as they are handed over; a chunk
closes at ``CHUNK`` messages or ``CHUNK_BYTES``; and a message or an attachment over
``SPOOL_BYTES`` travels between the processes as a temporary file in the data folder
(``tmp/``), never pickled, and is read back only when its message is handed to the caller.
So a 2 GB mailbox of 7 MB photos costs a few messages' memory in each process.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import functools
import io
import multiprocessing
import pickle
import shutil
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TypeAlias, TypeVar

from aftersales.adapters.files.atomic import hand_off_file
from aftersales.adapters.mail.message_files import IntakeItem, MessageReader, RawMessage, read_raw
from aftersales.domain.card import DecisionCard
from aftersales.domain.messages import AttachmentMeta, ParseProblem
from aftersales.domain.routes import Route, RouteSpec
from aftersales.services.routing import RoutingKit, message_card
from aftersales.settings import Settings
from aftersales.wiring import build_routing_kit

T = TypeVar("T")

# Messages per task: large enough that sending a task costs little next to its work.
CHUNK = 50
# ... and at most this many bytes of mail per task, so large mails make small tasks.
CHUNK_BYTES = 8 * 1024 * 1024
# Below this many messages, starting worker processes costs more than it saves; unless they
# are large: HEAD_BYTES of mail is worth parsing in parallel however few the messages.
POOL_MIN_MESSAGES = 200
HEAD_BYTES = 16 * 1024 * 1024
# A message or an attachment over this goes between processes as a file, not pickled.
SPOOL_BYTES = 256 * 1024
STALE_SPOOL_SECONDS = 24 * 3600


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
    built from ``settings`` where processes cannot be forked) while the caller stores them.
    A message over ``settings.max_message_bytes`` comes as a ParseProblem, never read whole."""
    raw = read_raw(path, max_message_bytes=settings.max_message_bytes)
    if workers < 1:
        yield from _parsed_here(raw, reader)
        return
    head = _read_ahead(raw)
    if len(head) < POOL_MIN_MESSAGES and sum(len(m.data) for m in head) < HEAD_BYTES:
        yield from _parsed_here(_drained(head), reader)
        return
    spool = _spool_folder(settings)
    try:
        yield from _in_workers(_chained(head, raw), _Tools(reader, kit, settings), workers, spool)
    finally:
        shutil.rmtree(spool, ignore_errors=True)


def _parsed_here(raw: Iterable[RawMessage], reader: MessageReader) -> Iterator[Prepared]:
    for message in raw:
        if len(message.data) > SPOOL_BYTES:
            release_memory()
        yield Prepared(reader.parse(message))


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    # the symbols this process already has (find_library would start a subprocess)
    trim = getattr(ctypes.CDLL(None), "malloc_trim", None)
    return trim if callable(trim) else None


def release_memory() -> None:
    """Give the memory freed since the last large message back to the system.

    glibc keeps what a large parse freed (tens of MB for one 7 MB mail) in the process's heap,
    where fragments of it stay and the next large mail adds more; malloc_trim returns it, so
    a long intake keeps the footprint of one message. Elsewhere (macOS, musl) nothing happens.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def _read_ahead(raw: Iterator[RawMessage]) -> deque[RawMessage]:
    """Up to POOL_MIN_MESSAGES messages or HEAD_BYTES of them, whichever comes first."""
    head: deque[RawMessage] = deque()
    size = 0
    while len(head) < POOL_MIN_MESSAGES and size < HEAD_BYTES:
        message = next(raw, None)
        if message is None:
            break
        head.append(message)
        size += len(message.data)
    return head


def _drained(head: deque[RawMessage]) -> Iterator[RawMessage]:
    """The messages read ahead, each let go of as it is handed over (a list would keep all)."""
    while head:
        yield head.popleft()


def _chained(head: deque[RawMessage], rest: Iterator[RawMessage]) -> Iterator[RawMessage]:
    yield from _drained(head)
    yield from rest


def _spool_folder(settings: Settings) -> Path:
    """A private folder for this run's files in transit, inside the data folder: on the disk
    the attachments go to, not in a /tmp that may be memory."""
    base = settings.data_dir / "tmp"
    base.mkdir(parents=True, exist_ok=True)
    for old in base.glob("intake-*"):
        # left by a run that was killed: a running one changes its folder with every large mail
        with contextlib.suppress(OSError):
            if time.time() - old.stat().st_mtime > STALE_SPOOL_SECONDS:
                shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix="intake-", dir=base))


@dataclass(frozen=True, slots=True)
class _Tools:
    reader: MessageReader
    kit: RoutingKit
    settings: Settings


@dataclass(frozen=True, slots=True)
class _Spooled:
    """A raw message whose bytes wait in ``file`` (its ``raw.data`` is empty)."""

    raw: RawMessage
    file: str


_Task: TypeAlias = RawMessage | _Spooled


@dataclass(frozen=True, slots=True)
class _Done:
    """A prepared message whose large attachments wait in files: (their index, the file)."""

    prepared: Prepared
    files: tuple[tuple[int, str], ...] = ()


def _in_workers(raw: Iterator[RawMessage], tools: _Tools, workers: int, spool: Path) -> Iterator[Prepared]:
    method = _start_method()
    # a forked worker inherits the caller's kit; a spawned one builds its own from the settings,
    # with or without the semantic reader as the caller's
    kit = (
        tools.kit
        if method == "fork"
        else _SpawnedKit(tools.kit.semantic is not None, tools.kit.meaning_later)
    )
    start = (tools.reader, kit, tools.settings, str(spool))
    context = multiprocessing.get_context(method)
    with ProcessPoolExecutor(workers, context, initializer=_start_worker, initargs=start) as pool:
        pending: deque[Future[bytes]] = deque()
        for chunk in _chunks(raw, spool):
            pending.append(pool.submit(_prepare_chunk, chunk))
            del chunk  # the pool holds it until sent; this loop must not keep it longer
            if len(pending) >= 2 * workers + 1:
                yield from _unspooled(_loads(pending.popleft().result(), tools.kit))
        while pending:
            yield from _unspooled(_loads(pending.popleft().result(), tools.kit))


def _start_method() -> str:
    # Forking starts at once and shares the built kit. The process forks before the pool
    # starts any thread, and the workers never touch the caller's database connection.
    methods = multiprocessing.get_all_start_methods()
    return "fork" if "fork" in methods else "spawn"


def _chunks(items: Iterable[RawMessage], spool: Path) -> Iterator[list[_Task]]:
    """Tasks of at most CHUNK messages and CHUNK_BYTES; large messages wait in ``spool``."""
    chunk: list[_Task] = []
    size = 0
    for raw in items:
        chunk.append(_spooled(raw, spool) if len(raw.data) > SPOOL_BYTES else raw)
        size += len(raw.data)
        if len(chunk) >= CHUNK or size >= CHUNK_BYTES:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def _spooled(raw: RawMessage, spool: Path) -> _Spooled:
    return _Spooled(dataclasses.replace(raw, data=b""), _spool_file(raw.data, spool))


def _spool_file(data: bytes, spool: Path) -> str:
    return str(hand_off_file(spool, data))


def _take_back(file: str) -> bytes:
    path = Path(file)
    data = path.read_bytes()
    path.unlink()
    return data


def _unspooled(done: list[_Done]) -> Iterator[Prepared]:
    """Each prepared message with its attachments read back, one message at a time."""
    done.reverse()
    while done:
        one = done.pop()  # let go of each once handed over
        if not one.files:
            yield one.prepared
            continue
        release_memory()  # the previous large message has been stored and let go of
        item = one.prepared.item
        assert not isinstance(item.result, ParseProblem)
        message, attachments = item.result
        restored = list(attachments)
        for position, file in one.files:
            restored[position] = (restored[position][0], _take_back(file))
        result = dataclasses.replace(item, result=(message, restored))
        yield dataclasses.replace(one.prepared, item=result)


# A card's route spec is the kit's own, the same in every process: it travels as its route
# name rather than as a copy, which halves the time spent unpickling results. It is named
# through ``reducer_override``, not ``persistent_id``: pickle asks ``persistent_id`` about every
# object, strings and numbers too (hundreds a card), but ``reducer_override`` only about the few
# objects that are not of a built-in type.
class _CardPickler(pickle.Pickler):
    def __init__(self, file: BinaryIO, kit: RoutingKit) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.spec_routes = {id(spec): route.value for route, spec in kit.specs.items()}

    def reducer_override(self, obj: object) -> Any:
        route = self.spec_routes.get(id(obj))
        if route is not None:
            return _kit_spec, (route,)
        # A card is a tree of small slotted dataclasses (trace items, signals, clocks), and
        # pickle's way with those asks ``dataclasses.fields`` anew for every object: a tenth
        # of a worker's time. Their values go as a tuple instead, rebuilt by ``_rebuilt``.
        names = _slot_fields(type(obj))
        if not names:
            return NotImplemented
        return _rebuilt, (type(obj), tuple(getattr(obj, name) for name in names))


_SLOT_FIELDS: dict[type, tuple[str, ...]] = {}


def _slot_fields(cls: type) -> tuple[str, ...]:
    """The fields of a slotted dataclass (no ``__dict__`` to pickle), else ()."""
    names = _SLOT_FIELDS.get(cls)
    if names is None:
        slotted = dataclasses.is_dataclass(cls) and "__slots__" in cls.__dict__
        names = _SLOT_FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls)) if slotted else ()
    return names


def _rebuilt(cls: type[T], values: tuple[Any, ...]) -> T:
    made = cls.__new__(cls)
    for name, value in zip(_slot_fields(cls), values, strict=True):
        object.__setattr__(made, name, value)  # frozen ones too, as pickle itself does
    return made


def _kit_spec(route: str) -> RouteSpec:
    """A route spec in a pickled result, by its route name: ``_CardUnpickler`` reads this name
    as its own kit's spec of that route, and nothing else ever calls it."""
    raise RuntimeError(f"the spec of {route} is read by _CardUnpickler only")


def _spec_of(specs: Mapping[Route, RouteSpec], route: str) -> RouteSpec:
    return specs[Route(route)]


class _CardUnpickler(pickle.Unpickler):
    def __init__(self, file: BinaryIO, kit: RoutingKit) -> None:
        super().__init__(file)
        # Not a method of this unpickler: the unpickler keeps what it loads, this too, and a
        # method would tie it to itself, so that it and every message it loaded would wait
        # for the garbage collector instead of going as soon as they are let go of.
        self.spec_of = functools.partial(_spec_of, kit.specs)

    def find_class(self, module_name: str, global_name: str) -> Any:
        if module_name == __name__ and global_name == _kit_spec.__name__:
            return self.spec_of
        return super().find_class(module_name, global_name)


def _dumps(done: list[_Done], kit: RoutingKit) -> bytes:
    buffer = io.BytesIO()
    _CardPickler(buffer, kit).dump(done)
    return buffer.getvalue()


def _loads(data: bytes, kit: RoutingKit) -> list[_Done]:
    loaded: list[_Done] = _CardUnpickler(io.BytesIO(data), kit).load()
    return loaded


# ---------------------------------------------------------------- in a worker process

# One reader, routing kit and spool folder per worker process, set once when it starts.
_worker: dict[str, tuple[MessageReader, RoutingKit, Path]] = {}


@dataclass(frozen=True, slots=True)
class _SpawnedKit:
    """What a spawned worker's kit, built anew from the settings, takes from the caller's."""

    semantic: bool
    meaning_later: bool

    def built(self, settings: Settings) -> RoutingKit:
        kit = build_routing_kit(settings)
        if self.semantic:
            return kit
        return dataclasses.replace(kit, semantic=None, meaning_later=self.meaning_later)


def _start_worker(
    reader: MessageReader, kit: RoutingKit | _SpawnedKit, settings: Settings, spool: str
) -> None:
    built = kit.built(settings) if isinstance(kit, _SpawnedKit) else kit
    _worker["tools"] = (reader, built, Path(spool))


def _prepare_chunk(chunk: Sequence[_Task]) -> bytes:
    reader, kit, spool = _worker["tools"]
    return _dumps([_spool_attachments(_prepare(reader, kit, _read(task)), spool) for task in chunk], kit)


def _read(task: _Task) -> RawMessage:
    if isinstance(task, RawMessage):
        return task
    release_memory()
    return dataclasses.replace(task.raw, data=_take_back(task.file))


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


def _spool_attachments(prepared: Prepared, spool: Path) -> _Done:
    """The prepared message with each attachment over SPOOL_BYTES moved to a file."""
    item = prepared.item
    if isinstance(item.result, ParseProblem):
        return _Done(prepared)
    message, attachments = item.result
    kept: list[tuple[AttachmentMeta, bytes]] = []
    files: list[tuple[int, str]] = []
    for position, (meta, content) in enumerate(attachments):
        if len(content) > SPOOL_BYTES:
            files.append((position, _spool_file(content, spool)))
            content = b""
        kept.append((meta, content))
    if not files:
        return _Done(prepared)
    result = dataclasses.replace(item, result=(message, kept))
    return _Done(dataclasses.replace(prepared, item=result), tuple(files))


__all__ = ["CHUNK", "CHUNK_BYTES", "POOL_MIN_MESSAGES", "SPOOL_BYTES", "Prepared", "prepared_messages"]
