"""Inside a network namespace with only loopback: start `sidecar serve`, Redact, report.

Usage: python netns_client.py DATA_DIR POLICIES TEXT. Prints one JSON object: the
Redact reply (text and entities), the server's exit code after SIGTERM and its stderr.
"""

from __future__ import annotations

import errno
import json
import re
import socket
import subprocess
import sys
import threading
import time

import grpc

from sidecar.v1 import sidecar_pb2 as pb
from sidecar.v1 import sidecar_pb2_grpc as pb_grpc

BANNER = re.compile(r"sidecar listening on port (\d+)")


def _outbound_possible() -> bool:
    """Whether a TCP connect to a public address gets past the kernel (it must not here)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(3)
        try:
            sock.connect(("192.0.2.1", 9))  # TEST-NET-1; a route is all we test for
        except OSError as err:
            return err.errno not in (errno.ENETUNREACH, errno.EHOSTUNREACH)
        return True


def main() -> int:
    data_dir, policies, text = sys.argv[1:4]
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sidecar",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data_dir,
            "--policies",
            policies,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    stderr = server.stderr
    assert stderr is not None
    errors: list[str] = []
    pump = threading.Thread(target=lambda: errors.extend(stderr), daemon=True)
    pump.start()
    watchdog = threading.Timer(150, server.kill)  # never outlive a hung start
    watchdog.daemon = True
    watchdog.start()
    report: dict[str, object] = {"outbound_possible": _outbound_possible()}
    try:
        port = 0
        deadline = time.monotonic() + 120
        for line in server.stdout:
            found = BANNER.search(line)
            if found:
                port = int(found.group(1))
                break
            if time.monotonic() > deadline:
                break
        if not port:
            report["error"] = "server did not start"
        else:
            options = [("grpc.enable_http_proxy", 0)]
            with grpc.insecure_channel(f"127.0.0.1:{port}", options=options) as channel:
                reply = pb_grpc.PrivacySidecarStub(channel).Redact(
                    pb.RedactRequest(text=text), timeout=60
                )
            report["redacted_text"] = reply.redacted_text
            report["outcome"] = reply.outcome
            report["entities"] = [[e.type, e.start, e.end] for e in reply.entities]
    finally:
        server.terminate()
        try:
            report["exit_code"] = server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            report["exit_code"] = server.wait()
        watchdog.cancel()
        pump.join(10)
        report["stderr"] = "".join(errors)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
