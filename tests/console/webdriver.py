"""A small W3C WebDriver client (Python 3 standard library only).

It drives Debian's chromium through Debian's chromium-driver over plain
HTTP and JSON, so the console's browser tests need nothing from npm or
PyPI: CI reaches only Debian's mirror (docs/console.md says why not
puppeteer).  Only the commands the tests use are here.
"""
import base64
import json
import os
import sys
import socket
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"
KEYS = {"TAB": "\ue004", "ENTER": "\ue007", "SHIFT": "\ue008"}


class WebDriverError(Exception):
    pass


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def find_chromium():
    for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"):
        if os.path.exists(p):
            return p
    return None


def find_driver():
    for p in ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"):
        if os.path.exists(p):
            return p
    return None


class Driver:
    """One chromedriver process and one browser session."""

    def __init__(self, width=1280, height=900, no_network=False, log_dir=None):
        drv, chrome = find_driver(), find_chromium()
        if not drv or not chrome:
            raise WebDriverError("chromium and chromium-driver are needed (tools/deps.sh)")
        self.port = free_port()
        # A profile of its own: two tests may run browsers at once.
        self.profile = tempfile.mkdtemp(prefix="cbar_chromium_")
        # One log per test script, written over by its next run (named by
        # the script, not the pid, so runs do not pile logs up).
        name = os.path.splitext(os.path.basename(sys.argv[0]))[0] or "webdriver"
        log = open(os.path.join(log_dir or ".", "chromedriver-%s.log" % name), "w")
        self.proc = subprocess.Popen([drv, "--port=%d" % self.port], stdout=log, stderr=log)
        self.base = "http://127.0.0.1:%d" % self.port
        deadline = time.monotonic() + 30
        while True:
            try:
                self._call("GET", "/status")
                break
            except Exception:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.proc.kill()
                    raise WebDriverError("chromedriver did not start")
                time.sleep(0.1)
        args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=%d,%d" % (width, height), "--no-first-run",
                "--disable-extensions", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--lang=en-US",
                "--user-data-dir=" + self.profile]
        if no_network:
            # Every request that is not to a file goes to a proxy that is
            # not there: a page that needs the network fails visibly.
            args += ["--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>"]
        caps = {"browserName": "chrome",
                "goog:chromeOptions": {"binary": chrome, "args": args},
                "goog:loggingPrefs": {"browser": "ALL"}}
        r = self._call("POST", "/session", {"capabilities": {"alwaysMatch": caps}})
        self.sid = r["sessionId"]

    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        if method == "POST" and data is None:
            data = b"{}"
        rq = urllib.request.Request(self.base + path, data=data, method=method,
                                    headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(rq, timeout=120) as resp:
                out = json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as e:
            out = json.loads(e.read() or b"{}")
            v = out.get("value", {})
            raise WebDriverError("%s %s: %s: %s" % (method, path, v.get("error"),
                                                    str(v.get("message"))[:300]))
        return out.get("value", out) if path != "/session" else out["value"]

    def s(self, method, path, body=None):
        return self._call(method, "/session/%s%s" % (self.sid, path), body)

    def quit(self):
        try:
            self._call("DELETE", "/session/" + self.sid)
        except Exception:
            pass
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)

    # ---- pages and elements ----
    def get(self, url):
        self.s("POST", "/url", {"url": url})

    def find(self, css):
        return self.s("POST", "/element", {"using": "css selector", "value": css})[ELEMENT]

    def find_all(self, css):
        return [e[ELEMENT] for e in self.s("POST", "/elements", {"using": "css selector", "value": css})]

    def exists(self, css):
        return bool(self.find_all(css))

    def click(self, css):
        self.s("POST", "/element/%s/click" % self.find(css))

    def type(self, css, text):
        e = self.find(css)
        self.s("POST", "/element/%s/clear" % e)
        self.s("POST", "/element/%s/value" % e, {"text": text})

    def text(self, css):
        return self.s("GET", "/element/%s/text" % self.find(css))

    def value(self, css):
        return self.js("return document.querySelector(arguments[0]).value", css)

    def displayed(self, css):
        els = self.find_all(css)
        return bool(els) and self.s("GET", "/element/%s/displayed" % els[0])

    def select(self, css, value):
        self.js("var e=document.querySelector(arguments[0]); e.value=arguments[1];"
                "e.dispatchEvent(new Event('change'))", css, value)

    def js(self, script, *args):
        return self.s("POST", "/execute/sync", {"script": script, "args": list(args)})

    def js_async(self, script, *args):
        return self.s("POST", "/execute/async", {"script": script, "args": list(args)})

    def keys(self, text):
        """Type into whatever has the focus, as a keyboard would."""
        acts = []
        for ch in text:
            acts += [{"type": "keyDown", "value": ch}, {"type": "keyUp", "value": ch}]
        self.s("POST", "/actions", {"actions": [{"type": "key", "id": "kb", "actions": acts}]})
        self.s("DELETE", "/actions")

    def active_id(self):
        return self.js("return document.activeElement ? document.activeElement.id : ''")

    def wait(self, cond, what, limit=20):
        """Poll cond() until it is true; a bound, not a timing (fails after limit s)."""
        deadline = time.monotonic() + limit
        last = None
        while time.monotonic() < deadline:
            try:
                last = cond()
                if last:
                    return last
            except WebDriverError as e:
                last = e
            time.sleep(0.1)
        raise AssertionError("waited for %s; last: %r" % (what, last))

    def screenshot(self, path):
        png = base64.b64decode(self.s("GET", "/screenshot"))
        with open(path, "wb") as f:
            f.write(png)

    def set_size(self, w, h):
        self.s("POST", "/window/rect", {"width": w, "height": h})

    def browser_log(self):
        """The console and network messages since the last call."""
        return self.s("POST", "/se/log", {"type": "browser"})
