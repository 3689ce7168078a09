"""The phones of bench/door.py: 100 of them behind one address, each RTT_MS from the server.

Reads a job (JSON) and writes the results (JSON). No Django here: this process is the hall of phones, not the
portal. Each learner is a phone of its own (its own cookies, its own connection); PHONES of them scan at once,
all from 127.0.0.1, as a hall behind one Wi-Fi address. Bounded by the learner list and a deadline.

The round trip is made here: this machine's kernel has no `netem` (`tc qdisc add … netem` answers "Specified
qdisc kind is unknown"). Every request leaves the phone half a round trip before the server reads it, and every
response reaches the phone half a round trip after the server wrote it; what the server sees is what it would
see through netem or a delay line: a request that arrives late and a client that answers late, while its own
writes go into the socket's buffer at once (a page is a few kilobytes). Doing it in the phones' own event loop
costs no relay: a delay line in user space (bench/delayline.py, until issue 12's last session) copied every
byte through a third Python process and took a tenth of the machine's CPU from the server it measured.

The phones speak plain HTTP/1.1 with keep-alive (a connection per phone, gzip accepted as a phone's browser
does), written by hand: aiohttp's client cost the machine 0.6 ms of CPU a request, beside a server that needs
about two.

    python -m bench.door_client job.json results.json
"""

import asyncio
import json
import re
import sys
import time
import zlib
from urllib.parse import urlencode, urlsplit

CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CODE_RE = re.compile(r"验证码为 (\d{6})")
USER_AGENT = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"


class Phone:
    """One phone: its own cookies and its own keep-alive connection, ``delay`` seconds each way from the server."""

    def __init__(self, url, delay, timeout):
        parts = urlsplit(url)
        self.host, self.port, self.path = parts.hostname, parts.port, parts.path
        self.delay, self.timeout = delay, timeout
        self.cookies = {}
        self.reader = self.writer = None

    async def request(self, method, form=None, path=None):
        """(status, text) of one request; raises OSError, ValueError or TimeoutError."""
        return await asyncio.wait_for(self._request(method, form, path or self.path), self.timeout)

    async def _request(self, method, form, path):
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        body = urlencode(form).encode() if form is not None else b""
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"User-Agent: {USER_AGENT}"]
        head.append("Accept-Encoding: gzip")
        if self.cookies:
            head.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if method == "POST":
            head += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
        await asyncio.sleep(self.delay)  # the request's way to the server
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        status_line, _, header_block = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").partition("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers = {}
        for line in header_block.split("\r\n"):
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "set-cookie":
                cookie, _, _attributes = value.partition(";")
                key, _, cookie_value = cookie.partition("=")
                self.cookies[key.strip()] = cookie_value.strip()
            elif name:
                headers[name] = value
        if "content-length" in headers:
            content = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            content = await self._chunked()
        else:
            content = await self.reader.read()
        if headers.get("connection", "").lower() == "close":
            self.close()
        if headers.get("content-encoding") == "gzip":
            content = zlib.decompress(content, 16 + zlib.MAX_WBITS)
        await asyncio.sleep(self.delay)  # the response's way back
        return status, content.decode()

    async def _chunked(self):
        chunks = []
        while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
            chunks.append(await self.reader.readexactly(size + 2))
        await self.reader.readuntil(b"\r\n")
        return b"".join(chunk[:-2] for chunk in chunks)

    def close(self):
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None


class Phones:
    def __init__(self, job):
        self.job = job
        self.delay = job["rtt_ms"] / 2000
        self.latencies = []
        self.http_429 = self.errors = 0
        self.known_done, self.first_done = [], []
        self.why = {}  # the step a failed flow stopped at, and its status: what the bench prints

    def failed(self, step, status):
        key = f"{step}:{status}"
        self.why[key] = self.why.get(key, 0) + 1
        return False

    async def request(self, phone, method, data=None):
        started = time.perf_counter()
        status, text = await phone.request(method, data)
        self.latencies.append((time.perf_counter() - started) * 1000)
        if status == 429:
            self.http_429 += 1
        return status, text

    async def known(self, phone, identifier):
        status, page = await self.request(phone, "GET")
        token = CSRF_RE.search(page).group(1) if status == 200 else ""
        status, page = await self.request(
            phone, "POST", {"step": "identify", "identifier": identifier, "csrfmiddlewaretoken": token}
        )
        if status != 200 or "确认签到" not in page:
            return self.failed("identify", status)
        status, page = await self.request(
            phone, "POST", {"step": "confirm", "identifier": identifier, "csrfmiddlewaretoken": token}
        )
        return (status == 200 and "签到成功" in page) or self.failed("confirm", status)

    async def first_timer(self, phone, n, number):
        status, page = await self.request(phone, "GET")
        token = CSRF_RE.search(page).group(1) if status == 200 else ""
        status, page = await self.request(phone, "POST", {"step": "identify", "identifier": number, "csrfmiddlewaretoken": token})
        if status != 200 or "首次签到" not in page:
            return self.failed("first-identify", status)
        form = {
            "step": "register",
            "csrfmiddlewaretoken": token,
            "id_type": "resident_id",
            "id_number": number,
            "name": "新学员",
            "mobile": f"16{n:09d}",  # not the check-in bench's numbers (a code a minute per number)
            "unit": str(self.job["unit_pk"]),
            "department": "内科",
            "unit_location": "杭州",
            "grassroots": "0",
            "title": "junior",
        }
        status, page = await self.request(phone, "POST", {**form, "send_code": "1"})
        code = CODE_RE.search(page) if status == 200 else None
        if not code:
            notice = re.search(r'role="(?:alert|status)">([^<]*)', page)
            return self.failed(f"send-code {notice.group(1) if notice else ''}", status)
        status, page = await self.request(phone, "POST", {**form, "sms_code": code.group(1)})
        return (status == 200 and "签到成功" in page) or self.failed("register", status)

    async def probe(self):
        """The median of ten one-row requests (/healthz/db/) from a phone: shows the round trip is there."""
        phone, times = Phone(self.job["door_url"], self.delay, 10), []
        probe_path = urlsplit(self.job["probe_url"]).path
        for _ in range(10):
            started = time.perf_counter()
            await phone.request("GET", path=probe_path)
            times.append((time.perf_counter() - started) * 1000)
        phone.close()
        return sorted(times)[len(times) // 2]

    async def run(self):
        probe_ms = await self.probe()
        queue = asyncio.Queue()
        known, first = self.job["known"], [tuple(item) for item in self.job["first_timers"]]
        # First-timers arrive among the known learners, one in ten.
        every = max(1, len(known) // max(1, len(first)))
        for index, identifier in enumerate(known):
            queue.put_nowait(("known", identifier))
            if index % every == every - 1 and first:
                queue.put_nowait(("first", first.pop(0)))
        for item in first:
            queue.put_nowait(("first", item))
        deadline = time.monotonic() + self.job["deadline_s"]

        async def phone_worker():
            while not queue.empty() and time.monotonic() < deadline:
                kind, item = queue.get_nowait()
                phone = Phone(self.job["door_url"], self.delay, 60)
                try:
                    ok = await (self.known(phone, item) if kind == "known" else self.first_timer(phone, *item))
                except (TimeoutError, OSError, ValueError, asyncio.IncompleteReadError, AttributeError) as error:
                    ok = self.failed(f"{kind}:{error.__class__.__name__}", "-")
                finally:
                    phone.close()
                now = time.perf_counter()
                if not ok:
                    self.errors += 1
                elif kind == "known":
                    self.known_done.append(now)
                else:
                    self.first_done.append(now)

        started = time.perf_counter()
        await asyncio.gather(*(phone_worker() for _ in range(self.job["phones"])))
        elapsed = time.perf_counter() - started
        return {
            "elapsed": elapsed,
            "known": len(self.known_done),
            "known_elapsed": (max(self.known_done) - started) if self.known_done else elapsed,
            "first_timers": len(self.first_done),
            "latencies": self.latencies,
            "http_429": self.http_429,
            "errors": self.errors,
            "why": self.why,
            "probe_ms": probe_ms,
        }


def run(coroutine):
    """uvloop's event loop where installed (a dev dependency): the harness's own CPU is the server's loss."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def main():
    job = json.load(open(sys.argv[1]))
    results = run(Phones(job).run())
    json.dump(results, open(sys.argv[2], "w"))


if __name__ == "__main__":
    main()
