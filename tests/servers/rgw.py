"""A throw-away Ceph RADOS Gateway (RGW) for integration tests and benchmarks.

One monitor, one memstore OSD and one gateway, all bound to 127.0.0.1, with every
file they write (config, data, logs, pid files, admin sockets) under one temporary
directory. Ports are chosen free at start, so parallel or leftover runs never collide.

Usage from Python::

    with running_rgw() as server:
        ...  # server.endpoint, server.access_key, server.secret_key

Usage from a shell (from the repository root)::

    python -m tests.servers.rgw run [--https] -- pytest -m integration
    python -m tests.servers.rgw check [--https]

Needs the Debian packages ``radosgw``, ``ceph-mon`` and ``ceph-osd`` (Ceph 16.2).
Set ``RAWS3_RGW_DEBUG`` (a level such as ``20``) to get a verbose gateway log.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.servers import processes
from tests.servers.processes import Deadline

REGION = "us-east-1"
DEFAULT_ACCESS_KEY = "rawS3testkey"
DEFAULT_SECRET_KEY = "rawS3testsecret/abc+XYZ"
DEBUG_ENV = "RAWS3_RGW_DEBUG"
GATEWAY_NAME = "client.rgw.raws3"
MON_ID = "a"
OSD_ID = "0"
MEMSTORE_BYTES = 6 * 1024**3
STOP_SECONDS = 15.0
TIMEOUT_EXIT = 124  # what timeout(1) exits with when the time ran out
PORT_IN_USE = "Address already in use"
REQUIRED_PROGRAMS = (
    "ceph", "ceph-mon", "ceph-osd", "monmaptool", "radosgw", "radosgw-admin", "timeout", "openssl",
)

# Daemon names as they appear in pid file names, gateway first so that it stops
# before the cluster it talks to.
DAEMONS = (GATEWAY_NAME, f"osd.{OSD_ID}", f"mon.{MON_ID}")


class RGWStartError(processes.StartError):
    """The gateway (or the small cluster under it) did not come up."""

    server = "Ceph RGW"


class RGWServer(processes.Server):
    """A running gateway and how to reach it; the attributes are those of ``Server``.

    ``workdir`` is removed by ``stop_rgw``.
    """


@dataclass(frozen=True)
class _Ports:
    mon_v1: int
    mon_v2: int
    http: int
    https: int


@dataclass(frozen=True)
class _Layout(processes.RunDir):
    """Where everything of one run lives; all paths are under ``root``."""

    @property
    def conf(self) -> Path:
        return self.root / "ceph.conf"

    @property
    def run_dir(self) -> Path:
        return self.root / "run"

    @property
    def monmap(self) -> Path:
        return self.root / "monmap"

    @property
    def keyring(self) -> Path:
        return self.root / "keyring"

    def log(self, name: str) -> Path:
        return self.log_dir / f"ceph-{name}.log"

    def pid_file(self, name: str) -> Path:
        return self.run_dir / f"ceph-{name}.pid"

    def own_args(self) -> tuple[str, str]:
        """Arguments that every daemon of this run, and only of this run, is started with."""
        return ("--conf", str(self.conf))

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["CEPH_CONF"] = str(self.conf)
        env.pop("CEPH_ARGS", None)
        return env


# ---------------------------------------------------------------- configuration


def _free_ports() -> _Ports:
    return _Ports(*processes.free_ports(4))


def _mon_addrs(ports: _Ports) -> str:
    return f"[v2:127.0.0.1:{ports.mon_v2},v1:127.0.0.1:{ports.mon_v1}]"


def _debug_level() -> str:
    level = os.environ.get(DEBUG_ENV, "")
    if not level:
        return "0"
    return level if level.isdigit() else "20"


def _frontends(layout: _Layout, ports: _Ports, https: bool) -> str:
    value = f"beast endpoint=127.0.0.1:{ports.http}"
    if https:
        value += (
            f" ssl_endpoint=127.0.0.1:{ports.https}"
            f" ssl_certificate={layout.cert} ssl_private_key={layout.key}"
        )
    return value


def _conf_sections(
    layout: _Layout, ports: _Ports, fsid: str, https: bool
) -> dict[str, dict[str, str]]:
    root = layout.root
    return {
        "global": {
            "fsid": fsid,
            "mon_host": _mon_addrs(ports),
            # RADOS-internal auth only; S3 signatures are checked by the gateway regardless.
            "auth_cluster_required": "none",
            "auth_service_required": "none",
            "auth_client_required": "none",
            # Without it the gateway loops on "get_initial_auth_request returned -13".
            "ms_mon_client_mode": "crc secure",
            "run_dir": str(layout.run_dir),
            "log_file": str(layout.log_dir / "$cluster-$name.log"),
            "crash_dir": str(root / "crash"),
            # Never created (auth is off); it keeps the tools away from /etc/ceph.
            "keyring": str(layout.keyring),
            # A single OSD: size-1 pools, placement across OSDs not hosts, and no
            # manager to autoscale, so few placement groups per pool.
            "osd_pool_default_size": "1",
            "osd_pool_default_min_size": "1",
            "mon_allow_pool_size_one": "true",
            "osd_crush_chooseleaf_type": "0",
            "osd_pool_default_pg_num": "8",
            "osd_pool_default_pgp_num": "8",
            "osd_pool_default_pg_autoscale_mode": "off",
        },
        "mon": {
            "mon_data": str(root / "mon" / "$cluster-$id"),
            "mon_cluster_log_file": str(layout.log_dir / "$cluster.log"),
            "pid_file": str(layout.run_dir / "$cluster-$name.pid"),
            # Cuts the first osdmap/pool commits from seconds to milliseconds.
            "paxos_propose_interval": "0.01",
            "paxos_min_wait": "0.001",
        },
        "osd": {
            "osd_data": str(root / "osd" / "$cluster-$id"),
            "pid_file": str(layout.run_dir / "$cluster-$name.pid"),
            "public_addr": "127.0.0.1",
            "cluster_addr": "127.0.0.1",
            "osd_objectstore": "memstore",
            "memstore_device_bytes": str(MEMSTORE_BYTES),
        },
        GATEWAY_NAME: {
            "rgw_frontends": _frontends(layout, ports, https),
            "rgw_data": str(root / "rgw"),
            "pid_file": str(layout.run_dir / "$cluster-$name.pid"),
            # Deleted objects are freed within seconds instead of hours.
            "rgw_gc_obj_min_wait": "10",
            "rgw_gc_processor_period": "10",
            "debug_rgw": _debug_level(),
        },
    }



def _make_dirs(layout: _Layout) -> None:
    for sub in ("log", "run", "crash", "rgw", "mon", f"osd/ceph-{OSD_ID}"):
        (layout.root / sub).mkdir(parents=True, exist_ok=True)


# ---------------------------------------------------------------- processes


def _fail(what: str, layout: _Layout, name: str, output: str = "") -> RGWStartError:
    return RGWStartError.step(what, layout.log(name), output)


def _run(cmd: Sequence[str], layout: _Layout, deadline: Deadline, name: str) -> str:
    """Runs a short command; returns its stdout or raises with its output and log."""
    try:
        done = subprocess.run(
            cmd,
            env=layout.env(),
            capture_output=True,
            text=True,
            timeout=deadline.left(),
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise _fail(f"{' '.join(cmd[:3])} timed out", layout, name) from exc
    if done.returncode != 0:
        raise _fail(f"{' '.join(cmd[:3])} exited {done.returncode}", layout, name,
                    done.stdout + done.stderr)
    return done.stdout


def _start_daemon(cmd: Sequence[str], layout: _Layout, deadline: Deadline, name: str) -> None:
    """Starts a forking daemon under ``timeout``.

    Output goes to a file, not a pipe: the forked daemon keeps the inherited
    descriptors open for a while, and reading a pipe would wait for it.
    """
    seconds = f"{deadline.left():.1f}"
    out_path = layout.log_dir / f"start-{name}.out"
    with out_path.open("wb") as out:
        code = subprocess.call(
            ["timeout", "--kill-after=5", seconds, *cmd, *layout.own_args()],
            env=layout.env(),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    if code != 0:
        what = "timed out" if code == TIMEOUT_EXIT else f"exited {code}"
        output = out_path.read_text(errors="replace")
        raise _fail(f"{cmd[0]} start {what}", layout, name, output)
    _wait_for_pid_file(layout, deadline, name)


def _wait_for_pid_file(layout: _Layout, deadline: Deadline, name: str) -> None:
    """Waits until the daemon's pid file names a live process.

    radosgw's starting process exits as soon as it has forked, before the daemon
    writes its pid file; until then "no pid file" does not mean "exited".
    """
    while not _daemon_alive(layout, name):
        if deadline.expired():
            raise _fail(f"{name} wrote no pid file", layout, name)
        time.sleep(processes.POLL_SECONDS / 5)


def _read_pid(layout: _Layout, name: str) -> int | None:
    try:
        return int(layout.pid_file(name).read_text().strip())
    except (OSError, ValueError):
        return None


def _daemon_alive(layout: _Layout, name: str) -> bool:
    pid = _read_pid(layout, name)
    return pid is not None and processes.is_running(pid)


def _wait_for(ready: Callable[[], bool], layout: _Layout, deadline: Deadline, name: str,
              what: str) -> None:
    """Polls ``ready`` until true; fails early if the daemon ``name`` died."""
    def ended() -> str | None:
        return None if _daemon_alive(layout, name) else f"{name} exited"

    processes.wait_for(ready, what, deadline, ended, RGWStartError, layout.log(name))


def _osd_up(layout: _Layout, deadline: Deadline) -> bool:
    out = _run(["ceph", "osd", "dump", "--format", "json"], layout, deadline, f"osd.{OSD_ID}")
    osds = json.loads(out).get("osds", [])
    return any(osd.get("osd") == int(OSD_ID) and osd.get("up") == 1 for osd in osds)


# ---------------------------------------------------------------- start-up steps


def _start_mon(layout: _Layout, ports: _Ports, fsid: str, deadline: Deadline) -> None:
    name = f"mon.{MON_ID}"
    _run(["monmaptool", "--create", "--fsid", fsid, "--addv", MON_ID, _mon_addrs(ports),
          str(layout.monmap)], layout, deadline, name)
    _run(["ceph-mon", "--mkfs", "-i", MON_ID, "--monmap", str(layout.monmap),
          *layout.own_args()], layout, deadline, name)
    _start_daemon(["ceph-mon", "-i", MON_ID], layout, deadline, name)
    _wait_for(lambda: processes.port_open(ports.mon_v1), layout, deadline, name,
              "the monitor port")


def _start_osd(layout: _Layout, deadline: Deadline) -> None:
    name = f"osd.{OSD_ID}"
    osd_uuid = str(uuid.uuid4())
    _run(["ceph", "osd", "new", osd_uuid, OSD_ID], layout, deadline, f"mon.{MON_ID}")
    _run(["ceph-osd", "-i", OSD_ID, "--mkfs", "--osd-uuid", osd_uuid, *layout.own_args()],
         layout, deadline, name)
    _start_daemon(["ceph-osd", "-i", OSD_ID], layout, deadline, name)
    _wait_for(lambda: _osd_up(layout, deadline), layout, deadline, name, "osd.0 up")


def _start_gateway(layout: _Layout, ports: _Ports, https: bool, deadline: Deadline) -> None:
    _start_daemon(["radosgw", "-n", GATEWAY_NAME], layout, deadline, GATEWAY_NAME)
    _wait_for(lambda: processes.answers_ok(ports.http, "/"), layout, deadline, GATEWAY_NAME,
              "HTTP 200 from the gateway")
    if https:
        context = ssl.create_default_context(cafile=str(layout.cert))
        _wait_for(lambda: processes.answers_ok(ports.https, "/", context), layout, deadline,
                  GATEWAY_NAME, "HTTPS 200 from the gateway")


def _create_user(layout: _Layout, access_key: str, secret_key: str,
                 deadline: Deadline) -> None:
    out = _run(
        ["radosgw-admin", "user", "create", "--uid", "raws3", "--display-name", "rawS3 tests",
         "--access-key", access_key, "--secret-key", secret_key, "-n", GATEWAY_NAME],
        layout, deadline, GATEWAY_NAME,
    )
    keys = json.loads(out).get("keys", [])
    if {"access_key": access_key, "secret_key": secret_key, "user": "raws3"} not in keys:
        raise _fail("radosgw-admin stored different keys than asked", layout, GATEWAY_NAME)


def _check_programs() -> None:
    missing = processes.missing_programs(REQUIRED_PROGRAMS)
    if missing:
        raise RGWStartError.step(
            f"not on PATH: {', '.join(missing)}; install the Debian "
            "packages radosgw, ceph-mon and ceph-osd"
        )


def _boot(root: Path, https: bool, keys: tuple[str, str], deadline: Deadline) -> RGWServer:
    layout, ports, fsid = _Layout(root), _free_ports(), str(uuid.uuid4())
    _make_dirs(layout)
    layout.conf.write_text(processes.render_conf(_conf_sections(layout, ports, fsid, https)))
    if https:
        # RSA, as the gateway has always been given; Swift's proxy gets a faster EC key.
        processes.make_certificate(layout, deadline, RGWStartError, processes.RSA_KEY)
    _start_mon(layout, ports, fsid, deadline)
    _start_osd(layout, deadline)
    _start_gateway(layout, ports, https, deadline)
    _create_user(layout, keys[0], keys[1], deadline)
    return RGWServer(
        endpoint=f"http://127.0.0.1:{ports.http}",
        access_key=keys[0],
        secret_key=keys[1],
        region=REGION,
        workdir=root,
        ca_file=layout.cert if https else None,
        https_endpoint=f"https://127.0.0.1:{ports.https}" if https else None,
    )


# ---------------------------------------------------------------- stopping


def _started_here(layout: _Layout) -> list[int]:
    """Live daemons of this run: by pid file, and by this run's own config path.

    The second look only matters when start-up was interrupted between a daemon's
    fork and its pid file; the config path is unique to this run, so nothing
    else can match.
    """
    own = layout.own_args()
    pids = {pid for pid in (_read_pid(layout, name) for name in DAEMONS) if pid}
    pids |= processes.pids_running_with(own)
    return [pid for pid in pids if processes.is_running(pid) and processes.runs_with(pid, own)]


def _stop_layout(layout: _Layout) -> None:
    """Kills each daemon of this run by its pid and removes the run's directory.

    SIGKILL, not SIGTERM: the data is thrown away anyway, and a memstore OSD that
    shuts down cleanly first writes its whole in-memory store to disk.
    """
    left = processes.kill_pids(_started_here(layout), STOP_SECONDS)
    shutil.rmtree(layout.root, ignore_errors=True)
    if left:
        raise RuntimeError(f"Ceph daemons still running after SIGKILL: {left}")


# ---------------------------------------------------------------- public API


def start_rgw(
    *,
    workdir: Path | None = None,
    https: bool = False,
    access_key: str = DEFAULT_ACCESS_KEY,
    secret_key: str = DEFAULT_SECRET_KEY,
    timeout: float = 90,
) -> RGWServer:
    """Starts a monitor, a memstore OSD and a gateway with one S3 user.

    Args:
        workdir: directory in which a fresh temporary directory is made for this run
            (the system temp dir when None). Everything the daemons write goes there.
        https: also serve HTTPS with a self-signed certificate for 127.0.0.1/localhost.
        access_key: the S3 access key of the user created.
        secret_key: its secret key.
        timeout: seconds the whole start-up may take.

    Returns:
        The running server; pass it to ``stop_rgw`` when done.

    Raises:
        RGWStartError: a program is missing or a step failed; the message holds the
            tail of the log of the daemon concerned. Nothing is left running.
    """
    _check_programs()
    boot = functools.partial(_boot, https=https, keys=(access_key, secret_key),
                             deadline=Deadline(timeout))

    def start_once() -> RGWServer:
        return processes.in_new_dir("raws3-rgw-", workdir, boot,
                                    lambda root: _stop_layout(_Layout(root)))

    return processes.start_with_retries(start_once, RGWStartError, (PORT_IN_USE,))


def stop_rgw(server: RGWServer) -> None:
    """Stops the daemons of ``server`` and removes its directory.

    Args:
        server: what ``start_rgw`` returned. Stopping twice is harmless.

    Raises:
        RuntimeError: a daemon was still alive after being killed.
    """
    _stop_layout(_Layout(server.workdir))


def collect_garbage(server: RGWServer, timeout: float = 60) -> None:
    """Frees the data of deleted objects now instead of after ``rgw_gc_obj_min_wait``.

    Benchmarks call it between runs: memory memstore has been given back is reused quickly,
    while runs that came after a pile-up of deleted objects took up to twice the server CPU.

    Args:
        server: a running server.
        timeout: seconds to allow ``radosgw-admin gc process``.

    Raises:
        subprocess.CalledProcessError: radosgw-admin failed.
        subprocess.TimeoutExpired: it took longer than ``timeout``.
    """
    subprocess.run(
        ["radosgw-admin", "gc", "process", "--include-all", "-n", GATEWAY_NAME],
        env=_Layout(server.workdir).env(), capture_output=True, check=True, timeout=timeout,
    )


@contextlib.contextmanager
def running_rgw(
    *,
    workdir: Path | None = None,
    https: bool = False,
    access_key: str = DEFAULT_ACCESS_KEY,
    secret_key: str = DEFAULT_SECRET_KEY,
    timeout: float = 90,
) -> Iterator[RGWServer]:
    """Runs a gateway for the duration of a ``with`` block.

    Args:
        workdir, https, access_key, secret_key, timeout: as for ``start_rgw``.

    Returns:
        A context manager giving the ``RGWServer``; the gateway stops on exit.

    Raises:
        RGWStartError: as for ``start_rgw``.
    """
    server = start_rgw(workdir=workdir, https=https, access_key=access_key,
                       secret_key=secret_key, timeout=timeout)
    try:
        yield server
    finally:
        stop_rgw(server)


# ---------------------------------------------------------------- command line

# Spelled out so that a search finds where they come from: with --https, ``run`` also hands
# CMD RAWS3_RGW_HTTPS_ENDPOINT and RAWS3_RGW_CA_FILE.
LAUNCHER = processes.Launcher(name="rgw", title="RGW", doc=__doc__, start=start_rgw,
                              stop=stop_rgw, error=RGWStartError, env_prefix="RAWS3_RGW")
server_env = LAUNCHER.server_env
main = LAUNCHER.main

if __name__ == "__main__":
    sys.exit(main())
