"""The province's compliance export as a worker builds it (issue 12, item 2): rows, seconds, peak memory.

Reuses the compliance benchmark's province (bench/compliance.py builds it with set-returning SQL; kept
between runs) and runs the export job in this process the way a Celery worker does
(``credits.jobs.run_job``). Memory is the kernel's own high-water mark of this process (VmHWM), reset
just before the job (``/proc/self/clear_refs``), beside the resident size before it: with openpyxl's
write-only mode fed by a server-side cursor, the peak must not grow with the number of rows.

    BENCH export rows=<n> seconds=<n> rss_before_mb=<n> peak_rss_mb=<n> growth_mb=<n>

Run alone: DATABASE_URL=postgres://postgres@127.0.0.1:5432/cme_bench_… BENCH_SIZE=small python -m bench.export
"""

import os
import time

from bench.compliance import LEARNERS, YEAR, build  # sets up Django
from cme_portal.accounts.models import User
from credits import jobs
from credits.models import BackgroundJob


def status_mb(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def measure():
    admin = User.objects.get(id_number="PROVINCE-BENCH")
    job = jobs.request_compliance_export(admin, {"year": str(YEAR)})
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # the peak (VmHWM) starts again from the resident size now
    except OSError:
        pass
    before = status_mb("VmRSS")
    started = time.perf_counter()
    assert jobs.run_job(job.pk) == "done", BackgroundJob.objects.get(pk=job.pk).result
    seconds = time.perf_counter() - started
    peak = status_mb("VmHWM")
    job.refresh_from_db()
    size_mb = job.file.size / 1024 / 1024
    job.file.delete(save=False)
    job.delete()
    return job.done, seconds, before, peak, size_mb


if __name__ == "__main__":
    build()
    rows, seconds, before, peak, size_mb = measure()
    assert rows == LEARNERS, (rows, LEARNERS)
    print(f"# export: {rows} learners of the province, file {size_mb:.1f} MB", flush=True)
    print(
        f"BENCH export rows={rows} seconds={seconds:.1f} rss_before_mb={before:.0f} peak_rss_mb={peak:.0f} "
        f"growth_mb={peak - before:.0f} size={os.environ.get('BENCH_SIZE', 'full') or 'full'}",
        flush=True,
    )
