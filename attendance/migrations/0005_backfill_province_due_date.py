from datetime import timedelta

from django.db import migrations


def backfill(apps, schema_editor):
    """Rosters already waiting for the province get its two weeks from when they were forwarded."""
    Roster = apps.get_model("attendance", "Roster")
    for roster in Roster.objects.filter(state="forwarded", province_due_date__isnull=True):
        forwarded = roster.state_changed_at.date() if roster.state_changed_at else roster.due_date
        roster.province_due_date = forwarded + timedelta(days=14)
        roster.save(update_fields=["province_due_date"])


class Migration(migrations.Migration):
    dependencies = [("attendance", "0004_roster_province_due_date")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
