"""Drive a running `recsys serve` as a new user would: /health, one event, one list.

Usage: python smoke.py BASE_URL  (waits up to 60 s for the server to answer)
Exits non-zero, saying which step failed, when any answer is not what the
contract promises. Standard library only: it runs in the wheel's bare venv.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request


def call(method: str, url: str, body: object = None) -> tuple[int, object]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def wait_healthy(base: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            status, body = call("GET", f"{base}/health")
            if status == 200:
                print("health:", body)
                return
        except (urllib.error.URLError, ConnectionError):
            pass
        if time.monotonic() > deadline:
            sys.exit(f"smoke: {base}/health did not answer 200 within {seconds:.0f} s")
        time.sleep(0.5)


def main(base: str) -> None:
    wait_healthy(base)
    event = {"user_id": "smoke-buyer", "product_id": "smoke-item", "event_type": "purchase"}
    status, body = call("POST", f"{base}/event", event)
    if status != 201:
        sys.exit(f"smoke: POST /event answered {status}: {body}")
    print("POST /event:", status)
    # Another user's popular list holds the item just bought: the event counted.
    status, body = call("GET", f"{base}/recommend?user_id=smoke-visitor&case=popular&k=5")
    listed = [r["product_id"] for r in body.get("recommendations", [])]  # type: ignore[union-attr]
    if status != 200 or "smoke-item" not in listed:
        sys.exit(f"smoke: GET /recommend answered {status}: {body}")
    print("GET /recommend:", status, listed)


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"))
