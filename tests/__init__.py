"""The test suite. Importing it (pytest imports tests.conftest) keeps compiled modules
under .cache/pycache, even where PYTHONDONTWRITEBYTECODE is set: without them each
process (every xdist worker) re-wrote the assertions of each test module and of
hypothesis' 100-odd modules, and compiled them, on every run. Collecting the suite took
9.5 s of CPU instead of 5.9 s on this 2-core machine. The cache sits with the test
database templates, outside the source tree and the virtualenv."""

import sys
from pathlib import Path

sys.pycache_prefix = str(Path(__file__).resolve().parents[1] / ".cache" / "pycache")
sys.dont_write_bytecode = False
