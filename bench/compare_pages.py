"""Two checkouts' pages rendered afresh, request by request in turn: before against after.

    .venv/bin/python bench/compare_pages.py \\
        --before ../main_copy sqlite:////tmp/world10.sqlite3 \\
        --after . sqlite:////tmp/world10_migrated.sqlite3 --repeat 7

Each side runs its own `bench/render_pages.py --serve` (its own code, its own database:
the same data, migrated or not), and the pages are requested from the two in turn,
the order swapped every round (after one unmeasured request each), so a change in the
machine's load falls on both alike.
On a shared machine, runs one after the other differed by 2 to 3 times for the same
code (bench/README.md); in turn, the ratios hold. Prints each page's median and fastest
milliseconds on both sides and the ratio of the medians (before / after).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path


class Side:
    def __init__(self, checkout, database_url):
        script = Path(checkout) / "bench" / "render_pages.py"
        self.process = subprocess.Popen(
            [sys.executable, str(script), "--serve"],
            cwd=checkout,
            env={**os.environ, "DATABASE_URL": database_url},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.header = json.loads(self.process.stdout.readline())

    def time(self, path):
        self.process.stdin.write(path + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--before", nargs=2, metavar=("CHECKOUT", "DATABASE_URL"), required=True)
    parser.add_argument("--after", nargs=2, metavar=("CHECKOUT", "DATABASE_URL"), required=True)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", default="", help="pages whose label contains this")
    args = parser.parse_args()
    before, after = Side(*args.before), Side(*args.after)
    header = after.header
    print(
        f"{header['vendor']}, {header['twinnings']:,} twinnings; PAGE_CACHE=0, caches cleared "
        f"before each request; {args.repeat} requests a side, in turn; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'page':<44}{'before ms':>16}{'after ms':>16}{'ratio':>7}")
    print(f"{'':<44}{'median  best':>16}{'median  best':>16}")
    for label, path in header["pages"]:
        if args.only not in label:
            continue
        before.time(path)  # unmeasured: templates compiled, connections open
        after.time(path)
        times = {"before": [], "after": []}
        rows = 0
        for round_ in range(args.repeat):
            order = [("before", before), ("after", after)]
            for name, side in order if round_ % 2 == 0 else reversed(order):
                answer = side.time(path)
                times[name].append(answer["ms"])
                rows = answer["rows"]
        b, a = statistics.median(times["before"]), statistics.median(times["after"])
        rate = f"  {rows / (b / 1000):,.0f} -> {rows / (a / 1000):,.0f} rows/s" if rows else ""
        print(
            f"{label:<44}{b:>9,.0f}{min(times['before']):>7,.0f}"
            f"{a:>9,.0f}{min(times['after']):>7,.0f}{b / a:>7.2f}{rate}",
            flush=True,
        )
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    before.close()
    after.close()


if __name__ == "__main__":
    main()
