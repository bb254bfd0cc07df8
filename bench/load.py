"""The load generator: a separate process posting one body over TLS keep-alive connections.

python -m bench.load URL BODY_FILE CA_FILE COUNT CONCURRENCY CLIENT_CERT CLIENT_KEY [RATE]
    ->  JSON {"latencies": [...], "seconds": ..., "errors": [...], "lag_max_ms": ...}

It presents CLIENT_CERT as the API server does: /mutate and /validate hear nobody else. Without RATE,
each connection sends back to back; with RATE (requests per second), request n is sent at n / RATE
seconds from the start by whichever connection is free (an open loop: a slow answer does not slow
the schedule; ``lag_max_ms`` says how late the latest request left).
"""

from __future__ import annotations

import http.client
import itertools
import json
import ssl
import sys
import threading
import time
from urllib.parse import urlsplit


def run(
    url: str,
    body: bytes,
    *,
    cafile: str,
    client: tuple[str, str],
    count: int,
    concurrency: int,
    rate: float = 0.0,
) -> dict[str, object]:
    target = urlsplit(url)
    context = ssl.create_default_context(cafile=cafile)
    context.load_cert_chain(*client)
    latencies: list[float] = []
    errors: list[str] = []
    lag = [0.0]
    lock = threading.Lock()
    numbers = itertools.count()
    started = time.perf_counter()

    def next_number() -> int | None:
        with lock:
            number = next(numbers)
        return number if number < count else None

    def worker() -> None:
        connection = http.client.HTTPSConnection(target.hostname or "", target.port, context=context, timeout=30)
        mine, failed = [], []
        while (number := next_number()) is not None:
            if rate:
                due = started + number / rate
                if (wait := due - time.perf_counter()) > 0:
                    time.sleep(wait)
                lag[0] = max(lag[0], time.perf_counter() - due)
            sent = time.perf_counter()
            try:
                connection.request("POST", target.path, body=body, headers={"Content-Type": "application/json"})
                answer = connection.getresponse()
                answer.read()
            except (OSError, http.client.HTTPException) as error:
                failed.append(repr(error))
                connection.close()
                continue
            mine.append(time.perf_counter() - sent)
            if answer.status != 200:
                failed.append(f"HTTP {answer.status}")
        connection.close()
        with lock:
            latencies.extend(mine)
            errors.extend(failed)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "latencies": latencies,
        "seconds": time.perf_counter() - started,
        "errors": errors,
        "lag_max_ms": lag[0] * 1000,
    }


if __name__ == "__main__":
    url, body_file, cafile, count, concurrency, cert, key = sys.argv[1:8]
    rate = float(sys.argv[8]) if len(sys.argv) > 8 else 0.0
    with open(body_file, "rb") as source:
        body = source.read()
    result = run(
        url, body, cafile=cafile, client=(cert, key), count=int(count), concurrency=int(concurrency), rate=rate
    )
    print(json.dumps(result))
