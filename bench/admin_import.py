"""The admin import of a large twinnings file, through gunicorn, on SQLite and PostgreSQL.

    .venv/bin/python bench/admin_import.py                      # 10,000 rows, both databases
    .venv/bin/python bench/admin_import.py --rows 2000 --database sqlite

For each database: a fresh database with the curated catalogue, a chief editor, and a
CSV of `--rows` new twinnings between catalogue cities (each with a source). gunicorn
serves the app as the README says (production settings, the workers gunicorn.conf.py
sets, its default 30 s worker timeout); the script logs in, uploads the file to the twinnings
"Import" page (the preview) and confirms it, timing each step as a browser would see
it, and checks that every row was written. Target: under 20 s per step.
"""

import argparse
import http.cookiejar
import re
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from html import unescape
from pathlib import Path

from production_env import gunicorn_options, gunicorn_serving, production_env

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PG_DB = "citydiplo_i12_importbench"
PASSWORD = "bench passphrase " + secrets.token_hex(8)

MAKE_FILE = """
import csv, itertools, os
from activities.models import Source, Twinning
from cities.models import City
rows = int(os.environ["BENCH_ROWS"]); path = os.environ["BENCH_FILE"]
source = Source.objects.order_by("key").first().key
slugs = list(City.objects.published().order_by("slug").values_list("slug", flat=True))
taken = {frozenset(p) for p in Twinning.objects.values_list("city_a__slug", "city_b__slug")}
with open(path, "w", newline="", encoding="utf-8") as handle:
    out = csv.writer(handle)
    out.writerow(["city_a", "city_b", "kind", "start_year", "status", "status_year",
                  "sources", "review_state"])
    written = 0
    for a, b in itertools.combinations(slugs, 2):
        if frozenset((a, b)) in taken:
            continue
        out.writerow([a, b, "twin_town", 1990 + written % 30, "active", "", source,
                      "published"])
        written += 1
        if written == rows:
            break
print(written)
"""


def manage(env, *args, **kwargs):
    return subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, text=True, **kwargs
    )


class Browser:
    def __init__(self, base):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def csrf(self):
        return next(c.value for c in self.jar if c.name == "csrftoken")

    def get(self, path):
        with self.opener.open(self.base + path, timeout=120) as response:
            return response.status, response.read().decode()

    def post(self, path, fields, files=None):
        headers = {"Referer": self.base + path, "X-CSRFToken": self.csrf()}
        fields = {**fields, "csrfmiddlewaretoken": self.csrf()}
        if files:
            boundary = "----bench" + secrets.token_hex(8)
            parts = []
            for name, value in fields.items():
                parts.append(
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                    f"{value}\r\n".encode()
                )
            for name, (filename, content) in files.items():
                parts.append(
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                    f'filename="{filename}"\r\nContent-Type: text/csv\r\n\r\n'.encode()
                    + content
                    + b"\r\n"
                )
            body = b"".join(parts) + f"--{boundary}--\r\n".encode()
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        else:
            body = urllib.parse.urlencode(fields, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(self.base + path, data=body, headers=headers)
        try:
            with self.opener.open(request, timeout=120) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")


def hidden_inputs(html, form_action):
    form = html[html.index(f'action="{form_action}"') :]
    form = form[: form.index("</form>")]
    return {
        name: unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)
        if name != "csrfmiddlewaretoken"
    }


def wait_until_up(url, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer at {url}")


def measure(database, rows, port, args):
    tmp = Path(tempfile.mkdtemp(prefix="citydiplo-import-bench-"))
    env = production_env(tmp / "static")
    env["ALLOWED_HOSTS"] = "127.0.0.1"
    env["SESSION_COOKIE_SECURE"] = "0"
    env["CSRF_COOKIE_SECURE"] = "0"
    env["CSRF_TRUSTED_ORIGINS"] = f"http://127.0.0.1:{port}"
    if database == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    else:
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", PG_DB])
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", PG_DB], check=True)
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{PG_DB}"
    manage(env, "migrate", "-v0")
    manage(env, "load_catalogue", "-v0", stdout=subprocess.DEVNULL)
    manage(env, "collectstatic", "--noinput", "-v0")
    manage(env, "create_editor", "bench", "--chief", "--password", PASSWORD)
    path = tmp / "twinnings.csv"
    written = manage(
        {**env, "BENCH_ROWS": str(rows), "BENCH_FILE": str(path)},
        "shell",
        "-c",
        MAKE_FILE,
        capture_output=True,
    )
    print(f"{database}: file of {written.stdout.split()[-1]} rows, {path.stat().st_size:,} bytes")
    server = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "citydiplo.wsgi", "--bind", f"127.0.0.1:{port}",
         *gunicorn_options(args), "--access-logfile", "/dev/null",
         "--error-logfile", str(tmp / "gunicorn.log")],
        cwd=ROOT,
        env=env,
    )  # fmt: skip
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz")
        browser = Browser(f"http://127.0.0.1:{port}")
        browser.get("/admin/login/")
        status, _ = browser.post(
            "/admin/login/", {"username": "bench", "password": PASSWORD, "next": "/admin/"}
        )
        import_path = "/admin/activities/twinning/import/"
        browser.get(import_path)
        started = time.monotonic()
        status, html = browser.post(
            import_path,
            {"format": "0", "resource": "0"},
            files={"import_file": ("twinnings.csv", path.read_bytes())},
        )
        preview = time.monotonic() - started
        ok = status == 200 and "process_import" in html
        print(f"{database}: preview {preview:.1f} s (HTTP {status}{'' if ok else ', FAILED'})")
        if not ok:
            return preview, None
        confirm = hidden_inputs(html, "/admin/activities/twinning/process_import/")
        started = time.monotonic()
        status, html = browser.post("/admin/activities/twinning/process_import/", confirm)
        imported = time.monotonic() - started
        count = manage(
            env,
            "shell",
            "-c",
            "from activities.models import Twinning; print(Twinning.objects.count())",
            capture_output=True,
        ).stdout.split()[-1]
        print(f"{database}: import {imported:.1f} s (HTTP {status}), twinnings now {count}")
        return preview, imported
    finally:
        server.terminate()
        server.wait(timeout=30)
        if database == "postgresql":
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", PG_DB])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--port", type=int, default=8120)
    parser.add_argument("--workers", type=int, help="default: gunicorn.conf.py's")
    parser.add_argument("--threads", type=int, help="default: gunicorn.conf.py's")
    args = parser.parse_args()
    databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    results = {db: measure(db, args.rows, args.port, args) for db in databases}
    print(f"\n{args.rows:,} rows, gunicorn {gunicorn_serving(args)}:")
    for db, (preview, imported) in results.items():
        done = f"{imported:.1f} s" if imported is not None else "failed"
        print(f"  {db:<10} preview {preview:.1f} s, import {done}")
    slow = [db for db, times in results.items() if None in times or max(times) > 20]
    sys.exit(1 if slow else 0)


if __name__ == "__main__":
    main()
