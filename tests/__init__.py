"""The test suite. Importing it (pytest imports tests.conftest) lets Python keep
compiled modules even where PYTHONDONTWRITEBYTECODE is set: without them each process
(every xdist worker) re-wrote the assertions of each test module and compiled the
project's modules on every run. They go where Python keeps them by default, in
`__pycache__` beside each module (ignored by git); the installed packages' own were
compiled by pip when it installed them, and are read as they are."""

import sys

sys.dont_write_bytecode = False
