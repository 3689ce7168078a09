"""Check the compliance report's totals (LearnerYearTotal) against a recomputation from the ledger.

    python manage.py check_compliance_totals            # prints the differences; exit 1 when any
    python manage.py check_compliance_totals --repair   # rebuilds every total from the ledger

The triggers of credits/totals.py keep the totals in the same transaction as every ledger row; a
difference means someone wrote the totals by hand or loaded data with the triggers off.
"""

import sys
import time

from django.core.management.base import BaseCommand

from credits import totals


def _show(values):
    if values is None:
        return "absent"
    return " ".join(f"{name}={values[name]}" for name in totals.NAMES)


class Command(BaseCommand):
    help = "Compare the per-learner-per-year totals with the ledger; --repair rebuilds them."

    def add_arguments(self, parser):
        parser.add_argument("--repair", action="store_true", help="rebuild every total from the ledger")
        parser.add_argument("--show", type=int, default=50, help="how many differences to print (default 50)")

    def handle(self, *args, repair=False, show=50, **options):
        started = time.perf_counter()
        found = totals.differences()
        for learner, year, stored, expected in found[:show]:
            self.stdout.write(f"learner {learner} year {year}: stored {_show(stored)}; ledger {_show(expected)}")
        if len(found) > show:
            self.stdout.write(f"… and {len(found) - show} more")
        self.stdout.write(f"{len(found)} differences ({time.perf_counter() - started:.1f} s)")
        if repair:
            rows = totals.rebuild()
            left = totals.differences()
            self.stdout.write(f"repaired: {rows} totals rebuilt from the ledger; {len(left)} differences left")
            if left:
                sys.exit(1)
        elif found:
            sys.exit(1)
