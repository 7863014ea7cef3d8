"""Where the site search's time goes: each kind's part, built, fetched and counted alone.

    DATABASE_URL=sqlite:////tmp/world.sqlite3 .venv/bin/python bench/search_parts.py ankara

For each kind the search page lists (activities/views.py, SearchView), it times
building the ranked queryset, building it and fetching its first ten rows, and building
it and counting its rows, in process (the median of --repeat runs, in ms). The page
runs the three steps once per kind: build, rows, then the count when ten rows came back.
The last column is the SQL of the ten rows alone, run straight on a cursor: what the
database costs of the second column.
Prepare the database with `bench/render_pages.py --prepare`.
"""

import argparse
import statistics
import time

from render_pages import setup_django


def median_ms(step, repeat):
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("q")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    setup_django()
    from django.db import connection

    from activities.models import Activity, Agreement, Network, Theme, Twinning
    from cities.models import City

    kinds = {
        "cities": lambda: City.objects.published().search(args.q),
        "twinnings": lambda: Twinning.objects.published().search(args.q),
        "networks": lambda: Network.objects.published().search(args.q),
        "agreements": lambda: Agreement.objects.published().search(args.q),
        "activities": lambda: Activity.objects.published().search(args.q),
        "themes": lambda: Theme.objects.search(args.q),
    }

    def run_sql(sql, params):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            cursor.fetchall()

    print(f"{'kind':12} {'build ms':>9} {'+ rows ms':>10} {'+ count ms':>11} {'rows SQL ms':>12}")
    for kind, build in kinds.items():
        rows = build()[:10]
        if rows.query.is_empty():  # nothing matched: the page runs no query for it
            sql_ms = "-"
        else:
            sql, params = rows.query.sql_with_params()
            sql_ms = (
                f"{median_ms(lambda sql=sql, params=params: run_sql(sql, params), args.repeat):.2f}"
            )
        print(
            f"{kind:12} {median_ms(build, args.repeat):9.2f}"
            f" {median_ms(lambda build=build: list(build()[:10]), args.repeat):10.2f}"
            f" {median_ms(lambda build=build: build().count(), args.repeat):11.2f}"
            f" {sql_ms:>12}"
        )


if __name__ == "__main__":
    main()
