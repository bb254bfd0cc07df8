"""The load generator: a separate process posting one body over TLS keep-alive connections.

python -m bench.load URL BODY_FILE CA_FILE COUNT CONCURRENCY  ->  JSON {"latencies": [...], "seconds": ...}
"""

from __future__ import annotations

import http.client
import json
import ssl
import sys
import threading
import time
from urllib.parse import urlsplit


def run(url: str, body: bytes, cafile: str, count: int, concurrency: int) -> dict[str, object]:
    target = urlsplit(url)
    context = ssl.create_default_context(cafile=cafile)
    latencies: list[float] = []
    lock = threading.Lock()
    share = [count // concurrency + (1 if n < count % concurrency else 0) for n in range(concurrency)]

    def worker(requests: int) -> None:
        connection = http.client.HTTPSConnection(target.hostname or "", target.port, context=context, timeout=30)
        mine = []
        for _ in range(requests):
            started = time.perf_counter()
            connection.request("POST", target.path, body=body, headers={"Content-Type": "application/json"})
            answer = connection.getresponse()
            answer.read()
            mine.append(time.perf_counter() - started)
            if answer.status != 200:
                raise RuntimeError(f"{url} answered {answer.status}")
        connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(n,)) for n in share]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"latencies": latencies, "seconds": time.perf_counter() - started}


if __name__ == "__main__":
    url, body_file, cafile, count, concurrency = sys.argv[1:6]
    with open(body_file, "rb") as source:
        body = source.read()
    print(json.dumps(run(url, body, cafile, int(count), int(concurrency))))
