"""fieldcrypt.sqlalchemy tests on the database FIELDCRYPT_TEST_DB names: sqlite (default, a file
in a fresh temporary directory), postgres (127.0.0.1:5432, user postgres, database test) or
mysql (MariaDB, 127.0.0.1:3306, root, database test). Several runs may share a database: the
test module names its tables with FIELDCRYPT_TEST_DB_SUFFIX and a random part, and drops them.

Run from this directory: ``FIELDCRYPT_TEST_DB=postgres python -m pytest -q -p no:cacheprovider``.
"""

import importlib.util
import os
import tempfile
from pathlib import Path
from typing import Iterator, Optional

import pytest
import sqlalchemy as sa

DB = os.environ.get("FIELDCRYPT_TEST_DB", "sqlite")
if DB not in ("sqlite", "postgres", "mysql"):
    raise pytest.UsageError(f"FIELDCRYPT_TEST_DB={DB!r}: sqlite, postgres or mysql")
_TMP = Path(tempfile.mkdtemp(prefix="fieldcrypt-sqlalchemy-"))

URLS = {
    "sqlite": f"sqlite:///{_TMP / 'db.sqlite3'}",
    "postgres": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "mysql": "mysql+mysqldb://root@127.0.0.1:3306/test?charset=utf8mb4",
}


def _async_url() -> Optional[str]:
    if DB == "sqlite":
        return f"sqlite+aiosqlite:///{_TMP / 'db.sqlite3'}"
    if DB == "postgres":
        return "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    for driver in ("asyncmy", "aiomysql"):  # optional: MariaDB through an asyncio driver
        if importlib.util.find_spec(driver) is not None:
            return f"mysql+{driver}://root@127.0.0.1:3306/test?charset=utf8mb4"
    return None


def pytest_report_header() -> str:
    return f"fieldcrypt.sqlalchemy on {DB}: {URLS[DB]} (asyncio: {_async_url() or 'no driver'})"


@pytest.fixture(scope="session")
def engine() -> Iterator[sa.Engine]:
    found = sa.create_engine(URLS[DB])
    try:
        with found.connect():
            pass
    except sa.exc.OperationalError as e:
        pytest.fail(f"FIELDCRYPT_TEST_DB={DB}: the database does not answer ({type(e.orig).__name__})")
    yield found
    found.dispose()


@pytest.fixture(scope="session")
def async_url() -> str:
    url = _async_url()
    if url is None:
        message = f"MISSING: an asyncio driver for {DB} (aiomysql, in requirements-py52.txt)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        print("\nSKIPPED, " + message)
        pytest.skip(message)
    return url
