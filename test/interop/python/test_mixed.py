"""pyfluss and the TypeScript SDK on the same tables, every scalar type, nulls included.

The runner (test/interop/pyfluss.interop.ts) creates the tables and writes the fixture rows
(../fixtures/all-types.json) with the SDK before pytest starts, and reads what these tests write
after pytest ends:
  interop_mixed.from_sdk / from_sdk_pk: written by the SDK, read (scan, lookup) here;
  interop_mixed.from_py / from_py_pk:   created empty by the SDK, written here, read by the SDK."""

import base64
import json
import os
from datetime import date, datetime, time, timezone
from decimal import Decimal

import pytest
from conftest import poll_nothing, poll_records

import fluss

MIXED_DB = "interop_mixed"
FIXTURE = os.environ.get("FLUSS_INTEROP_FIXTURE")
pytestmark = pytest.mark.skipif(not FIXTURE, reason="mixed tests need the runner's tables")


def fixture_rows():
    with open(FIXTURE, encoding="utf-8") as f:
        return json.load(f)["rows"]


def to_python(row):
    """A canonical fixture row as pyfluss takes it."""
    out = {}
    for k, v in row.items():
        if v is None:
            out[k] = None
        elif k == "bi":
            out[k] = int(v)
        elif k in ("dec", "dec28"):
            out[k] = Decimal(v)
        elif k in ("by", "bin"):
            out[k] = base64.b64decode(v)
        elif k == "dt":
            out[k] = date.fromisoformat(v)
        elif k == "t":
            out[k] = time.fromisoformat(v)
        elif k in ("ts", "ts6"):
            out[k] = datetime.fromisoformat(v)
        elif k in ("ltz", "ltz6"):
            out[k] = datetime.fromisoformat(v.replace("Z", "+00:00"))
        else:
            out[k] = v
    return out


def iso_fraction(dt, digits):
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + "." + f"{dt.microsecond:06d}"[:digits]


def to_canonical(row):
    """A row pyfluss returned, in the fixture's canonical form."""
    out = {}
    for k, v in row.items():
        if v is None:
            out[k] = None
        elif k == "bi":
            out[k] = str(v)
        elif k in ("dec", "dec28"):
            out[k] = str(v)
        elif k in ("by", "bin"):
            out[k] = base64.b64encode(bytes(v)).decode()
        elif k == "dt":
            out[k] = v.isoformat()
        elif k == "t":
            out[k] = v.strftime("%H:%M:%S") + "." + f"{v.microsecond:06d}"[:3]
        elif k in ("ts", "ts6"):
            out[k] = iso_fraction(v, 3 if k == "ts" else 6)
        elif k in ("ltz", "ltz6"):
            utc = v.astimezone(timezone.utc) if v.tzinfo else v
            out[k] = iso_fraction(utc, 3 if k == "ltz" else 6) + "Z"
        else:
            out[k] = v
    return out


async def test_reads_sdk_log_rows(connection):
    table = await connection.get_table(fluss.TablePath(MIXED_DB, "from_sdk"))
    scanner = await table.new_scan().create_log_scanner()
    scanner.subscribe(0, fluss.EARLIEST_OFFSET)
    expected = fixture_rows()
    recs = await poll_records(scanner, len(expected))
    recs += await poll_nothing(scanner, 0.5)
    got = sorted((to_canonical(r.row) for r in recs), key=lambda r: r["id"])
    assert got == expected


async def test_reads_sdk_log_rows_projected(connection):
    table = await connection.get_table(fluss.TablePath(MIXED_DB, "from_sdk"))
    scanner = await table.new_scan().project_by_name(["id", "dec28", "ltz6"]).create_log_scanner()
    scanner.subscribe(0, fluss.EARLIEST_OFFSET)
    expected = [{k: r[k] for k in ("id", "dec28", "ltz6")} for r in fixture_rows()]
    recs = await poll_records(scanner, len(expected))
    got = sorted((to_canonical(r.row) for r in recs), key=lambda r: r["id"])
    assert got == expected


async def test_looks_up_sdk_pk_rows(connection):
    table = await connection.get_table(fluss.TablePath(MIXED_DB, "from_sdk_pk"))
    lookuper = table.new_lookup().create_lookuper()
    for row in fixture_rows():
        got = await lookuper.lookup({"id": row["id"]})
        assert got is not None, row["id"]
        assert to_canonical(got) == row


async def test_writes_log_rows_for_the_sdk(connection):
    table = await connection.get_table(fluss.TablePath(MIXED_DB, "from_py"))
    writer = table.new_append().create_writer()
    for row in fixture_rows():
        writer.append(to_python(row))
    await writer.flush()


async def test_writes_pk_rows_for_the_sdk(connection):
    table = await connection.get_table(fluss.TablePath(MIXED_DB, "from_py_pk"))
    writer = table.new_upsert().create_writer()
    for row in fixture_rows():
        writer.upsert(to_python(row))
    await writer.flush()
