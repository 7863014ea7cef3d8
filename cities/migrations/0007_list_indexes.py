from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cities", "0006_i12_merge_i14"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="city",
            index=models.Index(fields=["review_state", "name", "country"], name="city_names_idx"),
        ),
        migrations.AddIndex(
            model_name="city",
            index=models.Index(
                fields=["review_state", "country", "kind", "is_capital"], name="city_groups_idx"
            ),
        ),
        # Statistics for the new indexes, so the planners weigh them at once: SQLite keeps
        # none for an index until ANALYZE, and then takes one led by the review state for
        # selective (the networks list's member counts scanned every city, 310 ms).
        migrations.RunSQL("ANALYZE cities_city", migrations.RunSQL.noop),
    ]
