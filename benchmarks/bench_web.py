"""Web desk under load: `aftersales serve` with many stored cases and 20 concurrent clients.

    .venv/bin/python benchmarks/bench_web.py [--cases 100000] [--database sqlite|postgresql|both]
                                             [--clients 20] [--seconds 20] [--baseline-seconds 5]
                                             [--python-client] [--threads N]
                                             [--profile queue|case|list|intake] [--breakdown]

Each database gets --cases cases (20% open), bulk-inserted as bench_intake.py preloads them,
an admin user and an API token (through the account services, with the production password
hasher). Then `aftersales serve --tick-seconds 0` runs as its own process on a free port
(AFTERSALES_DATA_DIR the scratch data folder, AFTERSALES_DATABASE_URL the scratch database),
and --clients keep-alive connections send requests back to back for --seconds each:

1. the queue page, GET /cases (HTML; the session cookie of one sign-in: GET /login, its
   csrf_token field, POST /login);
2. GET /api/cases/{id} for random stored case ids (Authorization: Bearer <token>);
3. GET /api/cases, the open queue as JSON (Bearer);
4. intake, POST /api/messages: JSON messages from 30 templates, about 2,000 senders (so some
   thread into the case they opened before), each with its own id (Bearer).

Each of 1-3 is also run with one client for --baseline-seconds: with no queueing, its latency
is the time the server spends on one request. The load generator is wrk (with a generated
Lua script for per-request paths, bodies and a status count) when it is on PATH, else
Python threads with keep-alive http.client connections. Every run is warmed up first. After
the runs: the server's resident memory now (VmRSS) and at its peak (VmHWM), from
/proc/PID/status. The server is one uvicorn process, as `aftersales serve` starts it.

Looking into a miss (py-spy is not installed):
--threads N   serves the app with uvicorn in this process instead, letting at most N sync
              handlers run at once (anyio's default is 40): what one line in the app's
              lifespan would do. The memory figure is then not the server's alone.
--profile X   serves in this process and samples every thread's stack each millisecond
              while load X runs (first database only; --clients, --seconds and --threads
              apply): where the time goes, by package and by function.
--breakdown   times the parts of one queue page in this process, no HTTP: the listing's SQL,
              list_cases and the template, for 200 rows (the JSON API) and a page's worth.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from aftersales.adapters.db.users import users_unit_of_work
from aftersales.adapters.passwords import password_hasher
from aftersales.domain.accounts import Role
from aftersales.services.accounts import add_user, issue_token
from bench_intake import (
    TEMPLATES,
    Prototype,
    Scratch,
    Sender,
    StatementLog,
    kinds,
    preload,
    prototypes,
    scratch_database,
    slots,
)
from common import REPO

CLI = str(Path(sys.executable).parent / "aftersales")
TARGET_P99_MS = 150  # the queue page and the case API, 100k cases, 20 clients
TARGET_RSS_MB = 300
EMAIL = "bench@example.com"
PASSWORD = "bench-password-1"
SENDERS = 2_000
HOST = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class Load:
    """One kind of request: what it is called, how wrk and the Python generator send it."""

    mode: str  # queue, case, list or intake
    label: str
    path: str  # the URL path wrk is given (case and intake build their own per request)
    target_p99_ms: float | None


LOADS = (
    Load("queue", "queue page GET /cases (HTML, session cookie)", "/cases", TARGET_P99_MS),
    Load("case", "GET /api/cases/{id}, random stored ids (Bearer)", "/api/cases/1", TARGET_P99_MS),
    Load("list", "GET /api/cases, the open queue as JSON (Bearer)", "/api/cases", None),
    Load("intake", "intake POST /api/messages (Bearer)", "/api/messages", None),
)


@dataclass(frozen=True, slots=True)
class Result:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    statuses: dict[int, int]
    errors: int  # connect, read, write and timeout errors (no response at all)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


@dataclass(frozen=True, slots=True)
class Server:
    port: int
    pid: int
    token: str
    cookie: str  # "aftersales_session=..." of a signed-in session
    cases: int
    tag: str  # makes intake's message ids unique per run


# ---------------------------------------------------------------- the server


def add_account(db: Scratch) -> str:
    """An admin user (production hasher, as the server verifies with) and their API token."""
    now = datetime.now(UTC)
    with users_unit_of_work(db.engine)() as users:
        user = add_user(
            users, password_hasher(), email=EMAIL, name="Bench", role=Role.ADMIN, password=PASSWORD, at=now
        )
        return issue_token(users, user.id, "bench", now)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def server_env(db: Scratch) -> dict[str, str]:
    env = {**os.environ, "AFTERSALES_DATA_DIR": str(db.data_dir), "AFTERSALES_DATABASE_URL": db.url}
    for name in ("AFTERSALES_POLICY", "AFTERSALES_SECRET_KEY"):
        env.pop(name, None)
    return env


def wait_healthy(port: int, running: Callable[[], bool], timeout: float = 120.0) -> float:
    """Seconds until /healthz answers 200."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if not running():
            raise SystemExit("the server stopped before it answered /healthz")
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"`aftersales serve` did not answer /healthz within {timeout:.0f} s")


@contextmanager
def served(
    db: Scratch, token: str, cases: int, workers: int = 1, tick_seconds: float = 0
) -> Iterator[Server]:
    port = free_port()
    command = [
        CLI,
        "serve",
        "--host",
        HOST,
        "--port",
        str(port),
        "--tick-seconds",
        f"{tick_seconds:g}",
        "--workers",
        str(workers),
        # the tick runs in the server on either database (on PostgreSQL a server leaves its
        # jobs to `aftersales worker` unless told): the load the issue measures
        "--run-jobs" if tick_seconds else "--no-run-jobs",
    ]
    process = subprocess.Popen(
        command,
        env=server_env(db),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        up = wait_healthy(port, lambda: process.poll() is None)
        print(
            f"  `aftersales serve --tick-seconds {tick_seconds:g} --workers {workers}` (pid {process.pid}) "
            f"answered /healthz after {up:.1f} s"
        )
        tag = f"{int(time.time())}"
        yield Server(port, process.pid, token, sign_in(port), cases, tag)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def served_in_process(db: Scratch, token: str, cases: int, threads: int | None = None) -> Iterator[Server]:
    """The app served by uvicorn in a thread of this process, as `aftersales serve` serves it;
    with ``threads``, at most that many sync handlers run at once (anyio's default is 40)."""
    import uvicorn  # only the in-process runs need these

    from aftersales.settings import Settings
    from aftersales.web.app import create_app

    settings = Settings(data_dir=db.data_dir, policy_file=None, database_url=db.url)
    port = free_port()
    app = create_app(settings, tick_seconds=None)
    uvicorn_server = uvicorn.Server(
        uvicorn.Config(with_thread_limit(app, threads), host=HOST, port=port, log_level="warning")
    )
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    try:
        up = wait_healthy(port, thread.is_alive)
        limit = f", at most {threads} handler threads" if threads else ""
        print(f"  uvicorn in this process{limit} answered /healthz after {up:.1f} s")
        yield Server(port, os.getpid(), token, sign_in(port), cases, f"{int(time.time())}")
    finally:
        uvicorn_server.should_exit = True
        thread.join()


def with_thread_limit(app: Any, threads: int | None) -> Any:
    """The app, letting at most ``threads`` sync handlers run at once: what setting
    ``anyio.to_thread.current_default_thread_limiter().total_tokens`` in its lifespan would do."""
    if not threads:
        return app
    import anyio.to_thread

    async def limited(scope: Any, receive: Any, send: Any) -> None:
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        await app(scope, receive, send)

    return limited


def sign_in(port: int) -> str:
    """The session cookie of a signed-in session, as a browser gets it."""
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    connection.request("GET", "/login")
    response = connection.getresponse()
    page = response.read().decode()
    cookie = _cookie(response, "aftersales_form")  # the sign-in form's own CSRF session
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    if found is None:
        raise SystemExit("the sign-in page has no csrf_token field")
    form = urllib.parse.urlencode(
        {"email": EMAIL, "password": PASSWORD, "csrf_token": found.group(1), "next": "/cases"}
    )
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    connection.request("POST", "/login", body=form, headers=headers)
    response = connection.getresponse()
    response.read()
    if response.status != 303:
        raise SystemExit(f"signing in answered {response.status}, not 303")
    return _cookie(response, "aftersales_session")


def _cookie(response: http.client.HTTPResponse, name: str) -> str:
    for header in response.headers.get_all("Set-Cookie") or []:
        if header.startswith(f"{name}="):
            return header.split(";", 1)[0]
    raise SystemExit(f"no {name} cookie was set")


def memory_mb(pid: int) -> tuple[float, float]:
    """The server's resident memory now (VmRSS) and at its peak (VmHWM), in MB: the process and,
    with --serve-workers, every process under it, added up."""
    rss = peak = 0.0
    for each in _process_tree(pid):
        fields = {}
        for line in Path(f"/proc/{each}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0]) / 1024  # kB
        rss, peak = rss + fields["VmRSS"], peak + fields["VmHWM"]
    return rss, peak


def _process_tree(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid, *(each for child in children for each in _process_tree(int(child)))]


# ---------------------------------------------------------------- what the clients send


def intake_texts() -> list[str]:
    """One message per template, its slots filled."""
    rng = random.Random(5)
    sender = Sender("Alex", "Moreno", "alex@example.com", ["1043", "2210", "5531"])
    return [body.format(**slots(rng, sender)) for _, body in TEMPLATES]


def intake_body(texts: Sequence[str], rng: random.Random, message_id: str) -> str:
    buyer = rng.randint(1, SENDERS)
    record = {
        "text": rng.choice(texts),
        "from": f"buyer{buyer}@example.com",
        "name": f"Buyer {buyer}",
        "id": message_id,
    }
    return json.dumps(record)


def request_for(
    load: Load, server: Server, rng: random.Random, message_id: str, texts: Sequence[str]
) -> tuple[str, str, str | None]:
    """(method, path, body) of the next request of ``load``: what the Lua script builds too."""
    if load.mode == "case":
        return "GET", f"/api/cases/{rng.randint(1, server.cases)}", None
    if load.mode == "intake":
        return "POST", "/api/messages", intake_body(texts, rng, message_id)
    return "GET", load.path, None


def headers_for(load: Load, server: Server) -> dict[str, str]:
    if load.mode == "queue":
        return {"Cookie": server.cookie}
    headers = {"Authorization": f"Bearer {server.token}", "Accept": "application/json"}
    if load.mode == "intake":
        headers["Content-Type"] = "application/json"
    return headers


# ---------------------------------------------------------------- wrk

_LUA = r"""
-- Generated by benchmarks/bench_web.py. Arguments after `--`: mode, stored cases, run tag.
local threads = {}
local counter = 0
statuses = {}  -- a global: done() reads each thread's with thread:get
local texts = { %(texts)s }

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_no", #threads)
end

function init(args)
  mode, cases, tag = args[1], tonumber(args[2]), args[3]
  math.randomseed(thread_no * 7919 + os.time())
end

function request()
  counter = counter + 1
  if mode == "case" then
    return wrk.format("GET", "/api/cases/" .. math.random(1, cases))
  elseif mode == "intake" then
    local buyer = math.random(1, %(senders)d)
    local body = string.format(
      '{"text": %%s, "from": "buyer%%d@example.com", "name": "Buyer %%d", "id": "bench-%%s-%%d-%%d"}',
      texts[math.random(1, #texts)], buyer, buyer, tag, thread_no, counter)
    return wrk.format("POST", "/api/messages", nil, body)
  end
  return wrk.format("GET")
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local totals, counts = {}, {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      totals[status] = (totals[status] or 0) + n
    end
  end
  for status, n in pairs(totals) do
    counts[#counts + 1] = string.format('"%%d": %%d', status, n)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d, "errors": %%d, "statuses": {%%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, table.concat(counts, ", ")))
end
"""


def lua_script(folder: Path, texts: Sequence[str]) -> Path:
    # a JSON string is a valid Lua long-bracket string's content, sent as it is
    literals = ", ".join(f"[==[{json.dumps(text)}]==]" for text in texts)
    path = folder / "bench_web.lua"
    path.write_text(_LUA % {"texts": literals, "senders": SENDERS}, encoding="utf-8")
    return path


def wrk_command(load: Load, server: Server, clients: int, seconds: float, script: Path) -> list[str]:
    threads = max(1, min(clients, os.cpu_count() or 1))
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{clients}",
        f"-d{seconds:g}s",
        "--timeout",
        "60s",
        "-s",
        str(script),
    ]
    for name, value in headers_for(load, server).items():
        command += ["-H", f"{name}: {value}"]
    return [
        *command,
        f"http://{HOST}:{server.port}{load.path}",
        "--",
        load.mode,
        str(server.cases),
        server.tag,
    ]


def run_wrk(command: list[str]) -> Result:
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    line = next((line for line in done.stdout.splitlines() if line.startswith("BENCH ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no summary:\n{done.stdout}\n{done.stderr}")
    figures = json.loads(line[len("BENCH ") :])
    return Result(
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        statuses={int(status): n for status, n in figures["statuses"].items()},
        errors=figures["errors"],
    )


def shown_command(command: list[str], server: Server) -> str:
    """The wrk command with the token and cookie as shell variables."""
    text = " ".join(f"'{part}'" if " " in part else part for part in command)
    return text.replace(server.token, "$TOKEN").replace(server.cookie.split("=", 1)[1], "$SESSION")


# ---------------------------------------------------------------- the Python load generator


def run_python(load: Load, server: Server, clients: int, seconds: float, texts: Sequence[str]) -> Result:
    """``clients`` threads, each a keep-alive connection sending requests back to back."""
    samples: list[float] = []
    statuses: Counter[int] = Counter()
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(number: int) -> None:
        rng = random.Random(number)
        headers = headers_for(load, server)
        connection = http.client.HTTPConnection(HOST, server.port, timeout=60)
        mine: list[float] = []
        seen: Counter[int] = Counter()
        count = 0
        while time.perf_counter() < deadline:
            count += 1
            method, path, body = request_for(load, server, rng, f"bench-{server.tag}-{number}-{count}", texts)
            started = time.perf_counter()
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                with lock:
                    errors[0] += 1
                connection.close()
                connection = http.client.HTTPConnection(HOST, server.port, timeout=60)
                continue
            mine.append(time.perf_counter() - started)
            seen[response.status] += 1
        connection.close()
        with lock:
            samples.extend(mine)
            statuses.update(seen)

    started = time.perf_counter()
    workers = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(samples, n=100) if len(samples) > 1 else [samples[0] if samples else 0.0] * 99
    return Result(len(samples), elapsed, cuts[49] * 1000, cuts[98] * 1000, dict(statuses), errors[0])


# ---------------------------------------------------------------- one database


@dataclass(frozen=True, slots=True)
class Options:
    clients: int
    seconds: float
    baseline_seconds: float
    use_wrk: bool
    script: Path | None
    texts: Sequence[str]


def measure(load: Load, server: Server, clients: int, seconds: float, options: Options) -> tuple[Result, str]:
    if options.use_wrk and options.script is not None:
        command = wrk_command(load, server, clients, seconds, options.script)
        return run_wrk(command), shown_command(command, server)
    result = run_python(load, server, clients, seconds, options.texts)
    return result, f"(Python load generator: {clients} threads, keep-alive http.client, {seconds:g} s)"


def warm_up(load: Load, server: Server, options: Options) -> None:
    """A few requests first: the first statement of a kind is compiled, templates are loaded."""
    if load.mode != "intake":
        run_python(load, server, 1, 0.5, options.texts)


def show(label: str, result: Result, command: str, target: float | None) -> None:
    ok = sum(n for status, n in result.statuses.items() if 200 <= status < 300)
    others = {s: n for s, n in sorted(result.statuses.items()) if not 200 <= s < 300}
    verdict = ""
    if target is not None:
        verdict = f"; {'meets' if result.p99_ms < target else 'MISSES'} p99 < {target:g} ms"
    print(
        f"    {label}: p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, {result.rate:,.0f} req/s "
        f"({result.requests:,} requests in {result.seconds:.1f} s, {ok:,} 2xx{verdict})"
    )
    if others or result.errors:
        print(f"      NOT 2xx: {others or '-'}; connection errors or timeouts: {result.errors}")
    print(f"      command: {command}")


def run_database(kind: str, args: argparse.Namespace, protos: Sequence[Prototype], options: Options) -> None:
    print(f"{kind}:")
    with scratch_database(kind) as db:
        if db is None:
            return
        seconds = preload(db.engine, protos, args.cases, open_share=0.2)
        print(f"  preloaded {args.cases:,} cases (20% open) in {seconds:.0f} s")
        token = add_account(db)
        db.engine.dispose()  # the server is the only client from here on
        serving = served_in_process(db, token, args.cases, args.threads) if args.threads else None
        with serving or served(db, token, args.cases, args.serve_workers) as server:
            for load in LOADS:
                print(f"  {load.label}:")
                warm_up(load, server, options)
                if load.mode != "intake" and options.baseline_seconds > 0:
                    result, command = measure(load, server, 1, options.baseline_seconds, options)
                    show("1 client (no queueing)", result, command, None)
                result, command = measure(load, server, options.clients, options.seconds, options)
                show(f"{options.clients} clients", result, command, load.target_p99_ms)
                if load.mode == "intake":
                    print(
                        f"    intake throughput: {result.rate:,.0f} messages/s with {options.clients} clients"
                    )
            rss, peak = memory_mb(server.pid)
        if args.threads:
            print("  (served in the benchmark's own process: its memory is not the server's alone)")
            return
        verdict = "meets" if peak < TARGET_RSS_MB else "MISSES"
        print(
            f"  server resident memory after the runs: VmRSS {rss:.0f} MB, peak VmHWM {peak:.0f} MB "
            f"({verdict} < {TARGET_RSS_MB} MB)"
        )


# ---------------------------------------------------------------- profiling in-process

_APP_CODE = re.compile(r"/aftersales/|/site-packages/(sqlalchemy|jinja2|fastapi|starlette|pydantic|psycopg)/")
_PACKAGES = (  # tried in order: a site-package, our own module, the standard library
    re.compile(r"/site-packages/(\w+)"),
    re.compile(r"/src/(aftersales/[\w/]+)\.py$"),
    re.compile(r"/python3\.\d+/(\w+)"),
)


class Sampler:
    """A wall-clock stack sampler over every thread of this process (py-spy is not installed):
    each millisecond, the stack of each thread that is inside the app (not idle in the event
    loop's select or a worker's queue) is counted."""

    def __init__(self, skip: set[int], interval: float = 0.001) -> None:
        self.skip, self.interval = skip, interval
        self.stacks: Counter[tuple[tuple[str, str], ...]] = Counter()
        self._switch = sys.getswitchinterval()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        # The sampler needs the GIL to look: with the default 5 ms switch interval it would get it
        # mostly when a thread releases it (in a database call), and over-count those calls.
        self._switch = sys.getswitchinterval()
        sys.setswitchinterval(0.0001)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        sys.setswitchinterval(self._switch)

    def _run(self) -> None:
        own = threading.get_ident()
        while not self._stop.is_set():
            for ident, frame in sys._current_frames().items():
                if ident == own or ident in self.skip:
                    continue
                stack = []
                walk: FrameType | None = frame
                while walk is not None:
                    stack.append((walk.f_code.co_filename, walk.f_code.co_name))
                    walk = walk.f_back
                if any(_APP_CODE.search(filename) for filename, _ in stack):
                    self.stacks[tuple(stack)] += 1
            time.sleep(self.interval)

    def report(self, top: int = 30) -> None:
        total = sum(self.stacks.values())
        inclusive: Counter[str] = Counter()
        leaves: Counter[str] = Counter()
        leaf_functions: Counter[str] = Counter()
        for stack, n in self.stacks.items():
            for name in {_where(filename, function) for filename, function in stack}:
                inclusive[name] += n
            leaves[_package(stack[0][0])] += n
            leaf_functions[_where(*stack[0])] += n
        print(f"  {total:,} samples of threads inside the app; share of them:")
        for title, counts in (("package or our module", leaves), ("function", leaf_functions)):
            print(f"  where the innermost frame is ({title}):")
            for name, n in counts.most_common(15):
                print(f"    {100 * n / total:5.1f} %  {name}")
        print(f"  inclusive (the function is on the stack), top {top}:")
        for name, n in inclusive.most_common(top):
            print(f"    {100 * n / total:5.1f} %  {name}")


def _package(filename: str) -> str:
    for pattern in _PACKAGES:
        if found := pattern.search(filename):
            return found.group(1).replace("/", ".")
    return filename


def _where(filename: str, function: str) -> str:
    return (
        f"{_package(filename)}.{Path(filename).stem}:{function}"
        if "site-packages" in filename
        else (f"{_package(filename)}:{function}")
    )


def profile(args: argparse.Namespace, options: Options) -> None:
    """The app served by uvicorn in this process, the load run against it, every thread sampled."""
    load = next(item for item in LOADS if item.mode == args.profile)
    kind = "postgresql" if args.database == "postgresql" else "sqlite"
    with scratch_database(kind) as db:
        if db is None:
            return
        preload(db.engine, prototypes(), args.cases, open_share=0.2)
        token = add_account(db)
        with served_in_process(db, token, args.cases, args.threads) as server:
            warm_up(load, server, options)
            skip = {threading.get_ident()} if options.use_wrk else set()
            with Sampler(skip) as sampler:
                result, command = measure(load, server, args.clients, args.seconds, options)
    print(f"{kind}, {args.cases:,} cases, in-process uvicorn, profiled:")
    show(f"{load.label}, {args.clients} clients", result, command, load.target_p99_ms)
    sampler.report()


# ---------------------------------------------------------------- the queue page, piece by piece


def _median_ms(run: Callable[[], object], times: int) -> float:
    run()  # the first call of a kind compiles its statement or template
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def statement_alone(db: Scratch, run: Callable[[], object]) -> Callable[[], int]:
    """The SELECT that ``run`` sends first, executed and fetched through the bare driver."""
    log = StatementLog()
    with log.attached(db.engine):
        run()
    sql, parameters = next(iter(log.selects.items()))

    def driver_only() -> int:
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(sql, parameters)
            return len(cursor.fetchall())
        finally:
            raw.close()

    return driver_only


def breakdown(args: argparse.Namespace) -> None:
    """Median milliseconds of each part of one queue page, in this process, no HTTP."""
    from aftersales.adapters.db.repository import unit_of_work
    from aftersales.domain.cases import OPEN_STATUSES, RISK_LABELS, SLA_LABELS, CaseStatus
    from aftersales.domain.routes import Route
    from aftersales.settings import Settings
    from aftersales.web.app import create_app
    from aftersales.web.queue_pages import QUEUE_PAGE, QueueFilters

    kind = "postgresql" if args.database == "postgresql" else "sqlite"
    with scratch_database(kind) as db:
        if db is None:
            return
        preload(db.engine, prototypes(), args.cases, open_share=0.2)
        add_account(db)
        uow = unit_of_work(db.engine, db.data_dir / "attachments")

        def listing(limit: int = 200) -> list[Any]:
            with uow() as repo:
                return repo.list_cases(sorted(OPEN_STATUSES), limit=limit)

        rows = listing()
        app = create_app(
            Settings(data_dir=db.data_dir, policy_file=None, database_url=db.url), tick_seconds=None
        )
        web = app.state.web
        with web.users() as users:
            user = users.user_by_email(EMAIL)[0]
        template = app.state.templates.get_template("queue.html")
        context = {
            "csrf_token": "x" * 43,
            "path": "/cases",
            "user": user,
            "rows": rows,
            "problem": "",
            "filters": QueueFilters(),
            "people": [],
            "statuses": [s.value for s in CaseStatus],
            "routes": [r.value for r in Route],
            "risk_labels": RISK_LABELS,
            "sla_labels": SLA_LABELS,
            "more": "",
            "closed_too": "",
            "refresh_seconds": 30,
        }

        def session_user() -> object:
            with web.users() as users:
                return users.user_by_id(user.id)

        page = QUEUE_PAGE
        parts = {
            "the listing's SQL alone, 200 rows (driver execute + fetchall, no SQLAlchemy)": statement_alone(
                db, listing
            ),
            "list_cases, 200 rows (as GET /api/cases lists)": listing,
            f"list_cases, {page} rows (as the queue page lists)": lambda: listing(page),
            "rendering queue.html, 200 rows (Jinja2)": lambda: template.render(context),
            f"rendering queue.html, {page} rows": lambda: template.render(context | {"rows": rows[:page]}),
            "the session's user (one SELECT by id)": session_user,
        }
        print(f"{kind}, {args.cases:,} cases, median of {args.runs} runs, in-process:")
        for label, run in parts.items():
            print(f"  {label}: {_median_ms(run, args.runs):.1f} ms")
        web.desk.engine.dispose()


# ---------------------------------------------------------------- main


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=100_000, help="cases stored, 20%% open (default 100000)")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--clients", type=int, default=20, help="concurrent connections (default 20)")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds per load (default 20)")
    parser.add_argument(
        "--baseline-seconds", type=float, default=5.0, help="seconds of the 1-client runs; 0: skip"
    )
    parser.add_argument("--python-client", action="store_true", help="use the Python load generator, not wrk")
    parser.add_argument(
        "--profile",
        choices=("queue", "case", "list", "intake"),
        help="serve in this process and sample every thread's stack during this load (first database)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        help="serve in this process with at most this many handler threads (anyio's default: 40)",
    )
    parser.add_argument(
        "--breakdown", action="store_true", help="time the parts of the queue page in-process and exit"
    )
    parser.add_argument(
        "--serve-workers", type=int, default=1, help="`aftersales serve --workers N` (default 1)"
    )
    parser.add_argument(
        "--runs", type=int, default=50, help="with --breakdown: runs of each part (default 50)"
    )
    args = parser.parse_args(argv)
    use_wrk = shutil.which("wrk") is not None and not args.python_client
    texts = intake_texts()
    print(
        f"command: .venv/bin/python benchmarks/bench_web.py --cases {args.cases} --database {args.database} "
        f"--clients {args.clients} --seconds {args.seconds:g} --baseline-seconds {args.baseline_seconds:g}"
        + (" --python-client" if args.python_client else "")
        + (f" --profile {args.profile}" if args.profile else "")
        + (f" --threads {args.threads}" if args.threads else "")
        + (f" --serve-workers {args.serve_workers}" if args.serve_workers != 1 else "")
        + (f" --breakdown --runs {args.runs}" if args.breakdown else "")
    )
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores; load generator: "
        + ("wrk (Lua script generated by this benchmark)" if use_wrk else "Python threads + http.client")
    )
    print(f"targets: p99 < {TARGET_P99_MS} ms (queue page, case API); server resident < {TARGET_RSS_MB} MB")
    with tempfile.TemporaryDirectory(prefix="aftersales-web-bench-") as folder:
        script = lua_script(Path(folder), texts) if use_wrk else None
        options = Options(args.clients, args.seconds, args.baseline_seconds, use_wrk, script, texts)
        if args.profile:
            profile(args, options)
            return
        if args.breakdown:
            breakdown(args)
            return
        protos = prototypes()
        for kind in kinds(args.database):
            run_database(kind, args, protos, options)


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "src"))
    main(sys.argv[1:])
