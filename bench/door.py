"""The whole door as phones use it (DESIGN.md §7): 3,000 learners through the real flow, 100 phones at once,
all behind one address 50 ms from the server, with 30,000 learners enrolled.

A known learner opens the door page, identifies and confirms (three requests); a first-timer opens it,
identifies, asks for the SMS code and registers with it (four). The phones (bench/door_client.py, one process,
uvloop) each hold every request half the round trip before it reaches the server and every response half the
round trip before the phone reads it: this machine's kernel has no `netem`, so the delay is made there, and all
phones come from one address (127.0.0.1), as a hall behind one Wi-Fi address does. The server is granian, as
docker-compose.yml runs it (BENCH_DOOR_MODE=granian, the default), or, to compare, gunicorn behind nginx
(BENCH_DOOR_MODE=nginx) or gunicorn alone with sync or threaded workers (BENCH_DOOR_MODE=sync|gthread). A
comment line says where the machine's CPU went. The line also prints probe_ms, the median time of a one-row
request from a phone, which shows the round trip is there.

    BENCH door learners_per_s=<n> known_per_s=<n> first_timers_per_s=<n> p50_ms=<n> p99_ms=<n> http_429=<n>
          errors=<n> rows_ok=<0|1> enrolled=<n> rtt_ms=<n> mode=<granian|nginx|sync|gthread>
    TARGET door known_per_s >= 150, p99_ms < 500, http_429 == 0, errors == 0, rows_ok == 1
"""

import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cme_portal.settings")
django.setup()

from django.conf import settings

from attendance import services
from attendance.models import Attendance
from bench.checkin import build, first_timer_numbers, free_port
from bench.targets import check
from cme_portal.accounts.models import User

ENROLLED, KNOWN, PHONES, RTT_MS = 30_000, 2_700, 100, 50
ROOT = Path(__file__).resolve().parent.parent


NGINX_CONF = """
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  include /etc/nginx/mime.types;
  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
  keepalive_timeout 30s;
  client_max_body_size 52m;
  upstream portal {{ server 127.0.0.1:{app_port}; keepalive 32; }}
  server {{
    listen {ip}:{port};
    location /static/ {{ alias {static}/; expires max; gzip_static on; }}
    location / {{
      proxy_pass http://portal;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_buffering on;
      proxy_request_buffering on;
    }}
  }}
}}
"""


def start_server(mode, ip, port, tmp):
    """granian, or gunicorn (and nginx in front of it); returns the processes to stop."""
    import redis

    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
    if redis_url:  # BENCH_REDIS_URL= (empty): each web process counts alone, to compare
        # The last run's rate-limit counters (a minute long) would throttle this one's hall.
        redis.Redis.from_url(redis_url).flushdb()
    workers = int(os.environ.get("BENCH_WORKERS", 2 * (os.cpu_count() or 2) + 1))
    env = {
        **os.environ,
        "ALLOWED_HOSTS": f"{ip},127.0.0.1",
        "SECURE_COOKIES": "0",
        "LOG_LEVEL": "WARNING",
        "SMS_SHOW_CODE_IN_PAGE": "1",  # the first-timers read their code off the page, as under `make run`
        "SMS_BACKEND": "cme_portal.accounts.sms.LocmemBackend",
        "NUM_PROXIES": "1" if mode == "nginx" else "0",
        # Rate limits shared by every web process through Redis, as in production (settings: REDIS_URL).
        "REDIS_URL": redis_url,
    }
    if mode == "granian":
        # Rust's HTTP server in front of the WSGI application: it reads and writes slow clients itself, so a
        # Python thread is held only while the view runs (no proxy needed for that).
        workers = int(os.environ.get("BENCH_WORKERS", os.cpu_count() or 2))
        threads = int(os.environ.get("BENCH_THREADS", "4"))
        command = [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", ip, "--port", str(port)]
        command += ["--workers", str(workers), "--blocking-threads", str(threads), "--log-level", "warning"]
        command += ["--backlog", "2048", "cme_portal.wsgi:application"]
        return [subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)], f"granian {workers}×{threads}"
    app_port = free_port() if mode == "nginx" else port
    bind = f"127.0.0.1:{app_port}" if mode == "nginx" else f"{ip}:{port}"
    command = [sys.executable, "-m", "gunicorn", "cme_portal.wsgi:application", "--bind", bind, "--workers", str(workers)]
    command += ["--backlog", "2048", "--log-level", "warning"]
    if mode == "gthread":
        command += ["--worker-class", "gthread", "--threads", "8"]
    processes = [subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)]
    if mode == "nginx":
        conf = Path(tmp) / "nginx.conf"
        conf.write_text(NGINX_CONF.format(tmp=tmp, app_port=app_port, ip=ip, port=port, static=settings.STATIC_ROOT))
        processes.append(subprocess.Popen(["nginx", "-c", str(conf)], start_new_session=True))
    return processes, f"{mode}, gunicorn {workers} workers"


def cpu_seconds(leaders):
    """CPU seconds (user + system) used so far by every live process of each session (its leader's pid), and by
    PostgreSQL's processes: where the machine's two cores went during the run."""
    tick = os.sysconf("SC_CLK_TCK")
    totals = dict.fromkeys(list(leaders) + ["postgres"], 0.0)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        session, used = int(fields[3]), (int(fields[11]) + int(fields[12])) / tick
        for name, pid in leaders.items():
            if session == pid:
                totals[name] += used
        if comm.startswith("postgres"):
            totals["postgres"] += used
    return totals


def wait_ready(base):
    """Wait for the server to answer."""
    import urllib.request

    for _ in range(300):
        try:
            urllib.request.urlopen(f"{base}/healthz/db/", timeout=2).read()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start")


def main():
    session = build(enrolled=ENROLLED)
    plan = services.plan_for(session)
    known = list(
        User.objects.filter(id_number__startswith="CHECKIN").order_by("id_number").values_list("id_number", flat=True)[:KNOWN]
    )
    first = list(enumerate(first_timer_numbers()))
    mode = os.environ.get("BENCH_DOOR_MODE", "granian")
    server_port = free_port()
    base = f"http://127.0.0.1:{server_port}"
    door_url = f"{base}/attendance/s/{session.pk}/in/{services.current_code(plan, 'in')}/"
    with tempfile.TemporaryDirectory() as tmp:
        processes, described = start_server(mode, "127.0.0.1", server_port, tmp)
        try:
            wait_ready(base)
            job = {
                "door_url": door_url,
                "known": known,
                "first_timers": first,
                "unit_pk": session.unit_id,
                "phones": PHONES,
                "rtt_ms": RTT_MS,
                "probe_url": f"{base}/healthz/db/",
                "deadline_s": 600,
            }
            job_file, results_file = Path(tmp) / "job.json", Path(tmp) / "results.json"
            job_file.write_text(json.dumps(job))
            names = ["server", "nginx"] if mode == "nginx" else ["server"]
            leaders = dict(zip(names, (process.pid for process in processes)))
            cpu_before, phones_before = cpu_seconds(leaders), resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run([sys.executable, "-m", "bench.door_client", job_file, results_file], cwd=ROOT, check=True)
            cpu_after, phones_after = cpu_seconds(leaders), resource.getrusage(resource.RUSAGE_CHILDREN)
            results = json.loads(results_file.read_text())
            cpu = {name: cpu_after[name] - cpu_before[name] for name in cpu_after}
            cpu["phones"] = (phones_after.ru_utime + phones_after.ru_stime) - (phones_before.ru_utime + phones_before.ru_stime)
        finally:
            for process in reversed(processes):
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)
    rows = Attendance.objects.filter(session=session)
    expected = len(known) + len(first)
    rows_ok = int(rows.count() == expected == rows.values("learner").distinct().count())
    latencies = results["latencies"]
    quantiles = statistics.quantiles(latencies, n=100)
    figures = {
        "learners_per_s": (results["known"] + results["first_timers"]) / results["elapsed"],
        "known_per_s": results["known"] / results["known_elapsed"],
        "first_timers_per_s": results["first_timers"] / results["elapsed"],
        "p50_ms": statistics.median(latencies),
        "p99_ms": quantiles[98],
        "http_429": results["http_429"],
        "errors": results["errors"],
        "rows_ok": rows_ok,
    }
    print("# CPU seconds during the run: " + ", ".join(f"{name} {used:.1f}" for name, used in cpu.items()))
    print(f"# {expected} learners ({len(known)} known, {len(first)} first-timers), {described}, {len(latencies)} requests")
    if results.get("why"):
        print(f"# failed flows, by the step they stopped at: {results['why']}")
    print(
        "BENCH door "
        + " ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items())
        + f" enrolled={ENROLLED} rtt_ms={RTT_MS} mode={mode} probe_ms={results['probe_ms']:.0f}",
        flush=True,
    )
    check("door", **figures)


if __name__ == "__main__":
    main()
