"""Fixtures of the pyfluss interop suite: one connection to the fluss-ts cluster whose address
the runner (test/interop/pyfluss.interop.ts) puts in FLUSS_BOOTSTRAP_SERVERS, one database per
run, and polling helpers with a deadline (a scan that stops early fails, never hangs)."""

import asyncio
import os
import time

import pytest
import pytest_asyncio

import fluss

DATABASE = "interop_py"


@pytest.fixture(scope="session")
def bootstrap() -> str:
    addr = os.environ.get("FLUSS_BOOTSTRAP_SERVERS")
    if not addr:
        pytest.exit("FLUSS_BOOTSTRAP_SERVERS is not set: run through `npm run test:interop`", 2)
    return addr


@pytest_asyncio.fixture(scope="session")
async def connection(bootstrap):
    conn = await fluss.FlussConnection.create(fluss.Config({"bootstrap.servers": bootstrap}))
    yield conn
    await conn.close()


@pytest_asyncio.fixture(scope="session")
async def admin(connection):
    adm = connection.get_admin()
    await adm.create_database(DATABASE, ignore_if_exists=True)
    return adm


def table_path(name: str) -> fluss.TablePath:
    return fluss.TablePath(DATABASE, name)


async def poll_records(scanner, expected: int, timeout_s: float = 30.0):
    """Polls until `expected` records arrived (or the deadline passed); returns them all."""
    records = []
    deadline = time.monotonic() + timeout_s
    while len(records) < expected and time.monotonic() < deadline:
        batch = await scanner.poll(500)
        records.extend(batch)
    return records


async def poll_arrow_rows(scanner, expected: int, timeout_s: float = 60.0):
    """Polls Arrow tables until `expected` rows arrived; returns the list of tables."""
    tables = []
    rows = 0
    deadline = time.monotonic() + timeout_s
    while rows < expected and time.monotonic() < deadline:
        t = await scanner.poll_arrow(500)
        if t.num_rows:
            tables.append(t)
            rows += t.num_rows
    return tables


async def poll_nothing(scanner, wait_s: float = 1.5):
    """Polls for `wait_s` and returns whatever arrived (used to show that nothing did)."""
    records = []
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        records.extend(await scanner.poll(300))
    return records


async def wait_until(predicate, timeout_s: float = 15.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(0.2)
    return False
