"""pytest setup for tests/python: ctest sets PYTHONPATH to the build tree's package (build/python);
run by hand, `PYTHONPATH=build/python /usr/bin/python3 -m pytest tests/python` does the same, and
without it the default build folder is tried."""

import os
import sys

try:
    import adakit  # noqa: F401
except ImportError:
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "build", "python"))
