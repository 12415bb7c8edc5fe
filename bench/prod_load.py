"""Production run under load: serve-prod on loopback, a bulk upload, web pages and the API.

    .venv/bin/python bench/prod_load.py --seconds 180 --clients 4            # the full run
    .venv/bin/python bench/prod_load.py --rows 20000 --seconds 20 --clients 2  # a smoke run

Steps:

1. drops and creates the PostgreSQL database (``ch_bench_prod``; ``--database-url``), migrates,
   loads ``seed_demo`` contacts and accounts, and creates an API key;
2. starts ``scripts/serve-prod`` (gunicorn with ``WEB_CONCURRENCY`` workers plus
   ``TASK_WORKERS`` ``db_worker`` processes, production settings, a rate limit that never
   refuses) on ``127.0.0.1:--port`` and waits for ``/healthz``;
3. as the manager account, takes the ``--rows`` CSV from ``bench/import_generate.py``
   (``var/bench/contacts-<rows>.csv``, generated if missing) through the upload wizard (file,
   format, auto-mapping, a new tag, review, confirm) and waits until a worker runs it;
4. for ``--seconds``, with ``--clients`` threads of each kind: contact list pages (viewer),
   the contact page with a pencil-editor save and the timeline reload htmx does after it
   (editor), and ``POST /v1/public/track/users/`` upserts of new and existing phones; one more
   thread polls the upload's progress and ``/healthz`` every second, as a browser and a load
   balancer would;
5. stops serve-prod (SIGTERM; a second one to a worker still importing), checks that no
   process of the run is left, then checks in the database that every API write answered 2xx
   and every save the page confirmed is stored, with an activity entry each;
6. prints Markdown tables and writes ``var/bench/prod-load-<time>.json``.

The database is dropped at the end unless ``--keep-db`` (a failed run keeps it for a look; the
next run drops it). serve-prod's output (gunicorn's access log included) goes to
``var/bench/prod-load/serve.log``. The client runs on the same machine: its own CPU time in
the window is reported, as it competes with the server for the same cores.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import itertools
import json
import os
import platform
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "var" / "bench"
OUT = BENCH / "prod-load"
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/ch_bench_prod"
HOST = "127.0.0.1"
RUN_MARKER = "CONTACTHUB_PROD_LOAD_RUN"
UPLOAD_TAG = "Prod load upload"
API_TAG = "api bench"
EDIT_FIELD = "city"
TERMINAL = {"completed", "cancelled", "failed"}
LIST_PAGES = [
    ("list: first page", "/"),
    ("list: page 2", "/?page=2"),
    ("list: City is Pune", "/?f=city:eq:Pune"),
    ("list: Pune, Orders desc", "/?f=city:eq:Pune&sort=-orders"),
    ("list: search name", "/?q=Sharma"),
    ("list: search phone", "/?q=98765"),
    ("list: tag VIP", "/?f=tags:any:VIP"),
]


# --- Machine and database ---------------------------------------------------------------------
def machine() -> dict[str, Any]:
    """CPU count and model, memory, OS, Python and the load average now."""
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "memory": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
    }


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def admin_url(url: str) -> tuple[str, str]:
    """The maintenance database's URL on the same server, and the benchmark database's name."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name or parts.scheme not in ("postgres", "postgresql"):
        raise SystemExit(f"--database-url must be postgres://.../<name>, not {url}")
    return urlunsplit(("postgresql", parts.netloc, "/postgres", "", "")), name


def reset_database(url: str) -> str:
    admin, name = admin_url(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
        return str(conn.execute("SHOW server_version").fetchone()[0])


def drop_database(url: str) -> None:
    admin, name = admin_url(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg(url: str) -> psycopg.Connection:
    return psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True)


# --- The server -------------------------------------------------------------------------------
def python_path() -> str:
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv if venv.exists() else Path(sys.executable))


def server_env(args: argparse.Namespace, marker: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(
        {
            "DATABASE_URL": args.database_url,
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "BIND": f"{HOST}:{args.port}",
            "WEB_CONCURRENCY": str(args.web_concurrency),
            "TASK_WORKERS": str(args.task_workers),
            "CONTACTHUB_API_RATE_LIMIT": "10000000/60",
            "CONTACTHUB_VAR_DIR": str(OUT),
            "MEDIA_ROOT": str(OUT / "media"),
            "STATIC_ROOT": str(OUT / "static"),
            "LOG_LEVEL": "WARNING",
            # gunicorn's control socket defaults to one path per user (~/.gunicorn): a socket
            # of this run's own keeps it clear of any other gunicorn on the machine.
            "GUNICORN_CMD_ARGS": f"--control-socket {OUT / 'gunicorn.ctl'}",
            RUN_MARKER: marker,
        }
    )
    for name in ("DEBUG", "HTTPS", "SECURE_PROXY_SSL_HEADER", "CONN_MAX_AGE"):
        env.pop(name, None)
    return env


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [python_path(), "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def marked_processes(marker: str) -> list[tuple[int, str]]:
    """Processes whose environment carries this run's marker: (pid, command line)."""
    needle = f"{RUN_MARKER}={marker}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                found.append((int(entry.name), command.strip()))
        except OSError:
            continue
    return found


class Server:
    """scripts/serve-prod as a subprocess, with its output in a log file."""

    grace = 45.0  # seconds serve-prod gets after each SIGTERM

    def __init__(self, env: dict[str, str], port: int, marker: str) -> None:
        self.env, self.port, self.marker = env, port, marker
        self.log_path = OUT / "serve.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.notes: list[str] = []
        self.stop_offset = -1

    def start(self, timeout: float = 300) -> float:
        """Start serve-prod and wait for /healthz to answer 200; seconds taken."""
        started = time.monotonic()
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [str(ROOT / "scripts" / "serve-prod"), python_path()],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise SystemExit(
                    f"serve-prod exited with {self.process.returncode}; see {self.log_path}"
                )
            with contextlib.suppress(OSError, http.client.HTTPException):
                connection = http.client.HTTPConnection(HOST, self.port, timeout=5)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    return time.monotonic() - started
            time.sleep(0.5)
        raise SystemExit(f"/healthz did not answer 200 within {timeout:.0f} s; see {self.log_path}")

    def stop(self) -> list[str]:
        """SIGTERM to serve-prod; a second SIGTERM to a worker still busy; nothing left over."""
        if self.process is None:
            return []
        started = time.monotonic()
        with contextlib.suppress(OSError):
            self.stop_offset = self.log_path.stat().st_size
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=self.grace)
        except subprocess.TimeoutExpired:
            busy = [
                (pid, command)
                for pid, command in marked_processes(self.marker)
                if pid != self.process.pid and "python" in command
            ]
            self.notes.append(
                f"serve-prod still waiting after {self.grace:.0f} s (a db_worker finishes its "
                "current task on the first SIGTERM); sent a second SIGTERM to "
                + "; ".join(f"{pid} {command}" for pid, command in busy)
            )
            for pid, _ in busy:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=self.grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.notes.append(f"serve-prod killed (SIGKILL) after another {self.grace:.0f} s")
        for attempt in range(20):
            left = marked_processes(self.marker)
            if not left:
                break
            if attempt == 10:
                self.notes.append(f"killed leftover processes: {left}")
                for pid, _ in left:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
            time.sleep(0.5)
        left = marked_processes(self.marker)
        if left:
            self.notes.append(f"STILL RUNNING after stop: {left}")
        self.notes.append(
            f"stopped in {time.monotonic() - started:.1f} s; processes left: {len(left)}"
        )
        return self.notes

    def log_summary(self) -> dict[str, Any]:
        """Status codes in gunicorn's access log, and error lines (tracebacks, timeouts) before
        the stop and during it."""
        statuses: Counter[str] = Counter()
        problems: dict[str, list[str]] = {"running": [], "stopping": []}
        access = re.compile(r'"[A-Z]+ \S+ HTTP/[\d.]+" (\d{3}) ')
        with contextlib.suppress(OSError):
            data = self.log_path.read_bytes()
            cut = self.stop_offset if self.stop_offset >= 0 else len(data)
            for phase, chunk in (("running", data[:cut]), ("stopping", data[cut:])):
                for line in chunk.decode(errors="replace").splitlines():
                    if match := access.search(line):
                        statuses[match.group(1)] += 1
                        if match.group(1).startswith("5"):
                            problems[phase].append(line)
                    elif re.search(r"Traceback|ERROR|CRITICAL|WORKER TIMEOUT|Exception", line):
                        problems[phase].append(line)
        return {"access_log_statuses": dict(sorted(statuses.items())), "problems": problems}


# --- An HTTP client with cookies ----------------------------------------------------------------
@dataclass(slots=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    error: str = ""

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(slots=True)
class Sample:
    at: float
    seconds: float
    status: int
    error: str


class Recorder:
    """Every request's latency and status, by endpoint name."""

    def __init__(self) -> None:
        self.samples: dict[str, list[Sample]] = defaultdict(list)
        self.lock = threading.Lock()

    def add(self, name: str, sample: Sample) -> None:
        with self.lock:
            self.samples[name].append(sample)


class Browser:
    """One visitor: a cookie jar and a connection to the server (gunicorn's sync workers close
    it after every response, so it is opened again as needed)."""

    def __init__(self, port: int, recorder: Recorder | None = None) -> None:
        self.port = port
        self.recorder = recorder
        self.cookies: dict[str, str] = {}
        self.connection: http.client.HTTPConnection | None = None

    @property
    def csrf(self) -> str:
        return self.cookies.get("csrftoken", "")

    def request(
        self,
        name: str,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 120,
    ) -> Response:
        sent = {"Accept": "text/html,application/json", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method == "POST" and "X-CSRFToken" not in sent and self.csrf:
            sent["X-CSRFToken"] = self.csrf
        started = time.perf_counter()
        try:
            if self.connection is None:
                self.connection = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
            self.connection.request(method, path, body=body, headers=sent)
            raw = self.connection.getresponse()
            data = raw.read()
            for value in raw.headers.get_all("Set-Cookie") or []:
                jar: SimpleCookie = SimpleCookie()
                jar.load(value)
                for key, morsel in jar.items():
                    if morsel["max-age"] == "0" or not morsel.value:
                        self.cookies.pop(key, None)
                    else:
                        self.cookies[key] = morsel.value
            response = Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, data)
            if response.headers.get("connection", "").lower() == "close" or raw.will_close:
                self.close()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            response = Response(0, {}, b"", f"{type(exc).__name__}: {exc}"[:200])
        if self.recorder is not None:
            self.recorder.add(
                name,
                Sample(time.time(), time.perf_counter() - started, response.status, response.error),
            )
        return response

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def get(self, name: str, path: str, **kwargs: Any) -> Response:
        return self.request(name, "GET", path, **kwargs)

    def post_form(
        self,
        name: str,
        path: str,
        fields: list[tuple[str, str]],
        headers: dict[str, str] | None = None,
    ) -> Response:
        return self.request(
            name,
            "POST",
            path,
            body=urlencode(fields).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})},
        )


def htmx_headers(current_url: str, target: str = "") -> dict[str, str]:
    headers = {"HX-Request": "true", "HX-Current-URL": f"http://{HOST}{current_url}"}
    if target:
        headers["HX-Target"] = target
    return headers


class Forms(HTMLParser):
    """The forms of a page and the values a browser would submit for each."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, Any]] = []
        self._form: dict[str, Any] | None = None
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self._form = {"attrs": a, "fields": []}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form["fields"].append((a["name"], a.get("value") or "on"))
                return
            self._form["fields"].append((a["name"], a.get("value") or ""))
        elif tag == "select":
            self._select, self._options = a.get("name"), []
        elif tag == "option" and self._select:
            self._options.append((a.get("value") or "", "selected" in a))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select and self._form is not None:
            chosen = [v for v, selected in self._options if selected] or [
                v for v, _ in self._options[:1]
            ]
            if chosen:
                self._form["fields"].append((self._select, chosen[0]))
            self._select = None
        elif tag == "form":
            self._form = None

    def find(self, **wanted: str) -> dict[str, Any]:
        for form in self.forms:
            if all(form["attrs"].get(k) == v for k, v in wanted.items()):
                return form
        raise LookupError(f"no form with {wanted}")


def expect(response: Response, status: int, what: str) -> Response:
    if response.status != status:
        raise SystemExit(
            f"{what}: expected HTTP {status}, got {response.status} {response.error}\n"
            f"{response.text[:1500]}"
        )
    return response


def login(browser: Browser, username: str, password: str) -> None:
    page = expect(browser.get("setup", "/accounts/login/"), 200, "log-in page")
    fields = dict(Forms(page.text).find(action="/accounts/login/")["fields"])
    fields.update(username=username, password=password)
    answer = browser.post_form("setup", "/accounts/login/", list(fields.items()))
    if answer.status != 302 or "/accounts/login" in answer.headers.get("location", ""):
        raise SystemExit(f"log-in as {username} failed: HTTP {answer.status}\n{answer.text[:800]}")


# --- The upload wizard ---------------------------------------------------------------------------
def csv_file(rows: int) -> Path:
    path = BENCH / f"contacts-{rows}.csv"
    if not path.exists():
        sys.path.insert(0, str(ROOT / "bench"))
        from import_generate import generate

        print(f"generating {path} ...", flush=True)
        generate(path, rows)
    return path


def multipart(fields: list[tuple[str, str]], file_field: str, path: Path) -> tuple[bytes, str]:
    boundary = f"----prodload{uuid.uuid4().hex}"
    parts: list[bytes] = []
    for name, value in fields:
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(f"{head}{value}\r\n".encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
        f'filename="{path.name}"\r\nContent-Type: text/csv\r\n\r\n'.encode()
    )
    parts.append(path.read_bytes())
    parts.append(f"\r\n--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def redirected_to(response: Response, pattern: str, what: str) -> re.Match[str]:
    location = response.headers.get("location", "")
    match = re.search(pattern, location)
    if response.status != 302 or not match:
        raise SystemExit(
            f"{what}: expected a redirect to {pattern}, got HTTP {response.status} "
            f"to {location!r}\n{response.text[:2000]}"
        )
    return match


def run_wizard(browser: Browser, path: Path) -> tuple[int, list[dict[str, Any]], list[str]]:
    """File, format, mapping, tags, review, confirm; the job id, each step's time, the mapping."""
    steps: list[dict[str, Any]] = []

    def step(label: str, response: Response, started: float) -> Response:
        steps.append(
            {"step": label, "ms": (time.perf_counter() - started) * 1000, "status": response.status}
        )
        return response

    t = time.perf_counter()
    page = step(
        "1. upload page", expect(browser.get("wizard", "/uploads/new/"), 200, "upload page"), t
    )
    form = Forms(page.text).find(enctype="multipart/form-data")
    body, content_type = multipart(form["fields"], "file", path)
    t = time.perf_counter()
    answer = browser.request(
        "wizard", "POST", "/uploads/new/", body=body, headers={"Content-Type": content_type}
    )
    step(f"1. upload file ({len(body) / 1e6:.1f} MB)", answer, t)
    job = int(redirected_to(answer, r"/uploads/(\d+)/map/$", "upload")[1])
    map_url = f"/uploads/{job}/map/"

    t = time.perf_counter()
    page = step("2. mapping page", expect(browser.get("wizard", map_url), 200, "mapping page"), t)
    forms = Forms(page.text)
    fmt = forms.find(action=f"/uploads/{job}/map/format/")
    t = time.perf_counter()
    answer = browser.post_form("wizard", fmt["attrs"]["action"], fmt["fields"])
    step("2. file format (as detected)", answer, t)
    redirected_to(answer, rf"/uploads/{job}/map/$", "file format")
    t = time.perf_counter()
    page = step("2. mapping page again", expect(browser.get("wizard", map_url), 200, "map"), t)
    mapping = Forms(page.text).find(id="mapping-form")["fields"]
    values = dict(mapping)
    chosen = [
        f"{values[f'{k}_label']} (new {values[f'{k}_type']})" if v == "new" else v
        for k, v in mapping
        if re.fullmatch(r"col_\d+", k)
    ]
    t = time.perf_counter()
    answer = step("2. save mapping (auto)", browser.post_form("wizard", map_url, mapping), t)
    redirected_to(answer, rf"/uploads/{job}/tags/$", "mapping")

    tags_url = f"/uploads/{job}/tags/"
    t = time.perf_counter()
    page = step("3. tags page", expect(browser.get("wizard", tags_url), 200, "tags page"), t)
    t = time.perf_counter()
    chip = browser.post_form(
        "wizard", "/uploads/tags/new/", [("name", UPLOAD_TAG)], htmx_headers(tags_url)
    )
    step("3. create tag (htmx)", expect(chip, 200, "new tag"), t)
    tag_id = re.search(r'name="tags" value="(\d+)"', chip.text)
    if not tag_id:
        raise SystemExit(f"new tag: no chip in the answer\n{chip.text[:800]}")
    fields = [*Forms(page.text).find(id="tags-form")["fields"], ("tags", tag_id[1])]
    t = time.perf_counter()
    answer = step("3. save tags", browser.post_form("wizard", tags_url, fields), t)
    redirected_to(answer, rf"/uploads/{job}/review/$", "tags")

    review_url = f"/uploads/{job}/review/"
    t = time.perf_counter()
    page = step("4. review page", expect(browser.get("wizard", review_url), 200, "review"), t)
    confirm = next(f for f in Forms(page.text).forms if f["attrs"].get("method") == "post")
    t = time.perf_counter()
    answer = step("5. confirm", browser.post_form("wizard", review_url, confirm["fields"]), t)
    redirected_to(answer, rf"/uploads/{job}/$", "confirm")
    return job, steps, chosen


def job_state(conn: psycopg.Connection, job: int) -> dict[str, Any]:
    row = conn.execute(
        "SELECT status, total, done, rows_created, rows_updated, rows_unchanged, "
        "rows_skipped, rows_failed, queued_at, started_at, finished_at, error_message, attempts "
        "FROM bulkupload_uploadjob WHERE id = %s",
        [job],
    ).fetchone()
    names = [
        *("status", "total", "done", "rows_created", "rows_updated"),
        *("rows_unchanged", "rows_skipped", "rows_failed", "queued_at", "started_at"),
        *("finished_at", "error_message", "attempts"),
    ]
    state = dict(zip(names, row, strict=True))
    for key in ("queued_at", "started_at", "finished_at"):
        state[key] = state[key].isoformat() if state[key] else None
    return state


def hx_trigger_events(header: str | None) -> set[str]:
    """The events an ``HX-Trigger`` header names: a plain name, names separated by commas,
    or a JSON object of names (what django-htmx's ``trigger_client_event`` writes)."""
    if not header:
        return set()
    try:
        events = json.loads(header)
    except ValueError:
        return {name.strip() for name in header.split(",")}
    return set(events) if isinstance(events, dict) else {str(events)}


# --- The load ---------------------------------------------------------------------------------
@dataclass(slots=True)
class Write:
    """One write the clients sent, what it sent and whether the server said it was saved."""

    kind: str  # "api" or "web"
    client: int
    contact: str  # the phone (API) or the contact id (web)
    value: str
    ok: bool
    status: int
    note: str = ""
    name: str = ""
    email: str = ""


@dataclass
class Shared:
    port: int
    stop_at: float
    recorder: Recorder
    writes: list[Write] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    failures: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    def running(self) -> bool:
        return time.monotonic() < self.stop_at

    def write(self, write: Write) -> None:
        with self.lock:
            self.writes.append(write)

    def fail(self, text: str, *, exception: bool = False) -> None:
        with self.lock:
            self.counts["client exceptions" if exception else "unexpected answers"] += 1
            if len(self.failures) < 50:
                self.failures.append(text[:500])


def run_client(shared: Shared, name: str, step: Callable[[int], None]) -> None:
    """Call ``step(1)``, ``step(2)``, ... until the window ends; an unexpected answer that
    breaks a step is recorded and the client goes on."""
    for n in itertools.count(1):
        if not shared.running():
            return
        try:
            step(n)
        except Exception as exc:  # reported; the load goes on
            shared.fail(f"{name}: {type(exc).__name__}: {exc}", exception=True)
            time.sleep(0.2)


def list_step(shared: Shared, browser: Browser, offset: int) -> Callable[[int], None]:
    """The list pages in turn, as a viewer."""

    def step(n: int) -> None:
        name, path = LIST_PAGES[(n + offset) % len(LIST_PAGES)]
        response = browser.get(name, path)
        if response.status != 200:
            shared.fail(f"{name} {path}: HTTP {response.status} {response.error}")

    return step


def detail_step(
    shared: Shared, browser: Browser, index: int, contacts: list[int]
) -> Callable[[int], None]:
    """Contact page, pencil editor, save (as htmx posts it), then the timeline reload."""

    def step(n: int) -> None:
        pk = contacts[n % len(contacts)]
        page_url = f"/contacts/{pk}/"
        page = browser.get("detail: page", page_url)
        if page.status != 200:
            shared.fail(f"detail page {pk}: HTTP {page.status} {page.error}")
            return
        edit_url = f"/contacts/{pk}/fields/{EDIT_FIELD}/edit/"
        headers = htmx_headers(page_url, f"field-{EDIT_FIELD}")
        editor = browser.get("detail: open editor", edit_url, headers=headers)
        if editor.status != 200:
            shared.fail(f"editor {pk}: HTTP {editor.status} {editor.error}")
            return
        fields = dict(Forms(editor.text).find(id=f"field-{EDIT_FIELD}")["fields"])
        value = f"Web {index}-{n}"
        fields["value"] = value
        saved = browser.post_form("detail: save field", edit_url, list(fields.items()), headers)
        ok = (
            saved.status == 200
            and "contact-changed" in hx_trigger_events(saved.headers.get("hx-trigger"))
            and "is-editing" not in saved.text
            and value in saved.text
        )
        note = ""
        if not ok:
            note = "conflict" if "changed by someone else" in saved.text else saved.error
            shared.fail(f"save {pk}={value}: HTTP {saved.status} {note} {saved.text[:300]}")
        shared.write(Write("web", index, str(pk), value, ok, saved.status, note))
        if ok:
            browser.get(
                "detail: timeline reload",
                f"/contacts/{pk}/activity/",
                headers=htmx_headers(page_url, "timeline"),
            )

    return step


def api_step(
    shared: Shared, index: int, key: str, existing: list[str], taken: set[str]
) -> Callable[[int], None]:
    """New phones, seeded contacts and contacts this client created, in turn."""
    browser = Browser(shared.port, shared.recorder)
    headers = {"Authorization": f"Basic {key}", "Content-Type": "application/json"}
    numbers = (f"99{index:02d}{n:06d}" for n in itertools.count())
    created: list[str] = []

    def step(n: int) -> None:
        plan = f"Plan {index}-{n}"
        kind = n % 3
        name = email = ""
        if kind == 0 or (kind == 2 and not created):
            national = next(numbers)
            while f"+91{national}" in taken:
                national = next(numbers)
            phone, endpoint = f"+91{national}", "api: upsert new phone"
            name, email = f"Api Bench {index}-{n}", f"api{index}.{n}@bench.example"
            payload: dict[str, Any] = {
                "phoneNumber": national,
                "countryCode": "+91",
                "traits": {"name": name, "email": email, "Plan": plan},
                "tags": [API_TAG],
            }
            created.append(phone)
        else:
            pool = existing if kind == 1 else created
            phone = pool[n % len(pool)]
            endpoint = "api: upsert seeded contact" if kind == 1 else "api: upsert own contact"
            payload = {"phoneNumber": phone, "traits": {"Plan": plan}, "tags": [API_TAG]}
        body = json.dumps(payload).encode()
        response = browser.request(
            endpoint, "POST", "/v1/public/track/users/", body=body, headers=headers
        )
        ok, note = False, response.error
        if 200 <= response.status < 300:
            try:
                data = response.json()
                ok = data.get("result") is True and data["data"]["phoneNumber"] == phone
                note = data.get("message", "")
            except (ValueError, KeyError, TypeError) as exc:
                note = f"bad answer: {exc}"
        else:
            shared.fail(f"{endpoint} {phone}: HTTP {response.status} {note} {response.text[:300]}")
        shared.write(Write("api", index, phone, plan, ok, response.status, note, name, email))

    return step


def poller(shared: Shared, browser: Browser, job: int, health: Browser) -> None:
    """What an open progress page and a load balancer send: one request a second each."""
    url = f"/uploads/{job}/"
    while shared.running():
        started = time.monotonic()
        browser.get("upload: progress poll", url, headers=htmx_headers(url, "progress"))
        answer = health.get("healthz", "/healthz")
        if answer.status != 200:
            shared.fail(f"/healthz: HTTP {answer.status} {answer.text[:300]}")
        time.sleep(max(0.0, 1 - (time.monotonic() - started)))


# --- Checks and the report -----------------------------------------------------------------------
def last_values(writes: list[Write]) -> dict[str, tuple[str, set[str]]]:
    """Per contact: the last value the server confirmed, and the values it may hold instead
    (writes after it that got no answer may have been applied)."""
    result: dict[str, tuple[str, set[str]]] = {}
    for write in writes:  # one client per contact: the list is in the order they were sent
        if write.ok:
            result[write.contact] = (write.value, {write.value})
        elif write.contact in result and (write.status == 0 or write.status >= 500):
            result[write.contact][1].add(write.value)
    return result


def verify_api(conn: psycopg.Connection, writes: list[Write]) -> dict[str, Any]:
    api = [w for w in writes if w.kind == "api"]
    ok = [w for w in api if w.ok]
    key_row = conn.execute("SELECT key FROM contacts_attribute WHERE label = 'Plan'").fetchone()
    plan_key = key_row[0] if key_row else "plan"
    stored = {
        phone: (name, email, plan)
        for phone, name, email, plan in conn.execute(
            "SELECT phone, name, email, traits->>%s FROM contacts_contact WHERE phone = ANY(%s)",
            [plan_key, sorted({w.contact for w in ok})],
        )
    }
    logged = set(
        conn.execute(
            "SELECT c.phone, a.changes->'fields'->%s->>1 FROM contacts_activity a "
            "JOIN contacts_contact c ON c.id = a.contact_id WHERE a.source = 'api'",
            [plan_key],
        ).fetchall()
    )
    tagged = {
        row[0]
        for row in conn.execute(
            "SELECT c.phone FROM contacts_contacttag ct JOIN contacts_contact c ON c.id = "
            "ct.contact_id JOIN contacts_tag t ON t.id = ct.tag_id WHERE t.name_key = %s",
            [API_TAG],
        )
    }
    problems: list[str] = []
    for write in ok:
        if write.contact not in stored:
            problems.append(f"{write.contact}: answered {write.note!r} but no such contact")
            continue
        if (write.contact, write.value) not in logged:
            problems.append(f"{write.contact}: no activity entry for Plan = {write.value}")
        if write.contact not in tagged:
            problems.append(f"{write.contact}: tag {API_TAG!r} missing")
        name, email, _ = stored[write.contact]
        if write.name and (name, email) != (write.name, write.email):
            problems.append(f"{write.contact}: name/email {name!r} {email!r}, sent {write.name!r}")
    finals = last_values(api)
    for phone, (last, allowed) in finals.items():
        if phone in stored and stored[phone][2] not in allowed:
            problems.append(f"{phone}: Plan is {stored[phone][2]!r}, last confirmed {last!r}")
    return {
        "writes": len(api),
        "confirmed": len(ok),
        "contacts": len(finals),
        "problems": len(problems),
        "examples": problems[:20],
    }


def verify_edits(conn: psycopg.Connection, writes: list[Write]) -> dict[str, Any]:
    edits = [w for w in writes if w.kind == "web"]
    ok = [w for w in edits if w.ok]
    stored = dict(
        conn.execute(
            "SELECT id::text, traits->>%s FROM contacts_contact WHERE id = ANY(%s)",
            [EDIT_FIELD, sorted({int(w.contact) for w in ok})],
        ).fetchall()
    )
    logged = set(
        conn.execute(
            "SELECT contact_id::text, changes->'fields'->%s->>1 FROM contacts_activity "
            "WHERE source = 'web'",
            [EDIT_FIELD],
        ).fetchall()
    )
    problems = [
        f"contact {w.contact}: no activity entry for {EDIT_FIELD} = {w.value}"
        for w in ok
        if (w.contact, w.value) not in logged
    ]
    for pk, (last, allowed) in last_values(edits).items():
        if stored.get(pk) not in allowed:
            problems.append(f"contact {pk}: {EDIT_FIELD} is {stored.get(pk)!r}, saved {last!r}")
    not_saved = Counter(w.note or f"HTTP {w.status}" for w in edits if not w.ok)
    return {
        "writes": len(edits),
        "confirmed": len(ok),
        "not_confirmed": dict(not_saved),
        "contacts": len({w.contact for w in ok}),
        "problems": len(problems),
        "examples": problems[:20],
    }


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile of sorted values."""
    if not values:
        return float("nan")
    rank = max(1, min(len(values), round(share * len(values) + 0.5)))
    return values[rank - 1]


def summarise(recorder: Recorder, seconds: float) -> list[dict[str, Any]]:
    order = [name for name, _ in LIST_PAGES] + [
        "detail: page",
        "detail: open editor",
        "detail: save field",
        "detail: timeline reload",
        "api: upsert new phone",
        "api: upsert seeded contact",
        "api: upsert own contact",
        "upload: progress poll",
        "healthz",
    ]
    names = [n for n in order if n in recorder.samples] + sorted(
        n for n in recorder.samples if n not in order and n not in ("setup", "wizard")
    )
    rows = []
    for name in names:
        samples = recorder.samples[name]
        latencies = sorted(s.seconds * 1000 for s in samples if s.status)
        statuses = Counter(str(s.status) for s in samples if s.status)
        errors = Counter(s.error.split(":")[0] for s in samples if not s.status)
        rows.append(
            {
                "endpoint": name,
                "requests": len(samples),
                "per_second": len(samples) / seconds,
                "p50_ms": percentile(latencies, 0.50),
                "p95_ms": percentile(latencies, 0.95),
                "p99_ms": percentile(latencies, 0.99),
                "max_ms": latencies[-1] if latencies else float("nan"),
                "statuses": dict(sorted(statuses.items())),
                "5xx": sum(c for s, c in statuses.items() if s.startswith("5")),
                "errors": dict(errors),
            }
        )
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| endpoint | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | statuses | 5xx "
        "| errors |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for r in rows:
        statuses = ", ".join(f"{s}: {c}" for s, c in r["statuses"].items())
        errors = sum(r["errors"].values())
        lines.append(
            f"| {r['endpoint']} | {r['requests']} | {r['per_second']:.1f} | {r['p50_ms']:.0f} "
            f"| {r['p95_ms']:.0f} | {r['p99_ms']:.0f} | {r['max_ms']:.0f} | {statuses} "
            f"| {r['5xx']} | {errors} |"
        )
    return "\n".join(lines)


# --- Main --------------------------------------------------------------------------------------
def seeded(conn: psycopg.Connection, rows: int) -> list[tuple[int, str]]:
    """Seeded contacts whose phone is not in the upload file (the upload leaves them alone)."""
    result = []
    for pk, phone in conn.execute("SELECT id, phone FROM contacts_contact ORDER BY id"):
        national = phone.removeprefix("+91")
        if national.isdigit() and len(national) == 10:
            offset = int(national) - 7_000_000_000
            if 0 <= offset < rows * 7 and offset % 7 == 0:
                continue
        result.append((pk, phone))
    return result


def wait_for_job(
    conn: psycopg.Connection, job: int, until: set[str], timeout: float
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        state = job_state(conn, job)
        if state["status"] in until or time.monotonic() > deadline:
            return state
        time.sleep(1)


def log_in_all(
    port: int, clients: int, password: str, recorder: Recorder
) -> dict[str, list[Browser]]:
    """The uploading manager, and ``clients`` viewers (list) and editors (contact page), each
    in a session of their own; logged in at once (password hashing is slow on purpose)."""
    browsers: dict[str, list[Browser]] = {
        kind: [Browser(port, recorder) for _ in range(count)]
        for kind, count in (("upload", 1), ("list", clients), ("detail", clients))
    }
    users = {"upload": "manager", "list": "viewer", "detail": "editor"}
    errors: list[str] = []

    def log_in(browser: Browser, user: str) -> None:
        try:
            login(browser, user, password)
        except SystemExit as exc:
            errors.append(str(exc))

    threads = [
        threading.Thread(target=log_in, args=(browser, users[kind]))
        for kind, group in browsers.items()
        for browser in group
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise SystemExit(errors[0])
    return browsers


def split(items: list[Any], parts: int) -> Iterator[list[Any]]:
    for i in range(parts):
        yield items[i::parts]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=120, help="length of the load window")
    parser.add_argument("--clients", type=int, default=4, help="threads per kind of client")
    parser.add_argument("--rows", type=int, default=500_000, help="rows in the uploaded file")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--database-url", default=DEFAULT_DB)
    parser.add_argument(
        "--keep-db", action="store_true", help="do not drop the database at the end"
    )
    parser.add_argument("--web-concurrency", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--task-workers", type=int, default=2, help="db_worker processes")
    parser.add_argument("--seed-contacts", type=int, default=2000)
    parser.add_argument(
        "--wait-upload", action="store_true", help="after the window, wait for the import to end"
    )
    parser.add_argument("--upload-timeout", type=float, default=3600)
    args = parser.parse_args()

    OUT.mkdir(parents=True, exist_ok=True)
    started_at, run_started = datetime.now(UTC), time.monotonic()
    box = machine()
    load_before = load_average()
    print(f"machine: {box['nproc']} CPUs ({box['cpu']}), {box['memory']}, load {load_before}")
    path = csv_file(args.rows)
    marker = uuid.uuid4().hex
    env = server_env(args, marker)
    timings: dict[str, float] = {}

    t = time.monotonic()
    pg_version = reset_database(args.database_url)
    manage(env, "migrate", "--noinput", "-v0")
    password = secrets.token_urlsafe(12)
    manage(env, "seed_demo", "--contacts", str(args.seed_contacts), "--password", password)
    key = manage(env, "create_api_key", "Prod load").strip().splitlines()[-1]
    timings["database, seed and key s"] = time.monotonic() - t
    seconds = timings["database, seed and key s"]
    print(f"database ready ({args.seed_contacts} contacts) in {seconds:.0f} s", flush=True)

    server = Server(env, args.port, marker)
    recorder = Recorder()
    result: dict[str, Any] = {}
    shared: Shared | None = None
    browsers: dict[str, list[Browser]] = {}
    job = 0
    try:
        timings["serve-prod start to healthy s"] = server.start()
        print(f"serve-prod healthy in {timings['serve-prod start to healthy s']:.0f} s", flush=True)
        conn = pg(args.database_url)
        contacts = seeded(conn, args.rows)
        taken = {row[0] for row in conn.execute("SELECT phone FROM contacts_contact")}
        half = len(contacts) // 2
        edit_ids = [pk for pk, _ in contacts[:half]]
        api_phones = [phone for _, phone in contacts[half:]]
        if len(edit_ids) < args.clients or len(api_phones) < args.clients:
            raise SystemExit("not enough seeded contacts for the clients; raise --seed-contacts")

        t = time.monotonic()
        browsers = log_in_all(args.port, args.clients, password, recorder)
        timings["log-ins s"] = time.monotonic() - t
        uploader = browsers["upload"][0]
        t = time.monotonic()
        job, steps, mapping = run_wizard(uploader, path)
        queued = job_state(conn, job)
        state = wait_for_job(conn, job, {"running", *TERMINAL}, 300)
        timings["wizard, file to running s"] = time.monotonic() - t
        print(f"upload {job}: {state['status']} ({state['total']:,} rows)", flush=True)
        if state["status"] != "running":
            raise SystemExit(f"the upload did not start: {state}")
        progress, health = Browser(args.port, recorder), Browser(args.port, recorder)
        progress.cookies = dict(uploader.cookies)

        recorder.samples.clear()
        state_start = job_state(conn, job)
        shared = Shared(args.port, time.monotonic() + args.seconds, recorder)
        threads = [threading.Thread(target=poller, args=(shared, progress, job, health))]
        clients = [(f"list {i}", list_step(shared, b, i)) for i, b in enumerate(browsers["list"])]
        for i, (browser, mine) in enumerate(
            zip(browsers["detail"], split(edit_ids, args.clients), strict=True)
        ):
            clients.append((f"detail {i}", detail_step(shared, browser, i, mine)))
        for i, mine in enumerate(split(api_phones, args.clients)):
            clients.append((f"api {i}", api_step(shared, i, key, mine, taken)))
        threads += [threading.Thread(target=run_client, args=(shared, *c)) for c in clients]
        print(f"load: {len(threads)} threads for {args.seconds:.0f} s ...", flush=True)
        window_started, window_utc = time.monotonic(), datetime.now(UTC)
        client_cpu = time.process_time()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        window = time.monotonic() - window_started
        timings["client CPU in the window s"] = time.process_time() - client_cpu
        state_end = job_state(conn, job)
        load_after_window = load_average()
        importing = window
        if state_end["finished_at"]:
            ended = datetime.fromisoformat(state_end["finished_at"]) - window_utc
            importing = max(0.001, min(window, ended.total_seconds()))

        final = state_end
        if args.wait_upload and state_end["status"] not in TERMINAL:
            print("waiting for the upload to finish ...", flush=True)
            final = wait_for_job(conn, job, TERMINAL, args.upload_timeout)
        if final["started_at"] and final["finished_at"]:
            final["import_seconds"] = (
                datetime.fromisoformat(final["finished_at"])
                - datetime.fromisoformat(final["started_at"])
            ).total_seconds()
        rows = summarise(recorder, window)
        result = {
            "started_at": started_at.isoformat(timespec="seconds"),
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "options": vars(args),
            "machine": {**box, "postgresql": pg_version, "load_before": load_before},
            "timings": timings,
            "window_seconds": window,
            "endpoints": rows,
            "upload": {
                "job": job,
                "file": str(path.relative_to(ROOT)),
                "wizard_steps": steps,
                "mapping": mapping,
                "queued": queued,
                "at_window_start": state_start,
                "at_window_end": state_end,
                "rows_done_in_window": state_end["done"] - state_start["done"],
                "importing_seconds_in_window": importing,
                "final": final,
            },
            "client_failures": {"counts": dict(shared.counts), "first": shared.failures},
        }
        result["machine"]["load_after_window"] = load_after_window
        conn.close()
    finally:
        result["server_stop"] = server.stop()
        result["server_log"] = server.log_summary()
        if shared is None:
            print("serve-prod stopped: " + "; ".join(result["server_stop"]), file=sys.stderr)
        for group in browsers.values():
            for browser in group:
                browser.close()

    if shared is not None:
        with pg(args.database_url) as conn:
            result["upload"]["after_stop"] = job_state(conn, job)
            result["verify_api"] = verify_api(conn, shared.writes)
            result["verify_edits"] = verify_edits(conn, shared.writes)
    result["machine"]["load_after"] = load_average()
    if not args.keep_db:
        drop_database(args.database_url)
    timings["whole run s"] = time.monotonic() - run_started
    report(result, args)


def report(result: dict[str, Any], args: argparse.Namespace) -> None:
    out = BENCH / f"prod-load-{result['started_at'][:19].replace(':', '')}.json"
    out.write_text(json.dumps(result, indent=2, default=str))
    m, up = result["machine"], result["upload"]
    print()
    print(
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory']}, {m['os']}, Python {m['python']}, "
        f"PostgreSQL {m['postgresql']}. Load average (1/5/15 min) before {m['load_before']}, "
        f"at the end of the window {m['load_after_window']}, after {m['load_after']}."
    )
    print(
        f"serve-prod: {args.web_concurrency} gunicorn workers, {args.task_workers} db_workers on "
        f"{HOST}:{args.port}; {args.clients} client thread(s) per kind; window "
        f"{result['window_seconds']:.0f} s; {args.seed_contacts} seeded contacts. Times (s): "
        + ", ".join(f"{k.removesuffix(' s')} {v:.0f}" for k, v in result["timings"].items())
        + ".\n"
    )
    print(markdown(result["endpoints"]))
    print()
    start, end, final = up["at_window_start"], up["at_window_end"], up["final"]
    print(
        f"Upload {up['job']} ({up['file']}, {final['total']:,} rows): "
        f"{start['done']:,} rows done at the window's start, {end['done']:,} at its end "
        f"({up['rows_done_in_window']:,} in {up['importing_seconds_in_window']:.0f} s of the "
        f"window, {up['rows_done_in_window'] / up['importing_seconds_in_window']:.0f} rows/s); "
        f"status {end['status']} at the end of the window."
    )
    counts = ", ".join(
        f"{k.removeprefix('rows_')} {final[k]:,}"
        for k in ("rows_created", "rows_updated", "rows_unchanged", "rows_skipped", "rows_failed")
    )
    took = final.get("import_seconds")
    print(
        f"{'Final' if final is not end else 'At the end of the window'}: {final['status']}"
        + (f", {took:.0f} s from start to finish" if took else "")
        + f"; {counts}."
        + (f" Error: {final['error_message']}" if final["error_message"] else "")
    )
    after = up.get("after_stop", {})
    if after:
        print(f"After serve-prod stopped: {after['status']}, {after['done']:,} rows done.")
    print("\nMapping (auto): " + ", ".join(up["mapping"]))
    print(
        "Wizard steps (ms): " + "; ".join(f"{s['step']} {s['ms']:.0f}" for s in up["wizard_steps"])
    )
    for label, key in (("API writes", "verify_api"), ("Contact page saves", "verify_edits")):
        v = result.get(key)
        if v:
            extra = f", not confirmed: {v['not_confirmed']}" if v.get("not_confirmed") else ""
            print(
                f"{label}: {v['writes']} sent, {v['confirmed']} confirmed by the server, on "
                f"{v['contacts']} contacts{extra}; stored-value problems: {v['problems']}"
            )
            for line in v["examples"]:
                print(f"  - {line}")
    log = result["server_log"]
    print(f"Server access log statuses: {log['access_log_statuses']}")
    for phase, lines in log["problems"].items():
        if lines:
            print(f"Server log, {phase}: {len(lines)} error line(s), e.g.:")
            for line in lines[:10]:
                print(f"  {line[:300]}")
    failures = result.get("client_failures", {})
    if failures.get("counts"):
        print(f"Client-side failures: {failures['counts']}; the first ones:")
        for line in failures["first"][:10]:
            print(f"  - {line[:300]}")
    print("Server stop: " + "; ".join(result["server_stop"]))
    print(f"\nJSON: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
