"""CSV import: 100,000 rows with steady memory and progress at least once a second.

Run (against a migrated database, with Redis):
  DATABASE_URL=postgres://…/breeze .venv/bin/python bench/csv_import.py [--rows 100000]

Writes the CSV to a temporary MEDIA_ROOT (1% of rows with a bad phone), then runs the import
task's service in a fresh child process while this process samples the child's RSS and the
import's progress counters every 20 ms. Prints the total time, rows per second, the child's
RSS at 10/50/90% of the rows and its peak (steady memory means these stay level as rows
grow), and the intervals between progress updates (median and max). The bench merchant and
its leads are deleted at the end.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "breeze.settings.test")


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write("phone,customer_name,order_id,order_total\n")
        for index in range(rows):
            phone = "12345" if index % 100 == 99 else f"+9198{index:08d}"
            out.write(f"{phone},Customer {index},A{index},{index} rupees\n")


def setup(rows: int, media: Path) -> int:
    """A bench merchant with the demo templates and an import of `rows` rows; its id."""
    from django.core.files import File

    from config.services import merchant_create
    from leads.models import LeadImport
    from templates_app.models import Template
    from templates_app.services import template_load_demos

    merchant = merchant_create(
        name="Bench", slug=f"bench-{uuid.uuid4().hex[:8]}", time_zone="Asia/Kolkata"
    )
    template_load_demos(merchant=merchant)
    template = Template.objects.get(merchant=merchant, slug="order-confirmation")
    source = media / "source.csv"
    write_csv(source, rows)
    lead_import = LeadImport(
        merchant=merchant, template=template, execution_mode="TELEPHONY", created_by="bench"
    )
    with source.open("rb") as handle:
        lead_import.file.save("bench.csv", File(handle))
    return lead_import.pk


def run(import_id: int) -> tuple[float, list[tuple[int, int]], list[float]]:
    """Import in a child process; (seconds, (processed, rss) samples, progress change times)."""
    import psutil  # type: ignore[import-untyped]

    from leads.models import LeadImport

    # Leads imported now are due at once; keep the dispatcher out of the measurement.
    child_env = {**os.environ, "BREEZE_DISPATCH_KICK": "0"}
    code = (
        "import django; django.setup(); from leads.imports import lead_import_run; "
        f"lead_import_run(import_id={import_id})"
    )
    samples: list[tuple[int, int]] = []
    updates: list[float] = []
    last_processed = -1
    started = time.monotonic()
    child = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=child_env)
    process = psutil.Process(child.pid)
    while child.poll() is None:
        try:
            rss = process.memory_info().rss
        except psutil.NoSuchProcess:
            break
        processed = (
            LeadImport.objects.filter(pk=import_id).values_list("processed_rows", flat=True).get()
        )
        if processed != last_processed:
            updates.append(time.monotonic())
            last_processed = processed
        samples.append((processed, rss))
        time.sleep(0.02)
    assert child.wait() == 0
    return time.monotonic() - started, samples, updates


def cleanup(import_id: int) -> None:
    from config.models import Merchant
    from leads.models import Lead, LeadImport, LeadTransition
    from templates_app.models import Template

    merchant_id = LeadImport.objects.values_list("merchant_id", flat=True).get(pk=import_id)
    leads = Lead.objects.filter(merchant_id=merchant_id)
    LeadTransition.objects.filter(lead__in=leads).delete()
    leads.delete()
    LeadImport.objects.filter(merchant_id=merchant_id).delete()
    Template.objects.filter(merchant_id=merchant_id).delete()
    Merchant.objects.filter(pk=merchant_id).delete()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    media = Path(tempfile.mkdtemp(prefix="bench-media-"))
    os.environ["MEDIA_ROOT"] = str(media)

    import django

    django.setup()
    from leads.models import LeadImport

    import_id = setup(args.rows, media)
    try:
        elapsed, samples, updates = run(import_id)
        lead_import = LeadImport.objects.get(pk=import_id)
        assert (lead_import.status, lead_import.processed_rows) == ("completed", args.rows)
        ok, failed = lead_import.ok_rows, lead_import.failed_rows
    finally:
        cleanup(import_id)

    def rss_near(fraction: float) -> float:
        target = args.rows * fraction
        return min(samples, key=lambda sample: abs(sample[0] - target))[1] / 2**20

    # The first change is the count pass finishing (total known, import starting).
    intervals = [later - earlier for earlier, later in itertools.pairwise(updates[1:])]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {args.rows} rows")
    print(
        f"imported {ok} ok, {failed} failed in {elapsed:.1f} s = {args.rows / elapsed:.0f} rows/s"
    )
    print(
        f"child RSS at 10% {rss_near(0.1):.0f} MiB, 50% {rss_near(0.5):.0f} MiB, "
        f"90% {rss_near(0.9):.0f} MiB, peak {max(rss for _, rss in samples) / 2**20:.0f} MiB"
    )
    print(
        f"progress updates: {len(updates)}, interval median "
        f"{statistics.median(intervals):.2f} s, max {max(intervals):.2f} s"
    )


if __name__ == "__main__":
    main()
