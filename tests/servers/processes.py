"""What the throw-away servers of this package (``rgw``, ``swift``) need besides the server.

Each launcher keeps its configs, its start order and its users; this module holds the rest:
a start-up budget, free ports, readiness polls, the temporary directory of a run, starting
and stopping processes (always by their own pid, never by name), a self-signed certificate,
and the ``python -m tests.servers.NAME run [--https] -- CMD`` / ``check [--https]`` command line.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import http.client
import importlib
import importlib.util
import os
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
from typing import Generic, TypeVar

LOG_TAIL_LINES = 40
POLL_SECONDS = 0.05
PORT_ATTEMPTS = 3
PR_SET_PDEATHSIG = 1
# Arguments of ``openssl req -newkey``. EC keys are made in milliseconds, RSA keys take a
# noticeable part of a second.
EC_KEY = ("ec", "-pkeyopt", "ec_paramgen_curve:prime256v1")
RSA_KEY = ("rsa:2048",)

T = TypeVar("T")
E = TypeVar("E", bound="StartError")
S = TypeVar("S", bound="Server")


class StartError(RuntimeError):
    """A server, or a process under it, did not come up."""

    # How messages start: "<server> start failed: ...".
    server = "server"

    @classmethod
    def step(cls: type[E], what: str, log: Path | None = None, output: str = "") -> E:
        """The error for a failed start-up step, with what helps to see why.

        Args:
            what: the step and how it failed.
            log: the log of the process concerned; its tail is added.
            output: what the step printed, added when not blank.

        Returns:
            An instance of ``cls``, to raise.
        """
        parts = [f"{cls.server} start failed: {what}"]
        if output.strip():
            parts.append(f"--- output ---\n{output.strip()}")
        if log is not None:
            parts.append(f"--- tail of {log} ---\n{tail(log)}")
        return cls("\n".join(parts))


@dataclass(frozen=True)
class Server:
    """A running S3 server and how to reach it.

    Attributes:
        endpoint: ``http://127.0.0.1:PORT``; use path-style addressing.
        access_key: the S3 access key.
        secret_key: its secret key (left out of ``repr``).
        region: the region to sign for.
        workdir: the directory holding everything of this run; removed when it stops.
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
class RunDir:
    """The temporary directory of one run: logs and the certificate live at fixed places."""

    root: Path

    @property
    def log_dir(self) -> Path:
        return self.root / "log"

    @property
    def cert(self) -> Path:
        return self.root / "tls" / "cert.pem"

    @property
    def key(self) -> Path:
        return self.root / "tls" / "key.pem"


class Deadline:
    """The time left of the overall start-up budget."""

    def __init__(self, seconds: float) -> None:
        self._end = time.monotonic() + seconds

    def left(self) -> float:
        return max(0.1, self._end - time.monotonic())

    def expired(self) -> bool:
        return time.monotonic() >= self._end


# ---------------------------------------------------------------- files and ports


def free_ports(count: int) -> list[int]:
    """Ports free right now; all sockets are held at once so that they differ."""
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports.append(int(sock.getsockname()[1]))
    return ports


def render_conf(sections: Mapping[str, Mapping[str, str]]) -> str:
    """INI text, which Ceph and Swift (paste.deploy) both read."""
    lines: list[str] = []
    for name, options in sections.items():
        lines.append(f"[{name}]")
        lines.extend(f"{key} = {value}" for key, value in options.items())
        lines.append("")
    return "\n".join(lines)


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no {path.name})"
    return "\n".join(text.splitlines()[-lines:]) or "(empty)"


def missing_programs(names: Sequence[str]) -> list[str]:
    return [name for name in names if shutil.which(name) is None]


def make_certificate(run_dir: RunDir, deadline: Deadline, error: type[StartError],
                     key_type: Sequence[str] = EC_KEY) -> None:
    """A self-signed certificate for 127.0.0.1 and localhost, at ``run_dir.cert``."""
    run_dir.cert.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        "openssl", "req", "-x509", "-newkey", *key_type, "-nodes", "-sha256",
        "-days", "7", "-subj", "/CN=127.0.0.1",
        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        "-keyout", str(run_dir.key), "-out", str(run_dir.cert),
    ]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=deadline.left(),
                              check=False)
    except subprocess.TimeoutExpired as exc:
        raise error.step("openssl req timed out") from exc
    if done.returncode != 0:
        raise error.step(f"openssl req exited {done.returncode}", output=done.stderr)


# ---------------------------------------------------------------- start-up


def start_with_retries(start_once: Callable[[], T], error: type[StartError],
                       port_in_use: Sequence[str]) -> T:
    """Calls ``start_once`` again, with new ports, when a port was taken under it.

    A port found free can be taken by someone else before a server binds it; ``port_in_use``
    are the phrases by which a failure message tells that this is what happened.
    """
    for attempt in range(1, PORT_ATTEMPTS + 1):
        try:
            return start_once()
        except error as exc:
            if attempt == PORT_ATTEMPTS or not any(phrase in str(exc) for phrase in port_in_use):
                raise
    raise AssertionError("unreachable")


def in_new_dir(prefix: str, workdir: Path | None, boot: Callable[[Path], T],
               stop: Callable[[Path], None]) -> T:
    """Runs ``boot`` in a fresh temporary directory; a failed boot is stopped and removed.

    ``stop`` must kill what ``boot`` started and remove the directory. It also runs when
    Ctrl-C, or a SIGTERM turned into an exception, interrupts the boot, so that an
    interrupted start leaves nothing behind.
    """
    root = Path(tempfile.mkdtemp(prefix=prefix, dir=workdir))
    try:
        return boot(root)
    except BaseException:
        stop(root)
        raise


def wait_for(ready: Callable[[], bool], what: str, deadline: Deadline,
             ended: Callable[[], str | None], error: type[StartError], log: Path) -> None:
    """Polls ``ready`` until true.

    Args:
        ready: the check, cheap enough to run every ``POLL_SECONDS``.
        what: what is waited for, for the message.
        deadline: the start-up budget.
        ended: None while the process that should get ready runs, else how it ended; a
            dead process fails at once instead of at the deadline.
        error: the launcher's error class.
        log: the log of that process, whose tail the error shows.
    """
    while not ready():
        how = ended()
        if how is not None:
            raise error.step(f"{how} while waiting for {what}", log)
        if deadline.expired():
            raise error.step(f"timed out waiting for {what}", log)
        time.sleep(POLL_SECONDS)


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def request(port: int, method: str, path: str, headers: Mapping[str, str] | None = None,
            context: ssl.SSLContext | None = None) -> http.client.HTTPResponse | None:
    """One request to 127.0.0.1 (HTTPS with ``context``); None when nothing answered."""
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


def answers_ok(port: int, path: str, context: ssl.SSLContext | None = None) -> bool:
    response = request(port, "GET", path, context=context)
    return response is not None and response.status == 200


# ---------------------------------------------------------------- processes


def _die_with_parent() -> None:
    """Runs in the child before exec: a killed test run leaves no server behind."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def spawn(cmd: Sequence[str], log: Path, cwd: Path,
          env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """Starts a program that does not fork, in its own process group, output to ``log``.

    It gets SIGKILL when the thread that started it ends.
    """
    with log.open("ab") as out:
        return subprocess.Popen(
            list(cmd),
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            # Its own process group: a terminal's Ctrl-C reaches the harness, which stops
            # the servers in order, and the group is what is killed.
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )


def kill_groups(processes: Mapping[str, subprocess.Popen[bytes]], seconds: float) -> list[str]:
    """SIGKILL to the group of each process ``spawn`` started; returns those still alive.

    SIGKILL: the data is thrown away, so nothing needs a clean exit.
    """
    for process in processes.values():
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
    left = []
    for name, process in processes.items():
        try:
            process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            left.append(f"{name} ({process.pid})")
    return left


def is_running(pid: int) -> bool:
    """True while the process exists and is not a zombie (a zombie is gone for us)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    state = stat.rsplit(")", 1)[1].split()[0]
    return state not in ("Z", "X", "x")


def runs_with(pid: int, args: Sequence[str]) -> bool:
    """True when the command line of ``pid`` holds ``args`` in a row.

    With an argument unique to one run (a path in its directory), this tells that process
    from whatever else a stale pid file's number may now belong to.
    """
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return "".join(f"{arg}\0" for arg in args).encode() in cmdline


def pids_running_with(args: Sequence[str]) -> set[int]:
    return {
        int(entry.name) for entry in Path("/proc").iterdir()
        if entry.name.isdigit() and runs_with(int(entry.name), args)
    }


def kill_pids(pids: Sequence[int], seconds: float) -> list[int]:
    """SIGKILL to each pid, then waits for them to go; returns those still running."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    end = time.monotonic() + seconds
    while any(is_running(pid) for pid in pids) and time.monotonic() < end:
        time.sleep(POLL_SECONDS)
    return [pid for pid in pids if is_running(pid)]


# ---------------------------------------------------------------- signals


class TerminatedError(BaseException):
    """SIGTERM, turned into an exception so that ``finally`` blocks stop the server."""


def _raise_terminated(signum: int, frame: types.FrameType | None) -> None:
    raise TerminatedError


def _raise_interrupt(signum: int, frame: types.FrameType | None) -> None:
    # pytest aborts the session on KeyboardInterrupt and still runs fixture teardowns;
    # any other exception would only fail the test that happened to be running.
    raise KeyboardInterrupt


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
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


# ---------------------------------------------------------------- command line


@dataclass(frozen=True)
class Launcher(Generic[S]):
    """One kind of server as the command line and a test run's environment see it.

    Attributes:
        name: the module's name in ``tests.servers``, also the prefix of its messages.
        title: the server's name in help texts.
        doc: the module's docstring, shown by ``--help``.
        start: starts a server; takes ``https=``.
        stop: stops what ``start`` returned.
        error: what ``start`` raises when the server did not come up.
        env_prefix: of the HTTPS variables ``server_env`` sets, such as ``RAWS3_RGW``.
    """

    name: str
    title: str
    doc: str | None
    start: Callable[..., S]
    stop: Callable[[S], None]
    error: type[StartError]
    env_prefix: str

    def server_env(self, server: Server) -> dict[str, str]:
        """The environment variables that point a test run or a benchmark at ``server``.

        Args:
            server: a running server.

        Returns:
            ``AWS_ENDPOINT_URL``, the key pair, ``AWS_REGION``, ``RAWS3_TEST_SERVER=external``,
            and with HTTPS also ``{env_prefix}_HTTPS_ENDPOINT`` and ``{env_prefix}_CA_FILE``.
        """
        env = {
            "AWS_ENDPOINT_URL": server.endpoint,
            "AWS_ACCESS_KEY_ID": server.access_key,
            "AWS_SECRET_ACCESS_KEY": server.secret_key,
            "AWS_REGION": server.region,
            "RAWS3_TEST_SERVER": "external",
        }
        if server.https_endpoint is not None and server.ca_file is not None:
            env[f"{self.env_prefix}_HTTPS_ENDPOINT"] = server.https_endpoint
            env[f"{self.env_prefix}_CA_FILE"] = str(server.ca_file)
        return env

    def main(self, argv: Sequence[str] | None = None) -> int:
        """Command line entry: ``run [--https] -- CMD...`` or ``check [--https]``.

        Args:
            argv: the arguments after the program name (``sys.argv[1:]`` when None).

        Returns:
            The exit status: CMD's for ``run``, 1 when the server did not start, 128 + N on
            signal N.
        """
        args = _parser(self).parse_args(argv)
        try:
            if args.action == "run":
                command = args.command[1:] if args.command[:1] == ["--"] else args.command
                return _command_run(self, command, args.https)
            return _command_check(self, args.https)
        except self.error as exc:
            print(exc, file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            return 128 + signal.SIGINT
        except TerminatedError:
            return 128 + signal.SIGTERM


def _command_run(launcher: Launcher[S], command: Sequence[str], https: bool) -> int:
    if not command:
        print(f"{launcher.name} run: give a command after --", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _raise_terminated)
    server = launcher.start(https=https)
    try:
        env = {**os.environ, **launcher.server_env(server)}
        print(f"{launcher.name}: {server.endpoint} ({server.workdir})", file=sys.stderr,
              flush=True)
        try:
            code = subprocess.call(list(command), env=env)
        except OSError as exc:
            print(f"{launcher.name} run: cannot run {command[0]}: {exc.strerror}",
                  file=sys.stderr)
            return 127
    finally:
        launcher.stop(server)
    return code if code >= 0 else 128 - code


def _round_trip(server: Server, endpoint: str, verify: str | bool) -> None:
    boto3 = importlib.import_module("boto3")
    config_class = importlib.import_module("botocore.config").Config
    options: dict[str, object] = {"signature_version": "s3v4", "s3": {"addressing_style": "path"}}
    # botocore >= 1.36 sends aws-chunked bodies with a checksum trailer, which RGW 16 refuses
    # and s3api answers 501; only ask for checksums where S3 requires them.
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


def _command_check(launcher: Launcher[S], https: bool) -> int:
    started = time.monotonic()
    server = launcher.start(https=https)
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
        launcher.stop(server)
        print(f"stopped in {time.monotonic() - before_stop:.2f} s")
    return 0


def _parser(launcher: Launcher[S]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"python -m tests.servers.{launcher.name}",
                                     description=launcher.doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="action", required=True)
    title = launcher.title
    run = commands.add_parser("run", help=f"start {title}, run a command against it, stop {title}")
    run.add_argument("--https", action="store_true", help="also serve HTTPS")
    run.add_argument("command", nargs=argparse.REMAINDER, help="-- CMD ARGS...")
    check = commands.add_parser("check", help="start, do one PUT/GET round trip, stop")
    check.add_argument("--https", action="store_true", help="also serve HTTPS")
    return parser

