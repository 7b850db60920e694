"""A throw-away OpenStack Swift with its S3 API (``s3api``) for integration tests.

memcached, one account, one container and one object server (one device each) and a proxy
with ``s3api`` and ``tempauth`` (a second one serving HTTPS with a self-signed certificate when
asked), all bound to 127.0.0.1 on ports chosen free at start, with every file they write
(configs, rings, devices, certificate, logs) under one temporary directory. The S3 user is
tempauth's ``test:tester`` with the secret ``testing``; the region is ``us-east-1``. As on S3,
an upload may have 10,000 parts (s3api's default is 1,000).

Usage from Python::

    with running_swift() as server:
        ...  # server.endpoint, server.access_key, server.secret_key

Usage from a shell (from the repository root)::

    python -m tests.servers.swift run [--https] -- pytest tests/integration
    python -m tests.servers.swift check [--https]

Needs the Debian packages ``swift``, ``swift-proxy``, ``swift-account``, ``swift-container``,
``swift-object`` (Swift 2.30) and ``memcached``. Swift reads its hash prefix and storage
policies from ``/etc/swift/swift.conf``, which the ``swift`` package installs; that file is
only read. Set ``RAWS3_SWIFT_DEBUG=1`` to get every request in the servers' logs.

The servers are started with a parent-death signal: they die with the thread that started
them, so start Swift from a thread that outlives its use (the main thread, in pytest).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import functools
import http.client
import importlib
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import types
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REGION = "us-east-1"
ACCESS_KEY = "test:tester"
SECRET_KEY = "testing"
DEBUG_ENV = "RAWS3_SWIFT_DEBUG"
SWIFT_CONF = Path("/etc/swift/swift.conf")
DEVICE = "sdb1"
# Rings with 2**4 partitions: one device needs no more, and they build in milliseconds.
PART_POWER = 4
# S3's limit; s3api's default is 1,000, and SLO, which s3api completes uploads with, must
# accept as many segments.
MAX_PARTS = 10_000
BACKENDS = ("account", "container", "object")
LOG_TAIL_LINES = 40
POLL_SECONDS = 0.05
STOP_SECONDS = 10.0
PORT_ATTEMPTS = 3
# Swift retries a busy port for bind_timeout seconds (30 by default) before giving up;
# a port taken between choosing and binding is better answered by new ports at once.
BIND_TIMEOUT_SECONDS = 2
PORT_IN_USE = ("Address already in use", "Could not bind")
REQUIRED_PROGRAMS = (
    "memcached", "swift-account-server", "swift-container-server", "swift-object-server",
    "swift-proxy-server",
)
PR_SET_PDEATHSIG = 1


class SwiftStartError(RuntimeError):
    """Swift (or memcached under it) did not come up."""


@dataclass(frozen=True)
class SwiftServer:
    """A running Swift proxy with the S3 API and how to reach it.

    Attributes:
        endpoint: ``http://127.0.0.1:PORT``; use path-style addressing.
        access_key: the S3 access key, tempauth's ``account:user``.
        secret_key: its secret key (left out of ``repr``).
        region: the only region s3api accepts in signatures.
        workdir: the directory holding everything of this run; removed by ``stop_swift``.
        ca_file: the self-signed certificate to trust, when started with ``https=True``.
        https_endpoint: ``https://127.0.0.1:PORT``, when started with ``https=True``.
    """

    endpoint: str
    access_key: str
    secret_key: str = field(repr=False)
    region: str
    workdir: Path
    ca_file: Path | None = None
    https_endpoint: str | None = None


@dataclass(frozen=True)
class _Ports:
    memcached: int
    account: int
    container: int
    object: int
    proxy: int
    proxy_https: int

    def of(self, name: str) -> int:
        return int(getattr(self, name.replace("-", "_")))


@dataclass(frozen=True)
class _Layout:
    """Where everything of one run lives; all paths are under ``root``."""

    root: Path

    @property
    def etc(self) -> Path:
        return self.root / "etc"

    @property
    def devices(self) -> Path:
        return self.root / "srv"

    @property
    def log_dir(self) -> Path:
        return self.root / "log"

    @property
    def cert(self) -> Path:
        return self.root / "tls" / "cert.pem"

    @property
    def key(self) -> Path:
        return self.root / "tls" / "key.pem"

    def conf(self, name: str) -> Path:
        return self.etc / f"{name}-server.conf"

    def swift_dir(self, name: str) -> Path:
        """Each proxy builds its own copy of the rings, so the two can start at once."""
        return self.etc / "https" if name == "proxy-https" else self.etc

    def log(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"


class _Deadline:
    """The time left of the overall start-up budget."""

    def __init__(self, seconds: float) -> None:
        self._end = time.monotonic() + seconds

    def left(self) -> float:
        return max(0.1, self._end - time.monotonic())

    def expired(self) -> bool:
        return time.monotonic() >= self._end


@dataclass
class _Run:
    """One start attempt: its files, its ports and the processes started so far."""

    layout: _Layout
    ports: _Ports
    https: bool
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)


# ---------------------------------------------------------------- configuration


def _free_ports() -> _Ports:
    """Ports free right now; all sockets are held at once so that they differ."""
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(6):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports.append(int(sock.getsockname()[1]))
    return _Ports(*ports)


def _render_conf(sections: Mapping[str, Mapping[str, str]]) -> str:
    lines: list[str] = []
    for name, options in sections.items():
        lines.append(f"[{name}]")
        lines.extend(f"{key} = {value}" for key, value in options.items())
        lines.append("")
    return "\n".join(lines)


def _defaults(layout: _Layout, port: int, swift_dir: Path) -> dict[str, str]:
    return {
        "bind_ip": "127.0.0.1",
        "bind_port": str(port),
        "bind_timeout": str(BIND_TIMEOUT_SECONDS),
        # One process per server: nothing forks, so the pid started is the pid to stop.
        "workers": "0",
        # Debian's default is the "swift" user, which may not exist; CI runs as root.
        "user": pwd.getpwuid(os.getuid()).pw_name,
        "swift_dir": str(swift_dir),
        "devices": str(layout.devices),
        "mount_check": "false",
        "log_level": "DEBUG" if os.environ.get(DEBUG_ENV) else "WARNING",
        "log_name": "swift",
    }


def _backend_conf(layout: _Layout, ports: _Ports, name: str) -> dict[str, dict[str, str]]:
    return {
        "DEFAULT": _defaults(layout, ports.of(name), layout.etc),
        # healthcheck gives a cheap "serving requests now" probe.
        "pipeline:main": {"pipeline": f"healthcheck {name}-server"},
        "filter:healthcheck": {"use": "egg:swift#healthcheck"},
        f"app:{name}-server": {"use": f"egg:swift#{name}"},
    }


PROXY_PIPELINE = (
    "catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk s3api "
    "tempauth copy slo dlo versioned_writes symlink proxy-logging proxy-server"
)


def _proxy_conf(layout: _Layout, ports: _Ports, name: str) -> dict[str, dict[str, str]]:
    filters = {
        name: {"use": f"egg:swift#{name}"}
        for name in ("catch_errors", "gatekeeper", "healthcheck", "listing_formats", "bulk",
                     "copy", "dlo", "symlink")
    }
    defaults = _defaults(layout, ports.of(name), layout.swift_dir(name))
    if name == "proxy-https":
        defaults.update(cert_file=str(layout.cert), key_file=str(layout.key))
    return {
        "DEFAULT": defaults,
        "pipeline:main": {"pipeline": PROXY_PIPELINE},
        "app:proxy-server": {
            "use": "egg:swift#proxy",
            # S3's CreateBucket on a fresh account needs the account made on first use.
            "allow_account_management": "true",
            "account_autocreate": "true",
        },
        **{f"filter:{name}": options for name, options in filters.items()},
        "filter:proxy-logging": {"use": "egg:swift#proxy_logging"},
        "filter:cache": {
            "use": "egg:swift#memcache",
            "memcache_servers": f"127.0.0.1:{ports.memcached}",
        },
        "filter:slo": {"use": "egg:swift#slo", "max_manifest_segments": str(MAX_PARTS)},
        "filter:s3api": {
            "use": "egg:swift#s3api",
            "location": REGION,
            "max_upload_part_num": str(MAX_PARTS),
        },
        "filter:tempauth": {
            "use": "egg:swift#tempauth",
            "user_test_tester": f"{SECRET_KEY} .admin",
        },
        # S3 bucket versioning is built on Swift's object versioning.
        "filter:versioned_writes": {
            "use": "egg:swift#versioned_writes",
            "allow_object_versioning": "true",
        },
    }


def _proxies(https: bool) -> tuple[str, ...]:
    return ("proxy", "proxy-https") if https else ("proxy",)


def _write_files(layout: _Layout, ports: _Ports, https: bool) -> None:
    for path in (layout.etc / "https", layout.log_dir, layout.devices / DEVICE, layout.cert.parent):
        path.mkdir(parents=True, exist_ok=True)
    for name in BACKENDS:
        layout.conf(name).write_text(_render_conf(_backend_conf(layout, ports, name)))
    for name in _proxies(https):
        layout.conf(name).write_text(_render_conf(_proxy_conf(layout, ports, name)))


def _check_xattrs(layout: _Layout) -> None:
    """The object server keeps metadata in user xattrs; without them every PUT fails."""
    probe = layout.devices / DEVICE / "xattr-probe"
    probe.touch()
    try:
        os.setxattr(probe, "user.raws3", b"1")
    except OSError as exc:
        raise SwiftStartError(
            f"Swift start failed: {layout.root} has no user xattrs ({exc.strerror}); "
            "give a workdir on a file system that has them"
        ) from exc
    finally:
        probe.unlink()


# ---------------------------------------------------------------- processes


def _swift_python() -> str:
    """The interpreter Debian's Swift scripts run with: the one with the swift package."""
    script = shutil.which("swift-proxy-server")
    if script is not None:
        with open(script, "rb") as handle:
            first = handle.readline().decode(errors="replace")
        if first.startswith("#!"):
            return first[2:].strip().split()[0]
    return "/usr/bin/python3"


PROXY_SCRIPT = """
import sys
from swift.common.ring import RingBuilder
from swift.common.wsgi import run_wsgi

conf_file, swift_dir, part_power = sys.argv[1], sys.argv[2], int(sys.argv[3])
for spec in sys.argv[4:]:
    name, port, device = spec.split(":")
    builder = RingBuilder(part_power, 1, 1)
    builder.add_dev({"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1",
                     "port": int(port), "device": device, "weight": 100})
    builder.rebalance()
    builder.get_ring().save(f"{swift_dir}/{name}.ring.gz")
sys.exit(run_wsgi(conf_file, "proxy-server", verbose=True))
"""


def _proxy_command(layout: _Layout, ports: _Ports, name: str) -> list[str]:
    """Debian's swift-proxy-server, run by an interpreter that first builds the rings.

    Only the proxy reads rings at start-up; building them in its own process saves one
    interpreter start and one import of Swift (~0.5 s of CPU, where four servers start at
    once on two cores) over a separate swift-ring-builder step.
    """
    specs = [f"{name}:{ports.of(name)}:{DEVICE}" for name in BACKENDS]
    return [_swift_python(), "-c", PROXY_SCRIPT, str(layout.conf(name)),
            str(layout.swift_dir(name)), str(PART_POWER), *specs]


def _die_with_parent() -> None:
    """Runs in the child before exec: a killed test run leaves no server behind."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _spawn(run: _Run, name: str, cmd: Sequence[str]) -> None:
    # Every address is an IP: eventlet's green DNS resolver, a quarter of a second of
    # imports in each server, would never be used.
    env = {**os.environ, "EVENTLET_NO_GREENDNS": "yes"}
    with run.layout.log(name).open("ab") as out:
        run.processes[name] = subprocess.Popen(
            list(cmd),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=run.layout.root,
            # Its own process group: a terminal's Ctrl-C reaches the harness, which stops
            # the servers in order, and the group is what is killed.
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no {path.name})"
    return "\n".join(text.splitlines()[-lines:]) or "(empty)"


def _fail(what: str, run: _Run, name: str) -> SwiftStartError:
    return SwiftStartError(
        f"Swift start failed: {what}\n--- tail of {run.layout.log(name)} ---\n"
        f"{_tail(run.layout.log(name))}"
    )


def _exited(run: _Run, name: str) -> bool:
    return run.processes[name].poll() is not None


def _wait_for(ready: Callable[[], bool], run: _Run, name: str, what: str,
              deadline: _Deadline) -> None:
    """Polls ``ready`` until true; fails early when the process ``name`` has exited."""
    while not ready():
        if _exited(run, name):
            code = run.processes[name].returncode
            raise _fail(f"{name} exited ({code}) while waiting for {what}", run, name)
        if deadline.expired():
            raise _fail(f"timed out waiting for {what}", run, name)
        time.sleep(POLL_SECONDS)


# ---------------------------------------------------------------- readiness


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _request(port: int, method: str, path: str, headers: Mapping[str, str] | None = None,
             context: ssl.SSLContext | None = None) -> http.client.HTTPResponse | None:
    conn: http.client.HTTPConnection
    if context is None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    else:
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=2, context=context)
    try:
        conn.request(method, path, headers=dict(headers or {}))
        response = conn.getresponse()
        response.read()
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()
    return response


def _healthy(port: int, context: ssl.SSLContext | None = None) -> bool:
    response = _request(port, "GET", "/healthcheck", context=context)
    return response is not None and response.status == 200


def _check_auth(run: _Run, deadline: _Deadline) -> None:
    """One tempauth login and one account HEAD: memcached, tempauth and the account ring work."""
    login = _request(run.ports.proxy, "GET", "/auth/v1.0",
                     {"X-Storage-User": ACCESS_KEY, "X-Storage-Pass": SECRET_KEY})
    token = login.getheader("X-Auth-Token") if login is not None else None
    if login is None or login.status != 200 or not token:
        status = login.status if login is not None else "no answer"
        raise _fail(f"tempauth login as {ACCESS_KEY} gave {status}", run, "proxy")
    account = ACCESS_KEY.split(":")[0]
    head = _request(run.ports.proxy, "HEAD", f"/v1/AUTH_{account}", {"X-Auth-Token": token})
    if head is None or head.status // 100 != 2:
        status = head.status if head is not None else "no answer"
        raise _fail(f"HEAD of the account gave {status}", run, "proxy")


# ---------------------------------------------------------------- start-up


def _check_programs(https: bool) -> None:
    needed = (*REQUIRED_PROGRAMS, "openssl") if https else REQUIRED_PROGRAMS
    missing = [name for name in needed if shutil.which(name) is None]
    if missing:
        raise SwiftStartError(
            f"Swift start failed: not on PATH: {', '.join(missing)}; install the Debian "
            "packages swift, swift-proxy, swift-account, swift-container, swift-object and "
            "memcached" + (" (and openssl for https)" if https else "")
        )
    if not SWIFT_CONF.is_file():
        raise SwiftStartError(f"Swift start failed: no {SWIFT_CONF}; reinstall the package swift")


def _make_certificate(run: _Run, deadline: _Deadline) -> None:
    # An EC key: generated in milliseconds where RSA takes a noticeable part of a second.
    cmd = [
        "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-sha256", "-days", "7", "-subj", "/CN=127.0.0.1",
        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        "-keyout", str(run.layout.key), "-out", str(run.layout.cert),
    ]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=deadline.left(),
                              check=False)
    except subprocess.TimeoutExpired as exc:
        raise SwiftStartError("Swift start failed: openssl req timed out") from exc
    if done.returncode != 0:
        raise SwiftStartError(
            f"Swift start failed: openssl req exited {done.returncode}\n{done.stderr.strip()}"
        )


def _boot(run: _Run, deadline: _Deadline) -> None:
    layout, ports = run.layout, run.ports
    _write_files(layout, ports, run.https)
    _check_xattrs(layout)
    if run.https:
        _make_certificate(run, deadline)
    memcached = ["memcached", "-l", "127.0.0.1", "-p", str(ports.memcached), "-U", "0",
                 "-m", "64"]
    if os.getuid() == 0:
        memcached += ["-u", "root"]
    _spawn(run, "memcached", memcached)
    for name in _proxies(run.https):
        _spawn(run, name, _proxy_command(layout, ports, name))
    for name in BACKENDS:
        _spawn(run, name, [f"swift-{name}-server", str(layout.conf(name)), "--verbose"])
    _wait_for(lambda: _port_open(ports.memcached), run, "memcached", "memcached", deadline)
    for name in (*BACKENDS, "proxy"):
        _wait_for(functools.partial(_healthy, ports.of(name)), run, name,
                  f"the {name} server's healthcheck", deadline)
    if run.https:
        context = ssl.create_default_context(cafile=str(layout.cert))
        _wait_for(functools.partial(_healthy, ports.proxy_https, context), run, "proxy-https",
                  "the HTTPS proxy's healthcheck", deadline)
    _check_auth(run, deadline)


def _port_collision(exc: SwiftStartError) -> bool:
    return any(marker in str(exc) for marker in PORT_IN_USE)


def start_swift(
    *, workdir: Path | None = None, https: bool = False, timeout: float = 60
) -> SwiftServer:
    """Starts memcached, the account, container and object servers and an S3 proxy.

    Args:
        workdir: directory in which a fresh temporary directory is made for this run
            (the system temp dir when None); it needs user xattrs.
        https: also serve HTTPS, from a second proxy with a self-signed certificate for
            127.0.0.1/localhost.
        timeout: seconds the whole start-up may take.

    Returns:
        The running server; pass it to ``stop_swift`` when done.

    Raises:
        SwiftStartError: a program is missing or a step failed; the message holds the
            tail of the log of the process concerned. Nothing is left running.
    """
    _check_programs(https)
    deadline = _Deadline(timeout)
    # A port found free can be taken by someone else before a server binds it.
    for attempt in range(1, PORT_ATTEMPTS + 1):
        try:
            return _start_once(workdir, https, deadline)
        except SwiftStartError as exc:
            if attempt == PORT_ATTEMPTS or not _port_collision(exc):
                raise
    raise AssertionError("unreachable")


_RUNS: dict[Path, _Run] = {}
_RUNS_LOCK = threading.Lock()


def _start_once(workdir: Path | None, https: bool, deadline: _Deadline) -> SwiftServer:
    root = Path(tempfile.mkdtemp(prefix="raws3-swift-", dir=workdir))
    run = _Run(_Layout(root), _free_ports(), https)
    with _RUNS_LOCK:
        _RUNS[root] = run
    try:
        _boot(run, deadline)
    except BaseException:
        _stop_run(root)
        raise
    return SwiftServer(
        endpoint=f"http://127.0.0.1:{run.ports.proxy}",
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        region=REGION,
        workdir=root,
        ca_file=run.layout.cert if https else None,
        https_endpoint=f"https://127.0.0.1:{run.ports.proxy_https}" if https else None,
    )


def _stop_run(root: Path) -> None:
    """SIGKILL to each process group: the data is thrown away, so nothing needs a clean exit."""
    with _RUNS_LOCK:
        run = _RUNS.pop(root, None)
    if run is None:
        return
    for process in run.processes.values():
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
    left = []
    for name, process in run.processes.items():
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            left.append(f"{name} ({process.pid})")
    shutil.rmtree(root, ignore_errors=True)
    if left:
        raise RuntimeError(f"Swift processes still running after SIGKILL: {', '.join(left)}")


def stop_swift(server: SwiftServer) -> None:
    """Stops every process of ``server`` and removes its directory.

    Args:
        server: what ``start_swift`` returned. Stopping twice is harmless.

    Raises:
        RuntimeError: a process was still alive after being killed.
    """
    _stop_run(server.workdir)


class _TerminatedError(BaseException):
    """SIGTERM, turned into an exception so that ``finally`` blocks stop Swift."""


def _raise_terminated(signum: int, frame: types.FrameType | None) -> None:
    raise _TerminatedError


def _raise_interrupt(signum: int, frame: types.FrameType | None) -> None:
    # pytest aborts the session on KeyboardInterrupt and still runs fixture teardowns;
    # any other exception would only fail the test that happened to be running.
    raise KeyboardInterrupt


@contextlib.contextmanager
def _sigterm_stops_swift() -> Iterator[None]:
    """While no one else handles SIGTERM, let it unwind the stack instead of killing at once."""
    in_main = threading.current_thread() is threading.main_thread()
    if not in_main or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextlib.contextmanager
def running_swift(
    *, workdir: Path | None = None, https: bool = False, timeout: float = 60
) -> Iterator[SwiftServer]:
    """Runs Swift with its S3 API for the duration of a ``with`` block.

    Args:
        workdir, https, timeout: as for ``start_swift``.

    Returns:
        A context manager giving the ``SwiftServer``; every process stops on exit, and on
        SIGTERM when the caller has not set a handler of its own.

    Raises:
        SwiftStartError: as for ``start_swift``.
    """
    with _sigterm_stops_swift():
        server = start_swift(workdir=workdir, https=https, timeout=timeout)
        try:
            yield server
        finally:
            stop_swift(server)


# ---------------------------------------------------------------- command line


def server_env(server: SwiftServer) -> dict[str, str]:
    """The environment variables that point a test run at a server.

    Args:
        server: a running server.

    Returns:
        ``AWS_ENDPOINT_URL``, the key pair, ``AWS_REGION``, ``RAWS3_TEST_SERVER=external``,
        and with HTTPS also ``RAWS3_SWIFT_HTTPS_ENDPOINT`` and ``RAWS3_SWIFT_CA_FILE``.
    """
    env = {
        "AWS_ENDPOINT_URL": server.endpoint,
        "AWS_ACCESS_KEY_ID": server.access_key,
        "AWS_SECRET_ACCESS_KEY": server.secret_key,
        "AWS_REGION": server.region,
        "RAWS3_TEST_SERVER": "external",
    }
    if server.https_endpoint is not None and server.ca_file is not None:
        env["RAWS3_SWIFT_HTTPS_ENDPOINT"] = server.https_endpoint
        env["RAWS3_SWIFT_CA_FILE"] = str(server.ca_file)
    return env


def _command_run(command: Sequence[str], https: bool) -> int:
    if not command:
        print("swift run: give a command after --", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _raise_terminated)
    with running_swift(https=https) as server:
        env = {**os.environ, **server_env(server)}
        print(f"swift: {server.endpoint} ({server.workdir})", file=sys.stderr, flush=True)
        try:
            code = subprocess.call(list(command), env=env)
        except OSError as exc:
            print(f"swift run: cannot run {command[0]}: {exc.strerror}", file=sys.stderr)
            return 127
    return code if code >= 0 else 128 - code


def _round_trip(server: SwiftServer, endpoint: str, verify: str | bool) -> None:
    boto3 = importlib.import_module("boto3")
    config_class = importlib.import_module("botocore.config").Config
    options: dict[str, object] = {"signature_version": "s3v4", "s3": {"addressing_style": "path"}}
    # botocore >= 1.36 may send checksum trailers in aws-chunked bodies, which s3api
    # answers 501; only ask for checksums where S3 requires them.
    if "request_checksum_calculation" in config_class.OPTION_DEFAULTS:
        options["request_checksum_calculation"] = "when_required"
    client = boto3.client(
        "s3", endpoint_url=endpoint, region_name=server.region, verify=verify,
        aws_access_key_id=server.access_key, aws_secret_access_key=server.secret_key,
        config=config_class(**options),
    )
    bucket = f"check-{uuid.uuid4().hex[:12]}"
    body = os.urandom(1024 * 1024)
    client.create_bucket(Bucket=bucket)
    client.put_object(Bucket=bucket, Key="dir/a b+c.bin", Body=body)
    got = client.get_object(Bucket=bucket, Key="dir/a b+c.bin")["Body"].read()
    if got != body:
        raise RuntimeError("GetObject returned other bytes than PutObject stored")


def _command_check(https: bool) -> int:
    started = time.monotonic()
    server = start_swift(https=https)
    up = time.monotonic()
    print(f"started in {up - started:.2f} s: {server.endpoint} {server.https_endpoint or ''}")
    try:
        if importlib.util.find_spec("boto3") is None:
            print("boto3 not importable: round trip skipped")
        else:
            _round_trip(server, server.endpoint, True)
            if server.https_endpoint is not None and server.ca_file is not None:
                _round_trip(server, server.https_endpoint, str(server.ca_file))
            print(f"PutObject/GetObject round trip in {time.monotonic() - up:.2f} s")
    finally:
        before_stop = time.monotonic()
        stop_swift(server)
        print(f"stopped in {time.monotonic() - before_stop:.2f} s")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry: ``run [--https] -- CMD...`` or ``check [--https]``.

    Args:
        argv: the arguments after the program name (``sys.argv[1:]`` when None).

    Returns:
        The exit status: CMD's for ``run``, 1 when Swift did not start, 128 + N on signal N.
    """
    parser = argparse.ArgumentParser(prog="python -m tests.servers.swift", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="action", required=True)
    run = commands.add_parser("run", help="start Swift, run a command against it, stop Swift")
    run.add_argument("--https", action="store_true", help="also serve HTTPS")
    run.add_argument("command", nargs=argparse.REMAINDER, help="-- CMD ARGS...")
    check = commands.add_parser("check", help="start, do one PUT/GET round trip, stop")
    check.add_argument("--https", action="store_true", help="also serve HTTPS")
    args = parser.parse_args(argv)
    try:
        if args.action == "run":
            command = args.command[1:] if args.command[:1] == ["--"] else args.command
            return _command_run(command, args.https)
        return _command_check(args.https)
    except SwiftStartError as exc:
        print(exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 128 + signal.SIGINT
    except _TerminatedError:
        return 128 + signal.SIGTERM


if __name__ == "__main__":
    sys.exit(main())
