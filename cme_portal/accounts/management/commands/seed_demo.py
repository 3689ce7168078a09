from importlib import import_module, util

from django.core.management.base import BaseCommand
from django.db import transaction

# Each app that has demo data keeps it in <app>/demo.py with a seed() function;
# they run in this order because later ones build on earlier ones.
DEMO_MODULES = ["cme_portal.accounts.demo", "projects.demo", "credits.demo", "attendance.demo", "certificates.demo"]


class Command(BaseCommand):
    help = "Load the demo province, accounts and data. Safe to run again: nothing is duplicated."

    def handle(self, *args, **options):
        with transaction.atomic():
            for name in DEMO_MODULES:
                if util.find_spec(name) is None:
                    continue
                import_module(name).seed()
                self.stdout.write(f"seeded {name}")
        self.stdout.write(self.style.SUCCESS("Demo data ready. Password for every demo account: Demo@2026"))
