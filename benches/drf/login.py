"""Wait for the example server, log in as the bench user, check GET /api/hello/ answers 200,
and print the access token (nothing on failure). Standard library only.

Usage: python benches/drf/login.py http://127.0.0.1:<port>
"""

import json
import sys
import time
import urllib.error
import urllib.request


def main() -> None:
    base = sys.argv[1]
    body = json.dumps({"username": "bench", "password": "bench-password"}).encode()
    deadline = time.monotonic() + 20
    while True:
        try:
            req = urllib.request.Request(
                f"{base}/api/token/",
                data=body,
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(req, timeout=5) as resp:
                access = json.load(resp)["access"]
            break
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                sys.exit("bench: the server did not come up")
            time.sleep(0.1)
    req = urllib.request.Request(
        f"{base}/api/hello/", headers={"Authorization": f"Bearer {access}"}
    )
    with urllib.request.urlopen(req, timeout=5) as resp:
        if resp.status != 200:
            sys.exit(f"bench: GET /api/hello/ answered {resp.status}")
    print(access)


if __name__ == "__main__":
    main()
