"""pytest setup for tests/python: ctest sets PYTHONPATH to the build tree's package (build/python);
run by hand, `PYTHONPATH=build/python /usr/bin/python3 -m pytest tests/python` does the same, and
without it the default build folder is tried."""

import os
import sys

try:
    import adakit  # noqa: F401
except ImportError:
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "build", "python"))


import json  # noqa: E402
import subprocess  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture
def cli():
    """Runs the adakit command line (ctest sets ADAKIT_CLI; by hand, the default build folder's) and
    returns what it printed as JSON: the numbers the bindings must reproduce."""
    path = os.environ.get("ADAKIT_CLI") or os.path.join(os.path.dirname(__file__), "..", "..", "build", "tools",
                                                         "adakit", "adakit")
    if not os.path.exists(path):
        pytest.skip("the adakit CLI is not built (set ADAKIT_CLI)")

    def run(*args):
        out = subprocess.run([path, "--threads", "1", *map(str, args)], check=True, capture_output=True, text=True)
        return json.loads(out.stdout)
    return run
