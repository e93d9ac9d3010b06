"""pyfluss against fluss-ts: log tables. Create (with and without bucket keys, ZSTD and
LZ4_FRAME), append 100k rows, scan from earliest / latest / an offset, projected scans, list
offsets, admin metadata calls."""

import time

import pyarrow as pa
import pytest
from conftest import DATABASE, poll_arrow_rows, poll_nothing, poll_records, table_path

import fluss

ROWS = 100_000
SCHEMA = pa.schema(
    [
        pa.field("id", pa.int64()),
        pa.field("name", pa.string()),
        pa.field("score", pa.float64()),
    ]
)


def big_batch(start: int, count: int) -> pa.RecordBatch:
    ids = list(range(start, start + count))
    return pa.RecordBatch.from_arrays(
        [
            pa.array(ids, type=pa.int64()),
            pa.array([f"name-{i}" for i in ids]),
            pa.array([i / 4 for i in ids], type=pa.float64()),
        ],
        schema=SCHEMA,
    )


async def create(admin, name: str, **descriptor) -> fluss.TablePath:
    path = table_path(name)
    await admin.drop_table(path, ignore_if_not_exists=True)
    await admin.create_table(path, fluss.TableDescriptor(fluss.Schema(SCHEMA), **descriptor))
    return path


async def test_admin_metadata(admin):
    assert DATABASE in await admin.list_databases()
    assert await admin.database_exists(DATABASE)
    assert not await admin.database_exists("no_such_db")
    info = await admin.get_database_info(DATABASE)
    assert info.database_name == DATABASE
    path = await create(admin, "meta", bucket_count=2, comment="a comment")
    assert await admin.table_exists(path)
    assert "meta" in await admin.list_tables(DATABASE)
    ti = await admin.get_table_info(path)
    assert ti.num_buckets == 2
    assert ti.get_bucket_keys() == []
    assert ti.get_primary_keys() == []
    assert ti.comment == "a comment"
    assert ti.get_column_names() == ["id", "name", "score"]
    nodes = await admin.get_server_nodes()
    assert {n.server_type for n in nodes} == {"CoordinatorServer", "TabletServer"}
    with pytest.raises(fluss.FlussError) as err:
        await admin.get_table_info(table_path("no_such_table"))
    assert err.value.error_code == fluss.ErrorCode.TABLE_NOT_EXIST


@pytest.mark.parametrize(
    "name,descriptor",
    [
        ("log_zstd_nokey", {"bucket_count": 3}),
        ("log_lz4_key", {"bucket_count": 3, "bucket_keys": ["id"], "properties": {"table.log.arrow.compression.type": "LZ4_FRAME"}}),
        ("log_none_key", {"bucket_count": 2, "bucket_keys": ["id"], "properties": {"table.log.arrow.compression.type": "NONE"}}),
    ],
)
async def test_append_100k_and_scan_from_earliest(connection, admin, name, descriptor):
    path = await create(admin, name, **descriptor)
    table = await connection.get_table(path)
    writer = table.new_append().create_writer()
    for start in range(0, ROWS, 10_000):
        writer.write_arrow_batch(big_batch(start, 10_000))
    await writer.flush()

    buckets = descriptor["bucket_count"]
    latest = await admin.list_offsets(path, list(range(buckets)), fluss.OffsetSpec.latest())
    assert sum(latest.values()) == ROWS

    scanner = await table.new_scan().create_record_batch_log_scanner()
    scanner.subscribe_buckets({b: fluss.EARLIEST_OFFSET for b in range(buckets)})
    tables = await poll_arrow_rows(scanner, ROWS)
    got = pa.concat_tables(tables)
    assert got.num_rows == ROWS
    ids = sorted(got.column("id").to_pylist())
    assert ids == list(range(ROWS))
    by_id = {r["id"]: r for r in got.slice(0, 1000).to_pylist()}
    for i, r in by_id.items():
        assert r["name"] == f"name-{i}" and r["score"] == i / 4

    # With a bucket key the ids spread over every bucket; without one the client's sticky bucket
    # assigner may leave a bucket empty, which is correct.
    if descriptor.get("bucket_keys"):
        assert all(v > 0 for v in latest.values()), latest


async def test_scan_from_latest_and_from_offset(connection, admin):
    path = await create(admin, "log_offsets", bucket_count=1)
    table = await connection.get_table(path)
    writer = table.new_append().create_writer()
    writer.write_arrow_batch(big_batch(0, 10))
    await writer.flush()

    latest = await admin.list_offsets(path, [0], fluss.OffsetSpec.latest())
    assert latest == {0: 10}
    earliest = await admin.list_offsets(path, [0], fluss.OffsetSpec.earliest())
    assert earliest == {0: 0}

    # From latest: only rows written after subscribing arrive.
    from_latest = await table.new_scan().create_log_scanner()
    from_latest.subscribe(0, latest[0])
    assert await poll_nothing(from_latest, 1.0) == []
    writer.write_arrow_batch(big_batch(10, 5))
    await writer.flush()
    recs = await poll_records(from_latest, 5)
    assert [r.row["id"] for r in recs] == [10, 11, 12, 13, 14]
    assert [r.offset for r in recs] == [10, 11, 12, 13, 14]
    assert all(r.change_type == fluss.ChangeType.AppendOnly for r in recs)

    # From an offset in the middle of a batch: records before it are skipped.
    from_offset = await table.new_scan().create_log_scanner()
    from_offset.subscribe(0, 7)
    recs = await poll_records(from_offset, 8)
    assert [r.offset for r in recs] == list(range(7, 15))
    assert [r.row["id"] for r in recs] == list(range(7, 15))


async def test_list_offsets_by_timestamp(connection, admin):
    path = await create(admin, "log_ts", bucket_count=1)
    table = await connection.get_table(path)
    writer = table.new_append().create_writer()
    writer.write_arrow_batch(big_batch(0, 3))
    await writer.flush()
    time.sleep(0.05)
    middle_ms = int(time.time() * 1000)
    time.sleep(0.05)
    writer.write_arrow_batch(big_batch(3, 2))
    await writer.flush()
    assert await admin.list_offsets(path, [0], fluss.OffsetSpec.timestamp(0)) == {0: 0}
    assert await admin.list_offsets(path, [0], fluss.OffsetSpec.timestamp(middle_ms)) == {0: 3}


async def test_projected_scans(connection, admin):
    path = await create(admin, "log_projected", bucket_count=2, properties={"table.log.arrow.compression.type": "LZ4_FRAME"})
    table = await connection.get_table(path)
    writer = table.new_append().create_writer()
    writer.write_arrow_batch(big_batch(0, 1000))
    await writer.flush()

    by_name = await table.new_scan().project_by_name(["score", "id"]).create_record_batch_log_scanner()
    by_name.subscribe_buckets({0: fluss.EARLIEST_OFFSET, 1: fluss.EARLIEST_OFFSET})
    got = pa.concat_tables(await poll_arrow_rows(by_name, 1000))
    assert got.column_names == ["score", "id"]
    assert sorted(zip(got.column("id").to_pylist(), got.column("score").to_pylist())) == [
        (i, i / 4) for i in range(1000)
    ]

    by_index = await table.new_scan().project([1]).create_log_scanner()
    by_index.subscribe_buckets({0: fluss.EARLIEST_OFFSET, 1: fluss.EARLIEST_OFFSET})
    recs = await poll_records(by_index, 1000)
    assert sorted(r.row["name"] for r in recs) == sorted(f"name-{i}" for i in range(1000))
    assert all(list(r.row.keys()) == ["name"] for r in recs)
