#!/usr/bin/env python3
"""The viewer in a real headless Chromium (Debian's `chromium`): `llmtap ui` over the fixture store
(ui/ui_test_traces.h), each page loaded through the URL llmtap printed, its DOM dumped after the
scripts ran, and the numbers on screen compared with what the store holds (worked out by hand).

Usage: viewer_browser_test.py LLMTAP UI_FIXTURE [--screenshots DIR]
With --screenshots, also writes PNGs of the main views to DIR (docs/ holds the committed ones).
"""
import html.parser
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

A, B, C, D, E = ("a" * 32, "b" * 32, "c" * 32, "d" * 32, "e" * 32)
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children = tag, dict(attrs), parent, []

    def text(self):
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def walk(self):
        for c in self.children:
            if isinstance(c, Node):
                yield c
                yield from c.walk()

    def find_all(self, tag=None, **attrs):
        for n in self.walk():
            if (tag is None or n.tag == tag) and all(n.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items()):
                yield n

    def find(self, tag=None, **attrs):
        return next(self.find_all(tag, **attrs), None)

    def has_class(self, cls):
        return cls in (self.attrs.get("class") or "").split()


VOID = {"meta", "link", "input", "br", "img", "hr"}


class DomBuilder(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", [], None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.children.append(n)
        if tag not in VOID:
            self.cur = n

    def handle_endtag(self, tag):
        n = self.cur
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("viewer_browser_test: Debian's chromium is not installed (scripts/setup installs it)")


def browser_args(profile):
    # --no-sandbox: the suite runs as root in CI, where Chromium's sandbox refuses to start.
    return [chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-extensions", "--disable-background-networking", "--disable-sync",
            "--disable-component-update", "--disable-default-apps", "--user-data-dir=" + profile,
            "--virtual-time-budget=8000", "--window-size=1400,1000"]


def dump(url, profile, view):
    """The page's DOM once the view VIEW has rendered (body[data-rendered])."""
    for attempt in range(3):
        out = subprocess.run(browser_args(profile) + ["--dump-dom", url], capture_output=True, text=True, timeout=120)
        b = DomBuilder()
        b.feed(out.stdout)
        body = b.root.find("body")
        if body is not None and body.attrs.get("data-rendered") == view:
            return b.root
        time.sleep(0.5)
    sys.exit(f"viewer_browser_test: {url} did not render view '{view}':\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")


def cells(tr):
    return [td.text().strip() for td in tr.find_all("td")]


def main():
    llmtap, fixture = sys.argv[1], sys.argv[2]
    shots = sys.argv[sys.argv.index("--screenshots") + 1] if "--screenshots" in sys.argv else None
    work = tempfile.mkdtemp(prefix="llmtap-ui-browser-")
    data = os.path.join(work, "data")
    os.mkdir(data, 0o700)
    subprocess.run([fixture, data], check=True)
    env = dict(os.environ, TZ="UTC")
    ui = subprocess.Popen([llmtap, "ui", "--listen", "127.0.0.1:0", "--data-dir", data],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = ui.stdout.readline().strip()
        check(line.startswith("ui http://127.0.0.1:") and "/?token=" in line, f"llmtap ui prints its URL ({line!r})")
        url = line.split(" ", 1)[1]
        profile = os.path.join(work, "profile")

        # The list: newest first, with each trace's numbers.
        dom = dump(url + "#/traces", profile, "traces")
        rows = list(dom.find("table", id="trace-list").find("tbody").find_all("tr"))
        check([r.attrs.get("data-trace-id") for r in rows] == [D, B, A, C], "list: D, B, A, C, newest first")
        a = cells(rows[2])
        check(a[2] == "support" and a[3] == "Triage, Billing" and a[4] == "gpt-4o, gpt-4o-mini", f"list: A's names {a}")
        check(a[5:] == ["u1", "s1", "10", "455ms", "$0.023", "2"], f"list: A's user, session, spans, duration, cost, errors {a[5:]}")
        check(cells(rows[1])[9] == "$0.02" and cells(rows[3])[9] == "$5.00", "list: B costs $0.02, C $5.00")
        check(rows[2].has_class("has-error") and not rows[0].has_class("has-error"), "list: A is marked as failed")

        # Filters go to the API and narrow the list.
        dom = dump(url + "#/traces?errors=none&user=u1", profile, "traces")
        rows = list(dom.find("table", id="trace-list").find("tbody").find_all("tr"))
        check([r.attrs.get("data-trace-id") for r in rows] == [D], "list filtered by user=u1, errors=none: D")

        # One trace: waterfall, tree, chat, tool arguments and result.
        dom = dump(url + f"#/trace/{D}?span=0000000000000003", profile, "trace")
        check(dom.find(id="trace-cost").find("div").text() == "$0.009", "trace D costs $0.009")
        check(dom.find(id="trace-model-calls").find("div").text() == "2", "trace D: 2 model calls")
        spans = [n.attrs["data-span-id"] for n in dom.find(id="waterfall").walk() if "data-span-id" in n.attrs]
        check(len(spans) == 5, f"trace D: 5 spans in the waterfall ({len(spans)})")
        details = dom.find(id="span-details")
        bubbles = [n for n in details.walk() if n.has_class("bubble")]
        texts = [b.text() for b in bubbles]
        check(any("Where is order 9? <b>now</b>" in t for t in texts), "trace D: the user's message shows as a chat bubble, as text")
        check(not any(n.tag == "b" for n in details.walk()), "trace D: markup in a message is never rendered")
        check(any("calls lookup_order" in t for t in texts), "trace D: the tool call shows in the assistant's bubble")
        check(any("You are a support agent." in t for t in texts), "trace D: the system instructions show")
        dom = dump(url + f"#/trace/{D}?span=0000000000000004", profile, "trace")
        details = dom.find(id="span-details")
        args = next(n for n in details.walk() if n.has_class("tool-arguments"))
        result = next(n for n in details.walk() if n.has_class("tool-result"))
        check('"id": 9' in args.text(), "trace D: tool arguments as JSON")
        check('"status": "shipped"' in result.text(), "trace D: tool result as JSON")
        attrs = {cells(tr)[0]: cells(tr)[1] for tr in details.find("table", id="span-attributes").find("tbody").find_all("tr")}
        check(attrs.get("gen_ai.tool.name") == "lookup_order" and attrs.get("gen_ai.tool.call.id") == "call_9",
              "trace D: the tool span's attributes")

        # A session: its traces in conversation order.
        dom = dump(url + "#/session/s1", profile, "session")
        rows = list(dom.find("table", id="session-traces-list").find("tbody").find_all("tr"))
        check([r.attrs.get("data-trace-id") for r in rows] == [A, D], "session s1: traces A then D")
        check(dom.find(id="session-cost").find("div").text() == "$0.032", "session s1 costs $0.032")

        # Dashboards.
        dom = dump(url + "#/health", profile, "health")
        card = lambda i: dom.find(id=i).find("div").text()
        check((card("health-runs"), card("health-success"), card("health-p95"), card("health-p99")) ==
              ("4", "75.0%", "455ms", "455ms"), "health: 4 runs, 75.0% success, p95 and p99 455ms")
        support = cells(dom.find("tr", data_workflow="support"))
        check(support[1:7] == ["3", "66.7%", "1", "400ms", "455ms", "455ms"], f"health: support's row {support}")
        dom = dump(url + "#/tools", profile, "tools")
        lookup = cells(dom.find("tr", data_tool="lookup_order"))
        refund = cells(dom.find("tr", data_tool="refund"))
        check(lookup[1:3] == ["5", "0"] and lookup[6] == "$0.034", f"tools: lookup_order {lookup}")
        check(refund[1:4] == ["1", "1", "100.0%"], f"tools: refund fails every time {refund}")
        dom = dump(url + "#/cost", profile, "cost")
        check(dom.find(id="cost-total").find("div").text() == "$5.05", "cost: $5.05 in total")
        check(cells(dom.find("table", id="cost-by-user").find("tr", data_key="u1"))[2] == "$0.032", "cost: u1 spent $0.032")
        top = [r.attrs.get("data-trace-id") for r in dom.find("table", id="top-traces").find("tbody").find_all("tr")]
        check(top == [C, A, B, D], "cost: most expensive traces C, A, B, D")
        bars = [n for n in dom.find(id="cost-over-time").walk() if n.has_class("chart-bar")]
        check(len(bars) == 51, f"cost: 51 hourly buckets ({len(bars)})")
        dom = dump(url + "#/alerts", profile, "alerts")
        check(dom.find(id="no-alerts") is not None and dom.find(id="no-alerts").text() == "no alerts", "alerts: no alerts")

        # Live updates: a trace written while the page is open appears in the list without a reload.
        if shutil.which("node") is None:
            check(False, "live updates: node is needed to drive Chromium over the DevTools protocol")
        else:
            out = subprocess.run(["node", os.path.join(os.path.dirname(os.path.abspath(__file__)), "live_update.mjs"),
                                  chromium(), os.path.join(work, "profile-live"), url + "#/traces", E,
                                  fixture, data, "--add-live"], capture_output=True, text=True, timeout=120)
            check(out.returncode == 0, f"live updates: the driver ran ({out.stderr[-800:]})")
            if out.returncode == 0:
                live = json.loads(out.stdout.strip().splitlines()[-1])
                check(live["before"] == [D, B, A, C], f"live updates: the list before the write {live['before']}")
                check(live["after"] == [E, D, B, A, C], f"live updates: E appears first {live['after']}")
                check(live["navigations"] == 0, f"live updates: without a reload ({live['navigations']} navigations)")
            # The new trace's root carries its alert as a span event, shown with the span.
            dom = dump(url + f"#/trace/{E}", profile, "trace")
            events = dom.find("table", id="span-events")
            check(events is not None, "trace E: the root's events table")
            if events is not None:
                ev = [cells(tr) for tr in events.find("tbody").find_all("tr")]
                check(len(ev) == 1 and ev[0][1] == "llmtap.alert" and "llmtap.alert.rule=big" in ev[0][2],
                      f"trace E: the alert event {ev}")

        if shots:
            os.makedirs(shots, exist_ok=True)
            for name, frag in (("traces", "#/traces"), ("trace", f"#/trace/{D}?span=0000000000000003"),
                               ("health", "#/health"), ("cost", "#/cost"), ("tools", "#/tools")):
                path = os.path.abspath(os.path.join(shots, f"ui-{name}.png"))
                subprocess.run(browser_args(profile) + ["--screenshot=" + path, url + frag],
                               capture_output=True, timeout=120, check=True)
                check(os.path.getsize(path) > 10000, f"screenshot {path}")
    finally:
        ui.terminate()
        try:
            ui.wait(timeout=10)
        except subprocess.TimeoutExpired:
            ui.kill()
        err = ui.stderr.read()
        shutil.rmtree(work, ignore_errors=True)
    check(ui.returncode == 0, f"llmtap ui exits 0 on SIGTERM ({ui.returncode}) {err[-500:]}")
    print(f"{len(failures) == 0 and 'all passed' or str(len(failures)) + ' failed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
