"""A real data path for the dev cluster: kube-proxy in a network namespace, the kwok pods' addresses
served there, and clients that call Services from inside it as pods would. Needs root.

    host network namespace                    the data path's namespace (no default route)
    127.0.0.1:<kube-apiserver> <- forwarder <- veth <- kube-proxy (nftables or iptables mode)
    127.0.0.1:<CoreDNS>        <- forwarder <- veth <- the clients' DNS queries
                                                   lo: each Running pod's IP, one HTTP server per
                                                       container port, answering "<namespace>/<pod>"
                                                   10.96.0.0/12 -> lo: a cluster IP kube-proxy does
                                                       not translate reaches nothing

The API server and CoreDNS keep listening on loopback only: two small forwarders on the host end
of the veth carry what the namespace sends them. A pod that goes away is served until nothing leads
to it any more (kube-proxy has no rule for it, its own DNS name no longer resolves to it), as a pod
that drains properly would be, but never beyond its termination grace period, as the kubelet would
kill it: stale endpoints then fail requests, as they would in a cluster.
"""

from __future__ import annotations

import contextlib
import ctypes
import http.client
import ipaddress
import json
import os
import re
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeVar

from webhook.core.fields import JsonObject
from webhook.core.waiting import poll_until
from webhook.dev.controlplane import find_binaries
from webhook.dev.dns import resolve
from webhook.dev.environment import DevEnvironment
from webhook.dev.processes import log_tail, start_process, stop_pid
from webhook.kube.client import Kube
from webhook.kube.watch import Gone

T = TypeVar("T")
Mode = Literal["nftables", "iptables"]
Request = Callable[[], str]
"""One request made from inside the namespace: the answering pod ("namespace/name"), or it raises."""

SERVICE_RANGE = "10.96.0.0/12"
"""The dev control plane's --service-cluster-ip-range."""
NEEDED = {"nftables": {"ip": "iproute2", "nft": "nftables"}, "iptables": {"ip": "iproute2", "iptables": "iptables"}}
"""Commands the data path and kube-proxy run in each mode, and the Debian package of each."""
RULESET = {"nftables": ["nft", "list", "ruleset"], "iptables": ["iptables-save", "-t", "nat"]}
REQUEST_TIMEOUT = 2.0
_CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)
_created = iter(range(1_000_000))


class DataPathError(RuntimeError):
    """The data path could not be set up; the message names the command and its error."""


def run(*args: str) -> str:
    """Run a command; its stdout, or DataPathError with the command and its stderr."""
    try:
        done = subprocess.run(args, capture_output=True, text=True, check=False, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise DataPathError(f"`{' '.join(args)}` failed: {error}") from error
    if done.returncode != 0:
        raise DataPathError(f"`{' '.join(args)}` failed (exit {done.returncode}): {done.stderr.strip()}")
    return done.stdout


def _setns(fd: int) -> None:
    if _libc.setns(fd, _CLONE_NEWNET) != 0:
        error = ctypes.get_errno()
        raise DataPathError(f"setns(CLONE_NEWNET) failed: {os.strerror(error)}")


@contextlib.contextmanager
def inside(netns: Path) -> Iterator[None]:
    """Run the calling thread (only it: network namespaces are per thread) in ``netns``; sockets
    created meanwhile stay in it for good."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(netns, os.O_RDONLY)
    try:
        _setns(target)
        try:
            yield
        finally:
            _setns(home)
    finally:
        os.close(target)
        os.close(home)


class Forwarder:
    """Relays TCP connections or UDP datagrams from ``listen`` to ``target`` (both host, port)."""

    def __init__(self, *, listen: tuple[str, int], target: tuple[str, int], kind: Literal["tcp", "udp"]) -> None:
        self.target = target
        self.kind = kind
        self.stopped = threading.Event()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(listen)
        self.listener.settimeout(0.5)
        if kind == "tcp":
            self.listener.listen(64)
        self.open: set[socket.socket] = set()
        self.thread = threading.Thread(target=self._accept if kind == "tcp" else self._relay, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()
        self.listener.close()
        for sock in list(self.open):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            self.open |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)
            self.open.discard(source)

    def _relay(self) -> None:
        while not self.stopped.is_set():
            try:
                query, sender = self.listener.recvfrom(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._answer, args=(query, sender), daemon=True).start()

    def _answer(self, query: bytes, sender: Any) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as upstream, contextlib.suppress(OSError):
            upstream.settimeout(REQUEST_TIMEOUT)
            upstream.sendto(query, self.target)
            self.listener.sendto(upstream.recv(65536), sender)


class _Answer(BaseHTTPRequestHandler):
    """Answers every GET with the name of the pod that owns the address, keeping connections alive."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as they are written, not 40 ms later
    server: PodServer
    timeout = 60

    def do_GET(self) -> None:
        body = self.server.answer().encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        if self.server.closing:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class PodServer(ThreadingHTTPServer):
    """One pod address and port; ``stop`` closes its open connections as a pod that exits does."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], answer: Callable[[], str]) -> None:
        super().__init__(address, _Answer)
        self.answer = answer
        self.closing = False
        self.connections: set[socket.socket] = set()
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    def process_request(self, request: Any, client_address: Any) -> None:
        self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        self.connections.discard(request)
        super().shutdown_request(request)

    def stop(self) -> None:
        self.closing = True
        self.shutdown()
        self.server_close()
        for connection in list(self.connections):
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self.thread.join()


@dataclass
class Served:
    """A pod address served in the namespace: its servers by port, and who answers."""

    pod: str
    servers: dict[int, PodServer] = field(default_factory=dict)
    dns_name: str | None = None
    """``<hostname>.<subdomain>.<namespace>.svc.cluster.local``, for a pod with a DNS name of its own."""
    grace: float = 30.0
    leaving_since: float | None = None
    """When the pod went (monotonic clock); None while it runs."""

    def answer(self) -> str:
        return self.pod


@dataclass(frozen=True)
class RunningPod:
    key: str
    ip: str
    ports: tuple[int, ...]
    dns_name: str | None
    grace: float


def running_pod(pod: JsonObject) -> RunningPod | None:
    """What to serve for a pod: its IP and TCP container ports, once kwok has it Running."""
    status, spec, metadata = pod.get("status") or {}, pod.get("spec") or {}, pod["metadata"]
    if status.get("phase") != "Running" or not status.get("podIP") or spec.get("hostNetwork"):
        return None
    ports = tuple(
        sorted(
            {
                int(port["containerPort"])
                for container in spec.get("containers", [])
                for port in container.get("ports", [])
                if port.get("protocol", "TCP") == "TCP"
            }
        )
    )
    dns_name = None
    if spec.get("hostname") and spec.get("subdomain"):
        dns_name = f"{spec['hostname']}.{spec['subdomain']}.{metadata['namespace']}.svc.cluster.local."
    grace = float(spec.get("terminationGracePeriodSeconds", 30))
    return RunningPod(f"{metadata['namespace']}/{metadata['name']}", str(status["podIP"]), ports, dns_name, grace)


class DataPath:
    """kube-proxy and the pods' servers in a fresh network namespace; a context manager that stops
    everything it started and deletes the namespace."""

    def __init__(self, dev: DevEnvironment, *, workdir: Path, mode: Mode = "nftables", node: str = "kwok-node-0"):
        self.dev = dev
        self.workdir = workdir
        self.mode = mode
        self.node = node
        number = next(_created)
        self.name = f"nsmigrate-dp-{os.getpid()}-{number}"
        self.netns = Path("/run/netns") / self.name
        self.veth = (f"nsm{os.getpid() % 1_000_000}h{number}", f"nsm{os.getpid() % 1_000_000}n{number}")
        self.host_ip, self.inner_ip = "", ""
        self.kube = Kube.connect(str(dev.kubeconfig))
        self.served: dict[str, Served] = {}
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.forwarders: list[Forwarder] = []
        self.threads: list[threading.Thread] = []
        self.proxy_pid = 0
        self.failures: list[str] = []
        """What went wrong in the harness's own threads (a test asserts there is nothing)."""
        self.journal: list[str] = []
        """What the harness did when (``clock``): addresses served, gone, retired."""
        self.leads: list[Callable[[], set[str]]] = []
        """Besides kube-proxy and DNS, what may still send clients to an address (an Endpoints reader's list)."""
        self.epoch = time.monotonic()

    def clock(self) -> float:
        """Seconds since the data path was made: the one time line of its journal and its clients."""
        return time.monotonic() - self.epoch

    @property
    def dns_port(self) -> int:
        return self.dev.control_plane.dns_port

    def __enter__(self) -> DataPath:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> None:
        needed = NEEDED[self.mode].items()
        if missing := [
            f"{command} (apt-get install {package})" for command, package in needed if not _on_path(command)
        ]:
            raise DataPathError(f"the data path needs {', '.join(missing)}")
        proxy = find_binaries("kube-proxy")["kube-proxy"]
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._make_namespace()
        self._forward()
        self._start_kube_proxy(proxy)
        for target in (self._follow_pods, self._retire_pods):
            thread = threading.Thread(target=self._guarded(target), daemon=True)
            thread.start()
            self.threads.append(thread)

    def stop(self) -> None:
        self.stopped.set()
        for thread in self.threads:
            thread.join()
        with self.lock:
            for served in self.served.values():
                for server in served.servers.values():
                    server.stop()
            self.served.clear()
        if self.proxy_pid:
            stop_pid(self.proxy_pid)
            self.proxy_pid = 0
        for forwarder in self.forwarders:
            forwarder.stop()
        if Path("/sys/class/net", self.veth[0]).exists():
            run("ip", "link", "delete", self.veth[0])  # both ends of the pair
        if self.netns.exists():
            run("ip", "netns", "delete", self.name)

    def run_inside(self, action: Callable[[], T]) -> T:
        """``action()`` from a thread inside the namespace; its result, or its exception."""
        outcome: list[T] = []
        raised: list[BaseException] = []

        def body() -> None:
            with inside(self.netns):
                try:
                    outcome.append(action())
                except BaseException as error:
                    raised.append(error)

        thread = threading.Thread(target=body)
        thread.start()
        thread.join()
        if raised:
            raise raised[0]
        return outcome[0]

    def serving(self) -> dict[str, str]:
        """Address -> pod, for every address served now (draining ones included)."""
        with self.lock:
            return {ip: served.pod for ip, served in self.served.items()}

    def resolve(self, host: str, namespace: str) -> str | None:
        """``host`` as a pod of ``namespace`` resolves it, through CoreDNS over the veth."""
        return resolve(host, namespace=namespace, port=self.dns_port, server=self.host_ip)

    def _make_namespace(self) -> None:
        self.host_ip, self.inner_ip = _free_link_addresses()
        host_end, inner_end = self.veth
        run("ip", "netns", "add", self.name)
        run("ip", "link", "add", host_end, "type", "veth", "peer", "name", inner_end)
        run("ip", "link", "set", inner_end, "netns", self.name)
        run("ip", "address", "add", f"{self.host_ip}/30", "dev", host_end)
        run("ip", "link", "set", host_end, "up")
        ns = ("ip", "-n", self.name)
        run(*ns, "link", "set", "lo", "up")
        run(*ns, "address", "add", f"{self.inner_ip}/30", "dev", inner_end)
        run(*ns, "link", "set", inner_end, "up")
        # No default route: service addresses go to lo, where only kube-proxy's translation leads anywhere.
        # Clients speak from the veth address, never from a pod's: a pod that goes must not take
        # connections of other clients with it.
        run(*ns, "route", "add", SERVICE_RANGE, "dev", "lo", "src", self.inner_ip)

    def _forward(self) -> None:
        apiserver_port = self.dev.control_plane.apiserver_port
        self.forwarders = [
            Forwarder(listen=(self.host_ip, apiserver_port), target=("127.0.0.1", apiserver_port), kind="tcp"),
            Forwarder(listen=(self.host_ip, self.dns_port), target=("127.0.0.1", self.dns_port), kind="udp"),
        ]

    def _kubeconfig(self) -> Path:
        """The admin kubeconfig, pointed at the forwarder; the API server's certificate names localhost."""
        config = json.loads(self.dev.kubeconfig.read_text())
        for cluster in config["clusters"]:
            cluster["cluster"]["server"] = f"https://{self.host_ip}:{self.dev.control_plane.apiserver_port}"
            cluster["cluster"]["tls-server-name"] = "localhost"
        path = self.workdir / "kube-proxy.kubeconfig"
        path.write_text(json.dumps(config))
        path.chmod(0o600)
        return path

    def _start_kube_proxy(self, binary: Path, *, timeout: float = 60.0) -> None:
        log = self.workdir / "kube-proxy.log"
        args = [
            "ip", "netns", "exec", self.name, str(binary),
            f"--kubeconfig={self._kubeconfig()}",
            f"--proxy-mode={self.mode}",
            f"--hostname-override={self.node}",
            "--conntrack-max-per-core=0",  # nf_conntrack_max is global: not this namespace's to set
            "--healthz-bind-address=127.0.0.1:10256",
            "--metrics-bind-address=127.0.0.1:10249",
            "--v=2",
        ]  # fmt: skip
        self.proxy_pid = start_process(args, log).pid
        last = ["no answer yet"]

        def healthy() -> bool:
            if not _alive(self.proxy_pid):
                raise DataPathError(f"`{' '.join(args)}` exited during start-up:\n{log_tail(log)}")
            try:
                return self.run_inside(lambda: _get("127.0.0.1", 10256, "/healthz")[0]) == 200
            except OSError as error:
                last[0] = str(error)
                return False

        try:
            poll_until(healthy, timeout=timeout, interval=0.2)
        except TimeoutError:
            raise DataPathError(
                f"`{' '.join(args)}` not healthy after {timeout:.0f} s ({last[0]}):\n{log_tail(log)}"
            ) from None

    def _guarded(self, target: Callable[[], None]) -> Callable[[], None]:
        def body() -> None:
            try:
                target()
            except Exception as error:
                self.failures.append(f"{target.__name__}: {error!r}")
                raise

        return body

    def _follow_pods(self) -> None:
        """Serve each Running pod, by watch; a pod that goes is handed to ``_retire_pods``."""
        present: dict[str, RunningPod] = {}
        version = ""
        while not self.stopped.is_set():
            if not version:
                items, version = self._list_pods()
                present = {pod.key: pod for item in items if (pod := running_pod(item))}
                self._settle(present)
            try:
                for event in self.kube.watch("Pod", resource_version=version, timeout_seconds=1):
                    if self.stopped.is_set():
                        return
                    if event["type"] == "ERROR":  # expired: list again
                        version = ""
                        break
                    metadata = event["object"]["metadata"]
                    version = metadata["resourceVersion"]
                    if event["type"] == "BOOKMARK":
                        continue
                    key = f"{metadata['namespace']}/{metadata['name']}"
                    if pod := running_pod(event["object"]) if event["type"] != "DELETED" else None:
                        present[key] = pod
                    else:
                        present.pop(key, None)
                    self._settle(present)
            except Gone:
                version = ""

    def _list_pods(self) -> tuple[list[JsonObject], str]:
        items: list[JsonObject] = []
        token, version = "", ""
        while True:
            page, version, token = self.kube.list_page("Pod", limit=500, token=token)
            items += page
            if not token:
                return items, version

    def _settle(self, present: Mapping[str, RunningPod]) -> None:
        """Serve every present pod; mark the addresses of the others as leaving."""
        with self.lock:
            wanted = {pod.ip: pod for pod in present.values()}
            for ip, known in self.served.items():
                if ip not in wanted and known.leaving_since is None:
                    known.leaving_since = time.monotonic()
                    self.journal.append(f"{self.clock():.3f} gone {ip} {known.pod}")
            for ip, pod in wanted.items():
                if ip not in self.served:
                    run("ip", "-n", self.name, "address", "add", f"{ip}/32", "dev", "lo")
                    self.served[ip] = Served(pod.key)
                    self.journal.append(f"{self.clock():.3f} serve {ip} {pod.key}")
                served = self.served[ip]
                served.pod, served.dns_name, served.grace, served.leaving_since = pod.key, pod.dns_name, pod.grace, None
                for port in pod.ports:
                    if port not in served.servers:
                        with inside(self.netns):
                            served.servers[port] = PodServer((ip, port), served.answer)

    def _retire_pods(self) -> None:
        """Stop serving a gone pod's address once nothing leads to it: kube-proxy has no rule for it
        and its own DNS name no longer resolves to it; or once its grace period is over."""
        while not self.stopped.wait(0.1):
            with self.lock:
                leaving = {ip: served for ip, served in self.served.items() if served.leaving_since is not None}
            if not leaving:
                continue
            rules = run("ip", "netns", "exec", self.name, *RULESET[self.mode])
            for ip, served in leaving.items():
                unreachable = self._unreachable(ip, served, rules)
                if not unreachable and time.monotonic() - (served.leaving_since or 0) < served.grace:
                    continue
                why = "unreachable" if unreachable else "grace period over"
                self.journal.append(f"{self.clock():.3f} retire {ip} {served.pod} ({why})")
                with self.lock:
                    if served.leaving_since is None:  # came back meanwhile (the address was reused)
                        continue
                    del self.served[ip]
                for server in served.servers.values():
                    server.stop()
                run("ip", "-n", self.name, "address", "delete", f"{ip}/32", "dev", "lo")

    def _unreachable(self, ip: str, served: Served, rules: str) -> bool:
        if re.search(rf"(?<![\d.]){re.escape(ip)}(?!\d)", rules):
            return False
        if any(ip in lead() for lead in self.leads):
            return False
        return not served.dns_name or resolve(served.dns_name, namespace="", port=self.dns_port) != ip


def _on_path(command: str) -> bool:
    return any((Path(folder) / command).is_file() for folder in os.environ.get("PATH", "").split(os.pathsep))


def _alive(pid: int) -> bool:
    try:
        return os.waitpid(pid, os.WNOHANG)[0] != pid
    except ChildProcessError:
        return False


def _free_link_addresses() -> tuple[str, str]:
    """Host and namespace ends of a /30 in 10.250.0.0/16 that no interface of the host uses yet."""
    taken = run("ip", "-4", "-o", "address", "show")
    start = os.getpid() % 16384
    for step in range(16384):
        network = ipaddress.ip_network(f"10.250.{((start + step) % 16384) * 4 // 256}.{((start + step) * 4) % 256}/30")
        host, inner = (str(address) for address in network.hosts())
        if f" {host}/" not in taken and f" {inner}/" not in taken:
            return host, inner
    raise DataPathError("no free /30 left in 10.250.0.0/16 for the veth pair")


def _get(host: str, port: int, path: str = "/", *, timeout: float = REQUEST_TIMEOUT) -> tuple[int, str]:
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", path)
        answer = connection.getresponse()
        return answer.status, answer.read().decode()
    finally:
        connection.close()


def _answered(connection: http.client.HTTPConnection) -> str:
    connection.request("GET", "/")
    answer = connection.getresponse()
    body = answer.read().decode()
    if answer.status != 200:
        raise http.client.HTTPException(f"HTTP {answer.status}: {body}")
    return body


def _resolved(datapath: DataPath, host: str, namespace: str) -> str:
    address = datapath.resolve(host, namespace)
    if address is None:
        raise LookupError(f"{host} does not resolve from {namespace}")
    return address


def _on_new_connection(address: str, port: int, *, timeout: float = REQUEST_TIMEOUT) -> str:
    connection = http.client.HTTPConnection(address, port, timeout=timeout)
    try:
        return _answered(connection)
    finally:
        connection.close()


def ask(address: str, port: int, *, timeout: float = REQUEST_TIMEOUT) -> Request:
    """A request to ``address:port``, on a new connection."""
    return lambda: _on_new_connection(address, port, timeout=timeout)


def every_lookup(datapath: DataPath, *, host: str, namespace: str, port: int) -> Request:
    """A client that resolves ``host`` through CoreDNS before every request (a new connection each)."""
    return lambda: _on_new_connection(_resolved(datapath, host, namespace), port)


def resolved_once(datapath: DataPath, *, host: str, namespace: str, port: int) -> Request:
    """A client that resolved ``host`` once and keeps the address (nginx proxy_pass, JVM caches)."""
    kept: list[str] = []

    def call() -> str:
        if not kept:
            kept.append(_resolved(datapath, host, namespace))
        return _on_new_connection(kept[0], port)

    return call


@dataclass
class KeepAlive:
    """A client that resolved once and keeps one connection open. When the server ends it gracefully,
    the next request opens another; when it breaks under a request, one reconnect and the request
    again: that request is good only if the second attempt succeeds."""

    datapath: DataPath
    host: str
    namespace: str
    port: int
    connection: http.client.HTTPConnection | None = None
    reopened: int = 0
    """Connections opened again after the server ended one gracefully ("Connection: close")."""
    reconnects: int = 0
    """Connections opened again after one broke under a request (that request sent again)."""

    def __call__(self) -> str:
        if self.connection is None:
            address = _resolved(self.datapath, self.host, self.namespace)
            self.connection = http.client.HTTPConnection(address, self.port, timeout=REQUEST_TIMEOUT)
            self.connection.connect()
        elif self.connection.sock is None:  # http.client opens a new one for this request
            self.reopened += 1
        try:
            return self._send(self.connection)
        except (ConnectionError, http.client.BadStatusLine):  # closed by the server: once more, on a new one
            self.reconnects += 1
            return self._send(self.connection)

    @staticmethod
    def _send(connection: http.client.HTTPConnection) -> str:
        try:
            return _answered(connection)
        except BaseException:
            connection.close()  # as clients do with a connection that failed: the next request opens another
            raise


class EndpointsReader:
    """A client as an ingress controller of an older release is one: it learns a Service's pods from the
    v1 Endpoints API (read on the host every ``every`` seconds, as its watch would tell it) and sends each
    request straight to a pod address it learned, round robin. An empty Endpoints is a 503 to it."""

    def __init__(self, datapath: DataPath, *, namespace: str, name: str, port: str = "http", every: float = 0.02):
        self.kube = Kube.connect(str(datapath.dev.kubeconfig))
        self.where, self.port, self.every = (namespace, name), port, every
        self.addresses: list[tuple[str, int]] = []
        self.updates = 0
        self.turn = 0
        self.stopped = datapath.stopped  # it follows as long as the data path runs
        thread = threading.Thread(target=self._follow, daemon=True)
        thread.start()
        datapath.threads.append(thread)
        datapath.leads.append(lambda: {ip for ip, _ in self.addresses})

    def __call__(self) -> str:
        known = self.addresses
        if not known:
            raise ConnectionError(f"503: Endpoints {'/'.join(self.where)} lists no address")
        self.turn += 1
        address, port = known[self.turn % len(known)]
        return _on_new_connection(address, port)

    def _follow(self) -> None:
        while not self.stopped.wait(self.every):
            found = self.kube.get("Endpoints", *self.where) or {}
            current = sorted(
                (address["ip"], port["port"])
                for subset in found.get("subsets") or ()
                for port in subset.get("ports") or ()
                if port.get("name", "") == self.port
                for address in subset.get("addresses") or ()
            )
            if current != self.addresses:
                self.addresses = current
                self.updates += 1


@dataclass
class Tally:
    """Requests of one client kind: how many, which failed (when, why), who answered."""

    sent: int = 0
    failed: list[str] = field(default_factory=list)
    answers: Counter[str] = field(default_factory=Counter)


class Load:
    """Clients inside the namespace, each in its own thread, making requests back to back (paced
    at ``pace`` seconds) until the context exits."""

    def __init__(self, datapath: DataPath, clients: Mapping[str, Request], *, pace: float = 0.002) -> None:
        self.datapath = datapath
        self.clients = dict(clients)
        self.pace = pace
        self.tallies = {kind: Tally() for kind in clients}
        self.stopped = threading.Event()
        self.threads = [threading.Thread(target=self._drive, args=(kind,), daemon=True) for kind in clients]
        self.started = 0.0
        self.seconds = 0.0

    def __enter__(self) -> Load:
        self.started = time.monotonic()
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stopped.set()
        for thread in self.threads:
            thread.join()
        self.seconds = time.monotonic() - self.started

    def wait_for(self, more: int) -> None:
        """Return once every client has made ``more`` further requests (failing ones take their timeout)."""
        goal = {kind: tally.sent + more for kind, tally in self.tallies.items()}
        try:
            poll_until(
                lambda: all(self.tallies[kind].sent >= count for kind, count in goal.items()),
                timeout=30 + more * (REQUEST_TIMEOUT + self.pace),
                what="every client's further requests",
            )
        except TimeoutError:
            raise AssertionError(f"clients stalled: {self.report()}") from None

    def report(self) -> str:
        return "; ".join(
            f"{kind}: {tally.sent} sent, {len(tally.failed)} failed" for kind, tally in self.tallies.items()
        )

    def _drive(self, kind: str) -> None:
        tally, request = self.tallies[kind], self.clients[kind]
        with inside(self.datapath.netns):
            while not self.stopped.wait(self.pace):
                tally.sent += 1
                try:
                    tally.answers[request()] += 1
                except Exception as error:
                    tally.failed.append(f"{self.datapath.clock():.3f} {error!r}")
