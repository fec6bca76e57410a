#!/usr/bin/env python3
"""Independent check of fieldcrypt's language-neutral vectors: the entry point scripts and docs
call. The checker itself is the package next to this file, tools/verify_vectors/ (its __main__.py
lists the suites); this file puts tools/ on sys.path and runs it.

Usage: python tools/verify_vectors.py [--root REPO] [--quick]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from verify_vectors.__main__ import main  # noqa: E402 - needs the path above

if __name__ == "__main__":
    sys.exit(main())
