"""pyfluss against fluss-ts: partitioned tables. Create partitions, write rows to several,
list them, scan one partition, list a partition's offsets, drop a partition."""

import pyarrow as pa
from conftest import poll_nothing, poll_records, table_path

import fluss

SCHEMA = pa.schema(
    [
        pa.field("id", pa.int64()),
        pa.field("dt", pa.string(), nullable=False),
        pa.field("v", pa.string()),
    ]
)
DAYS = ["20261201", "20261202", "20261203"]


async def test_partitioned_log_table(connection, admin):
    path = table_path("parted_log")
    await admin.drop_table(path, ignore_if_not_exists=True)
    descriptor = fluss.TableDescriptor(fluss.Schema(SCHEMA), partition_keys=["dt"], bucket_count=2)
    await admin.create_table(path, descriptor)
    for day in DAYS:
        await admin.create_partition(path, {"dt": day})
    await admin.create_partition(path, {"dt": DAYS[0]}, ignore_if_exists=True)
    infos = await admin.list_partition_infos(path)
    assert sorted(p.partition_name for p in infos) == DAYS
    ids = {p.partition_name: p.partition_id for p in infos}
    only = await admin.list_partition_infos(path, {"dt": DAYS[1]})
    assert [p.partition_name for p in only] == [DAYS[1]]

    table = await connection.get_table(path)
    writer = table.new_append().create_writer()
    for i in range(60):
        writer.append({"id": i, "dt": DAYS[i % 3], "v": f"v{i}"})
    await writer.flush()

    offsets = await admin.list_partition_offsets(path, DAYS[1], [0, 1], fluss.OffsetSpec.latest())
    assert sum(offsets.values()) == 20

    scanner = await table.new_scan().create_log_scanner()
    scanner.subscribe_partition_buckets({(ids[DAYS[1]], b): fluss.EARLIEST_OFFSET for b in range(2)})
    recs = await poll_records(scanner, 20)
    recs += await poll_nothing(scanner, 0.5)
    assert sorted(r.row["id"] for r in recs) == [i for i in range(60) if i % 3 == 1]
    assert {r.row["dt"] for r in recs} == {DAYS[1]}

    await admin.drop_partition(path, {"dt": DAYS[2]})
    assert sorted(p.partition_name for p in await admin.list_partition_infos(path)) == DAYS[:2]


async def test_partitioned_pk_table(connection, admin):
    path = table_path("parted_pk")
    await admin.drop_table(path, ignore_if_not_exists=True)
    schema = fluss.Schema(SCHEMA, primary_keys=["id", "dt"])
    await admin.create_table(path, fluss.TableDescriptor(schema, partition_keys=["dt"], bucket_count=1))
    for day in DAYS[:2]:
        await admin.create_partition(path, {"dt": day})
    table = await connection.get_table(path)
    writer = table.new_upsert().create_writer()
    writer.upsert({"id": 1, "dt": DAYS[0], "v": "a"})
    writer.upsert({"id": 1, "dt": DAYS[1], "v": "b"})
    await writer.flush()
    lookuper = table.new_lookup().create_lookuper()
    assert await lookuper.lookup({"id": 1, "dt": DAYS[0]}) == {"id": 1, "dt": DAYS[0], "v": "a"}
    assert await lookuper.lookup({"id": 1, "dt": DAYS[1]}) == {"id": 1, "dt": DAYS[1], "v": "b"}
