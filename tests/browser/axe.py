"""axe-core on every page the browser tests visit (issue 13, WCAG 2.2 AA).

Every page a test opens, at whatever width its context has, is checked once per document: a page is marked
when its main frame navigates, and checked at the next moment the test touches it (any action or query on the
page or one of its locators, after goto/wait_for_url, before a context or page closes). Checking at those
moments, never inside Playwright's event handlers, keeps axe out of the test's way: the page is loaded and the
test is not in the middle of an action. Serious and critical violations fail the test at teardown; the session
ends with the number of distinct pages (URL pattern × viewport width) checked.

axe is evaluated through the DevTools protocol (page.evaluate), which the portal's content security policy
does not block, so the tests need no bypass_csp and the pages are checked under the policy users get.
"""

import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from django.urls import Resolver404, resolve
from playwright.sync_api import Browser, BrowserContext, Locator, Page
from playwright.sync_api import Error as PlaywrightError

AXE_JS = Path(__file__).resolve().parents[2] / "static" / "vendor" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
FAILING_IMPACTS = {"serious", "critical"}

RUN = """async (tags) => {
  if (document.contentType !== 'text/html') return null;
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({target: n.target.join(' '), impact: n.impact, summary: n.failureSummary})),
  }));
}"""

# Actions and queries after which (or before which) the page a test works on is checked.
PAGE_BEFORE = (
    "check click dblclick fill press select_option set_input_files tap type uncheck screenshot close goto "
    "reload go_back go_forward set_viewport_size get_attribute inner_text input_value is_checked is_visible "
    "text_content wait_for_selector evaluate content title"
).split()
PAGE_AFTER = "goto reload go_back go_forward wait_for_url wait_for_load_state wait_for_function".split()
LOCATOR_BEFORE = (
    "all all_inner_texts all_text_contents bounding_box check clear click count dblclick evaluate evaluate_all "
    "fill focus get_attribute hover inner_text input_value is_checked is_disabled is_enabled is_hidden is_visible "
    "press press_sequentially screenshot select_option set_checked set_input_files tap text_content type uncheck "
    "wait_for"
).split()
LOCATOR_AFTER = ["wait_for"]


@dataclass
class Finding:
    rule: str
    impact: str
    help: str
    target: str
    summary: str
    url: str
    pattern: str
    width: int

    def line(self):
        summary = " ".join(self.summary.split())[:200]
        return f"[{self.impact}] {self.rule} ({self.help}) at {self.target} on {self.url} ({self.width} px): {summary}"


@dataclass
class Tally:
    """What axe saw over the session: pages by (pattern, width), runs, and serious/critical findings."""

    pages: set = field(default_factory=set)
    runs: int = 0
    findings: list = field(default_factory=list)
    active: bool = False


TALLY = Tally()
_local = threading.local()
_source = None


def pattern_of(url):
    path = urlsplit(url).path
    try:
        return "/" + resolve(path).route
    except Resolver404:
        return path


def _axe_source():
    global _source
    if _source is None:
        _source = AXE_JS.read_text(encoding="utf-8")
    return _source


class Watch:
    """The pages of one test: which still wait for a check, and the findings so far."""

    def __init__(self):
        self.dirty = {}  # Page -> True when its document has not been checked yet
        self.findings = []
        self.seen = set()

    def adopt(self, page):
        if page in self.dirty:
            return
        self.dirty[page] = page.url.startswith(("http://", "https://"))

        def navigated(frame):
            if frame == page.main_frame:
                self.dirty[page] = True

        page.on("framenavigated", navigated)

    def check(self, page):
        if not self.dirty.get(page) or getattr(_local, "busy", False):
            return
        if page.is_closed():
            self.dirty[page] = False
            return
        _local.busy = True
        try:
            self.dirty[page] = False
            page.wait_for_load_state("load")
            url = page.url
            if not url.startswith(("http://", "https://")):
                return
            if not page.evaluate("() => typeof window.axe === 'object'"):
                page.evaluate(_axe_source())
            violations = page.evaluate(RUN, TAGS)
            if page.url != url:
                self.dirty[page] = True  # the page moved on while axe ran: check the new one
                return
        except PlaywrightError as error:
            message = str(error)
            if "context was destroyed" in message or "navigat" in message or "closed" in message:
                self.dirty[page] = not page.is_closed()  # it navigated mid-check: the next touch checks it
                return
            raise
        finally:
            _local.busy = False
        if violations is None:
            return
        width = page.viewport_size["width"] if page.viewport_size else 0
        pattern = pattern_of(url)
        TALLY.runs += 1
        TALLY.pages.add((pattern, width))
        for violation in violations:
            for node in violation["nodes"]:
                impact = node["impact"] or violation["impact"]
                if impact not in FAILING_IMPACTS:
                    continue
                key = (violation["id"], node["target"], pattern, width)
                if key in self.seen:
                    continue
                self.seen.add(key)
                finding = Finding(
                    violation["id"], impact, violation["help"], node["target"], node["summary"] or "", url, pattern, width
                )
                self.findings.append(finding)
                TALLY.findings.append(finding)

    def check_all(self):
        for page in list(self.dirty):
            self.check(page)


def _current():
    return getattr(_local, "watch", None)


def _wrap(cls, name, page_of, before, after):
    original = getattr(cls, name)

    def wrapped(self, *args, **kwargs):
        watch = _current()
        if watch is not None and before:
            page = page_of(self)
            if page is not None:
                watch.adopt(page)
                watch.check(page)
        result = original(self, *args, **kwargs)
        if watch is not None and after:
            page = page_of(self)
            if page is not None:
                watch.adopt(page)
                watch.check(page)
        return result

    wrapped.__wrapped__ = original
    return original, wrapped


def _patches():
    found = []
    for name in set(PAGE_BEFORE) | set(PAGE_AFTER):
        found.append((Page, name, *_wrap(Page, name, lambda p: p, name in PAGE_BEFORE, name in PAGE_AFTER)))
    for name in set(LOCATOR_BEFORE) | set(LOCATOR_AFTER):
        found.append((Locator, name, *_wrap(Locator, name, lambda loc: loc.page, name in LOCATOR_BEFORE, name in LOCATOR_AFTER)))

    def adopt_pages_of(context):
        context.on("page", lambda page: _current() and _current().adopt(page))
        return context

    original_new_context = Browser.new_context

    def new_context(self, *args, **kwargs):
        return adopt_pages_of(original_new_context(self, *args, **kwargs))

    found.append((Browser, "new_context", original_new_context, new_context))
    original_new_page = Browser.new_page

    def new_page(self, *args, **kwargs):
        page = original_new_page(self, *args, **kwargs)
        if _current():
            _current().adopt(page)
        return page

    found.append((Browser, "new_page", original_new_page, new_page))

    def closing(cls, name, pages_of):
        original = getattr(cls, name)

        def wrapped(self, *args, **kwargs):
            if _current():
                for page in pages_of(self):
                    _current().check(page)
            return original(self, *args, **kwargs)

        return (cls, name, original, wrapped)

    found.append(closing(BrowserContext, "close", lambda context: context.pages))
    found.append(closing(BrowserContext, "clear_cookies", lambda context: context.pages))
    found.append(closing(Browser, "close", lambda browser: [p for c in browser.contexts for p in c.pages]))
    return found


class watching:
    """Context manager for one test: patch Playwright's sync classes, yield the Watch, restore them."""

    def __enter__(self):
        TALLY.active = True
        self.watch = Watch()
        _local.watch = self.watch
        self.patches = _patches()
        for cls, name, _original, wrapped in self.patches:
            setattr(cls, name, wrapped)
        return self.watch

    def __exit__(self, *exc):
        try:
            self.watch.check_all()
        finally:
            for cls, name, original, _wrapped in self.patches:
                setattr(cls, name, original)
            _local.watch = None
        return False


def report(findings):
    return "axe-core found serious/critical WCAG 2.2 AA violations:\n" + "\n".join(f.line() for f in findings)


def summary_line():
    return f"axe: {len(TALLY.pages)} pages checked ({TALLY.runs} runs), {len(TALLY.findings)} serious/critical violations"
