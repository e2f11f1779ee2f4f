"""Make the repository's ``data`` package importable: it is not installed (DESIGN.md 1).

Without this, ``tests/`` on ``sys.path`` would make ``tests/data`` a namespace package
named ``data`` and hide the real one.
"""

from __future__ import annotations

import sys

from geo.settings import REPO_ROOT

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
