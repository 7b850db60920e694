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

import contextlib
import functools
import os
import pwd
import shutil
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers import processes
from tests.servers.processes import Deadline

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
STOP_SECONDS = 10.0
# Swift retries a busy port for bind_timeout seconds (30 by default) before giving up;
# a port taken between choosing and binding is better answered by new ports at once.
BIND_TIMEOUT_SECONDS = 2
PORT_IN_USE = ("Address already in use", "Could not bind")
REQUIRED_PROGRAMS = (
    "memcached", "swift-account-server", "swift-container-server", "swift-object-server",
    "swift-proxy-server",
)


class SwiftStartError(processes.StartError):
    """Swift (or memcached under it) did not come up."""

    server = "Swift"


class SwiftServer(processes.Server):
    """A running Swift proxy with the S3 API; the attributes are those of ``Server``.

    ``access_key`` is tempauth's ``account:user``, ``region`` the only one s3api accepts in
    signatures, and ``workdir`` is removed by ``stop_swift``.
    """


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
class _Layout(processes.RunDir):
    """Where everything of one run lives; all paths are under ``root``."""

    @property
    def etc(self) -> Path:
        return self.root / "etc"

    @property
    def devices(self) -> Path:
        return self.root / "srv"

    def conf(self, name: str) -> Path:
        return self.etc / f"{name}-server.conf"

    def swift_dir(self, name: str) -> Path:
        """Each proxy builds its own copy of the rings, so the two can start at once."""
        return self.etc / "https" if name == "proxy-https" else self.etc

    def log(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"


@dataclass
class _Run:
    """One start attempt: its files, its ports and the processes started so far."""

    layout: _Layout
    ports: _Ports
    https: bool
    started: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)


# ---------------------------------------------------------------- configuration


def _free_ports() -> _Ports:
    return _Ports(*processes.free_ports(6))


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
        layout.conf(name).write_text(processes.render_conf(_backend_conf(layout, ports, name)))
    for name in _proxies(https):
        layout.conf(name).write_text(processes.render_conf(_proxy_conf(layout, ports, name)))



def _check_xattrs(layout: _Layout) -> None:
    """The object server keeps metadata in user xattrs; without them every PUT fails."""
    probe = layout.devices / DEVICE / "xattr-probe"
    probe.touch()
    try:
        os.setxattr(probe, "user.raws3", b"1")
    except OSError as exc:
        raise SwiftStartError.step(
            f"{layout.root} has no user xattrs ({exc.strerror}); "
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



def _spawn(run: _Run, name: str, cmd: Sequence[str]) -> None:
    # Every address is an IP: eventlet's green DNS resolver, a quarter of a second of
    # imports in each server, would never be used.
    env = {**os.environ, "EVENTLET_NO_GREENDNS": "yes"}
    run.started[name] = processes.spawn(cmd, run.layout.log(name), run.layout.root, env)


def _fail(what: str, run: _Run, name: str) -> SwiftStartError:
    return SwiftStartError.step(what, run.layout.log(name))


def _wait_for(ready: Callable[[], bool], run: _Run, name: str, what: str,
              deadline: Deadline) -> None:
    """Polls ``ready`` until true; fails early when the process ``name`` has exited."""
    def ended() -> str | None:
        code = run.started[name].poll()
        return None if code is None else f"{name} exited ({code})"

    processes.wait_for(ready, what, deadline, ended, SwiftStartError, run.layout.log(name))


# ---------------------------------------------------------------- readiness


def _healthy(port: int, context: ssl.SSLContext | None = None) -> bool:
    return processes.answers_ok(port, "/healthcheck", context)


def _check_auth(run: _Run, deadline: Deadline) -> None:
    """One tempauth login and one account HEAD: memcached, tempauth and the account ring work."""
    login = processes.request(run.ports.proxy, "GET", "/auth/v1.0",
                              {"X-Storage-User": ACCESS_KEY, "X-Storage-Pass": SECRET_KEY})
    token = login.getheader("X-Auth-Token") if login is not None else None
    if login is None or login.status != 200 or not token:
        status = login.status if login is not None else "no answer"
        raise _fail(f"tempauth login as {ACCESS_KEY} gave {status}", run, "proxy")
    account = ACCESS_KEY.split(":")[0]
    head = processes.request(run.ports.proxy, "HEAD", f"/v1/AUTH_{account}",
                             {"X-Auth-Token": token})
    if head is None or head.status // 100 != 2:
        status = head.status if head is not None else "no answer"
        raise _fail(f"HEAD of the account gave {status}", run, "proxy")


# ---------------------------------------------------------------- start-up


def _check_programs(https: bool) -> None:
    needed = (*REQUIRED_PROGRAMS, "openssl") if https else REQUIRED_PROGRAMS
    missing = processes.missing_programs(needed)
    if missing:
        raise SwiftStartError.step(
            f"not on PATH: {', '.join(missing)}; install the Debian "
            "packages swift, swift-proxy, swift-account, swift-container, swift-object and "
            "memcached" + (" (and openssl for https)" if https else "")
        )
    if not SWIFT_CONF.is_file():
        raise SwiftStartError.step(f"no {SWIFT_CONF}; reinstall the package swift")


def _boot(run: _Run, deadline: Deadline) -> None:
    layout, ports = run.layout, run.ports
    _write_files(layout, ports, run.https)
    _check_xattrs(layout)
    if run.https:
        processes.make_certificate(layout, deadline, SwiftStartError)
    memcached = ["memcached", "-l", "127.0.0.1", "-p", str(ports.memcached), "-U", "0",
                 "-m", "64"]
    if os.getuid() == 0:
        memcached += ["-u", "root"]
    _spawn(run, "memcached", memcached)
    for name in _proxies(run.https):
        _spawn(run, name, _proxy_command(layout, ports, name))
    for name in BACKENDS:
        _spawn(run, name, [f"swift-{name}-server", str(layout.conf(name)), "--verbose"])
    _wait_for(lambda: processes.port_open(ports.memcached), run, "memcached", "memcached",
              deadline)
    for name in (*BACKENDS, "proxy"):
        _wait_for(functools.partial(_healthy, ports.of(name)), run, name,
                  f"the {name} server's healthcheck", deadline)
    if run.https:
        context = ssl.create_default_context(cafile=str(layout.cert))
        _wait_for(functools.partial(_healthy, ports.proxy_https, context), run, "proxy-https",
                  "the HTTPS proxy's healthcheck", deadline)
    _check_auth(run, deadline)


# Runs by directory, so that stop_swift finds the processes a SwiftServer does not hold.
_RUNS: dict[Path, _Run] = {}
_RUNS_LOCK = threading.Lock()


def _boot_in(root: Path, https: bool, deadline: Deadline) -> SwiftServer:
    run = _Run(_Layout(root), _free_ports(), https)
    with _RUNS_LOCK:
        _RUNS[root] = run
    _boot(run, deadline)
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
    """Kills every process group of the run at ``root`` and removes the directory."""
    with _RUNS_LOCK:
        run = _RUNS.pop(root, None)
    left = processes.kill_groups(run.started, STOP_SECONDS) if run is not None else []
    shutil.rmtree(root, ignore_errors=True)
    if left:
        raise RuntimeError(f"Swift processes still running after SIGKILL: {', '.join(left)}")


# ---------------------------------------------------------------- public API


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
    boot = functools.partial(_boot_in, https=https, deadline=Deadline(timeout))

    def start_once() -> SwiftServer:
        return processes.in_new_dir("raws3-swift-", workdir, boot, _stop_run)

    return processes.start_with_retries(start_once, SwiftStartError, PORT_IN_USE)


def stop_swift(server: SwiftServer) -> None:
    """Stops every process of ``server`` and removes its directory.

    Args:
        server: what ``start_swift`` returned. Stopping twice is harmless.

    Raises:
        RuntimeError: a process was still alive after being killed.
    """
    _stop_run(server.workdir)


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
    with processes.sigterm_interrupts():
        server = start_swift(workdir=workdir, https=https, timeout=timeout)
        try:
            yield server
        finally:
            stop_swift(server)


# ---------------------------------------------------------------- command line

# Spelled out so that a search finds where they come from: with --https, ``run`` also hands
# CMD RAWS3_SWIFT_HTTPS_ENDPOINT and RAWS3_SWIFT_CA_FILE.
LAUNCHER = processes.Launcher(name="swift", title="Swift", doc=__doc__, start=start_swift,
                              stop=stop_swift, error=SwiftStartError, env_prefix="RAWS3_SWIFT")
server_env = LAUNCHER.server_env
main = LAUNCHER.main

if __name__ == "__main__":
    sys.exit(main())
