"""The phones of bench/door.py: run inside the bench's network namespace, 50 ms from the server.

Reads a job (JSON) and writes the results (JSON). No Django here: this process is the hall of phones, not
the portal. Each learner is a phone of its own (its own cookies, its own connection); PHONES of them scan at
once, all behind the namespace's one address. Bounded by the learner list and a deadline.

    ip netns exec cmebench python -m bench.door_client job.json results.json
"""

import asyncio
import json
import re
import sys
import time

import aiohttp

from bench.delayline import run

CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CODE_RE = re.compile(r"验证码为 (\d{6})")


class Phones:
    def __init__(self, job):
        self.job = job
        self.latencies, self.statuses = [], []
        self.http_429 = self.errors = 0
        self.known_done, self.first_done = [], []
        self.why = {}  # the step a failed flow stopped at, and its status: what the bench prints

    def failed(self, step, status):
        key = f"{step}:{status}"
        self.why[key] = self.why.get(key, 0) + 1
        return False

    async def request(self, phone, method, data=None):
        started = time.perf_counter()
        async with phone.request(method, self.job["door_url"], data=data) as response:
            text = await response.text()
        self.latencies.append((time.perf_counter() - started) * 1000)
        if response.status == 429:
            self.http_429 += 1
        return response.status, text

    async def known(self, phone, identifier):
        status, page = await self.request(phone, "GET")
        token = CSRF_RE.search(page).group(1) if status == 200 else ""
        status, page = await self.request(
            phone, "POST", {"step": "identify", "identifier": identifier, "csrfmiddlewaretoken": token}
        )
        if status != 200 or "确认签到" not in page:
            return False
        status, page = await self.request(
            phone, "POST", {"step": "confirm", "identifier": identifier, "csrfmiddlewaretoken": token}
        )
        return status == 200 and "签到成功" in page

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

    async def run(self):
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
        timeout = aiohttp.ClientTimeout(total=60)

        async def phone_worker():
            while not queue.empty() and time.monotonic() < deadline:
                kind, item = queue.get_nowait()
                async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), timeout=timeout) as phone:
                    try:
                        ok = await (self.known(phone, item) if kind == "known" else self.first_timer(phone, *item))
                    except (TimeoutError, aiohttp.ClientError, AttributeError):
                        ok = False
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
        }


def main():
    job = json.load(open(sys.argv[1]))
    results = run(Phones(job).run())
    json.dump(results, open(sys.argv[2], "w"))


if __name__ == "__main__":
    main()
