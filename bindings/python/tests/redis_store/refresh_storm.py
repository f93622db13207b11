"""One client process of the refresh storm: ``python refresh_storm.py URL REFRESH START N``
sends N concurrent POST URL {"refresh": REFRESH} from N threads, all released at the
wall-clock time START (so that two such processes fire together), and prints one JSON list
of {"status", "pid", "body"}."""

import json
import sys
import threading
import time
import urllib.error
import urllib.request


def refresh(url: str, token: str) -> dict:
    request = urllib.request.Request(
        url,
        data=json.dumps({"refresh": token}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, headers, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, headers, raw = error.code, error.headers, error.read()
    return {"status": status, "pid": headers.get("X-Worker-Pid"), "body": json.loads(raw)}


def main() -> None:
    url, token, start, count = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    results: list[dict] = [{} for _ in range(count)]
    ready = threading.Barrier(count)

    def one(i: int) -> None:
        ready.wait()
        time.sleep(max(0.0, start - time.time()))
        try:
            results[i] = refresh(url, token)
        except Exception as error:  # reported, so the test shows it
            results[i] = {"status": None, "pid": None, "body": repr(error)}

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
