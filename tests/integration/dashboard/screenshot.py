#!/usr/bin/env python3
"""Screenshot of the live dashboard in real time (docs/dashboard.png).

`chromium --screenshot` captures at load, and with --virtual-time-budget the page's one-second
polls all happen within a few milliseconds, so neither shows real rates. This script drives
headless Chromium over the DevTools protocol on a pipe instead: the page polls at its own pace for
--wait seconds, then the whole page is captured.

docs/dashboard.png was made on loopback with a gateway (two workers, admin 127.0.0.1:18792) in
front of `sluice backend` (two instances) plus one endpoint that is not listening, and nginx for
/static/; /api/items/ cached with `cache = { ttl = "20s" }`, /api/ rate limited at 60/s per
address; a mix of cached items, slow calls, static files, unknown paths and 503s as the load:

    sluice backend --listen 127.0.0.1:18801 --instances 2 --latency 15ms --max-concurrency 40 &
    sluice serve --config gateway.toml &
    sluice load --scenario mix.toml --rate 0 --stages 10s:300,20s:800,20s:450,25s:650 -q &
    tests/integration/dashboard/screenshot.py http://127.0.0.1:18792/ docs/dashboard.png --wait 66
"""
import argparse
import base64
import fcntl
import json
import os
import subprocess
import sys
import tempfile
import time


class Browser:
    def __init__(self, width, height):
        self.profile = tempfile.TemporaryDirectory()
        # Chromium reads commands from fd 3 and writes replies to fd 4, NUL-separated JSON.
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()

        def fds():
            # Out of the way first: either pipe end may itself be 3 or 4.
            r = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
            w = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(r, 3)
            os.dup2(w, 4)

        self.proc = subprocess.Popen(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--hide-scrollbars", f"--window-size={width},{height}",
             f"--user-data-dir={self.profile.name}", "about:blank"],
            preexec_fn=fds, close_fds=False,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.next_id = 0
        self.buffer = b""

    def send(self, method, params=None, session=None):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_chrome, json.dumps(message).encode() + b"\0")
        while True:
            while b"\0" not in self.buffer:
                chunk = os.read(self.from_chrome, 1 << 20)
                if not chunk:
                    raise RuntimeError("chromium exited")
                self.buffer += chunk
            raw, self.buffer = self.buffer.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def close(self):
        try:
            self.send("Browser.close")
        except RuntimeError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.profile.cleanup()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url")
    ap.add_argument("out")
    ap.add_argument("--wait", type=float, default=60, help="seconds the page runs before the shot")
    ap.add_argument("--width", type=int, default=1400)
    args = ap.parse_args()

    browser = Browser(args.width, 1000)
    try:
        time.sleep(0.5)
        page = next(t for t in browser.send("Target.getTargets")["targetInfos"]
                    if t["type"] == "page")
        session = browser.send("Target.attachToTarget",
                               {"targetId": page["targetId"], "flatten": True})["sessionId"]
        metrics = {"width": args.width, "height": 1000, "deviceScaleFactor": 1, "mobile": False}
        browser.send("Emulation.setDeviceMetricsOverride", metrics, session)
        browser.send("Page.navigate", {"url": args.url}, session)
        time.sleep(args.wait)
        height = browser.send("Runtime.evaluate", {
            "expression": "Math.ceil(document.body.getBoundingClientRect().bottom)",
            "returnByValue": True}, session)["result"]["value"]
        browser.send("Emulation.setDeviceMetricsOverride", dict(metrics, height=height), session)
        time.sleep(1.5)  # one more poll, drawn at the final size
        shot = browser.send("Page.captureScreenshot", {"format": "png"}, session)
        with open(args.out, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
    finally:
        browser.close()
    print(f"{args.out}: {args.width}x{height}")


if __name__ == "__main__":
    sys.exit(main())
