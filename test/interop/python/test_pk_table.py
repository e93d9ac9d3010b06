"""pyfluss against fluss-ts: primary-key tables. Upsert, partial update, delete, lookup, prefix
lookup, and the changelog (+I, -U, +U, -D) read by a log scanner."""

import pyarrow as pa
from conftest import poll_nothing, poll_records, table_path

import fluss

SCHEMA = pa.schema(
    [
        pa.field("region", pa.string(), nullable=False),
        pa.field("id", pa.int32(), nullable=False),
        pa.field("name", pa.string()),
        pa.field("amount", pa.int64()),
    ]
)


async def create(admin, name: str, **descriptor) -> fluss.TablePath:
    path = table_path(name)
    await admin.drop_table(path, ignore_if_not_exists=True)
    schema = fluss.Schema(SCHEMA, primary_keys=["region", "id"])
    await admin.create_table(path, fluss.TableDescriptor(schema, **descriptor))
    return path


async def test_upsert_lookup_partial_update_delete(connection, admin):
    path = await create(admin, "pk_basic", bucket_count=3)
    info = await admin.get_table_info(path)
    assert info.get_primary_keys() == ["region", "id"]
    assert info.get_bucket_keys() == ["region", "id"]
    table = await connection.get_table(path)
    writer = table.new_upsert().create_writer()
    for i in range(100):
        writer.upsert({"region": "eu" if i % 2 else "us", "id": i, "name": f"n{i}", "amount": i * 10})
    await writer.flush()

    lookuper = table.new_lookup().create_lookuper()
    assert await lookuper.lookup({"region": "eu", "id": 7}) == {"region": "eu", "id": 7, "name": "n7", "amount": 70}
    assert await lookuper.lookup({"region": "us", "id": 7}) is None

    # Full upsert replaces the row.
    writer.upsert({"region": "eu", "id": 7, "name": "seven", "amount": None})
    await writer.flush()
    assert await lookuper.lookup({"region": "eu", "id": 7}) == {"region": "eu", "id": 7, "name": "seven", "amount": None}

    # Partial update: only `amount` changes, `name` keeps its value.
    partial = table.new_upsert().partial_update_by_name(["region", "id", "amount"]).create_writer()
    partial.upsert({"region": "eu", "id": 9, "amount": 999})
    await partial.flush()
    assert await lookuper.lookup({"region": "eu", "id": 9}) == {"region": "eu", "id": 9, "name": "n9", "amount": 999}

    # Delete.
    writer.delete({"region": "eu", "id": 9})
    await writer.flush()
    assert await lookuper.lookup({"region": "eu", "id": 9}) is None
    assert await lookuper.lookup({"region": "eu", "id": 11}) is not None


async def test_prefix_lookup(connection, admin):
    path = await create(admin, "pk_prefix", bucket_count=2, bucket_keys=["region"])
    info = await admin.get_table_info(path)
    assert info.get_bucket_keys() == ["region"]
    table = await connection.get_table(path)
    writer = table.new_upsert().create_writer()
    for i in range(30):
        writer.upsert({"region": ["eu", "us", "ap"][i % 3], "id": i, "name": f"n{i}", "amount": i})
    await writer.flush()
    prefix = table.new_lookup().lookup_by(["region"]).create_lookuper()
    rows = await prefix.lookup({"region": "us"})
    assert sorted(r["id"] for r in rows) == [i for i in range(30) if i % 3 == 1]
    assert all(r["region"] == "us" and r["name"] == f"n{r['id']}" for r in rows)
    assert await prefix.lookup({"region": "none"}) == []


async def test_changelog_scan(connection, admin):
    path = await create(admin, "pk_changelog", bucket_count=1)
    table = await connection.get_table(path)
    writer = table.new_upsert().create_writer()
    writer.upsert({"region": "eu", "id": 1, "name": "a", "amount": 1})
    await writer.flush()
    writer.upsert({"region": "eu", "id": 1, "name": "b", "amount": 2})
    await writer.flush()
    writer.delete({"region": "eu", "id": 1})
    await writer.flush()

    scanner = await table.new_scan().create_log_scanner()
    scanner.subscribe(0, fluss.EARLIEST_OFFSET)
    recs = await poll_records(scanner, 4)
    recs += await poll_nothing(scanner, 0.5)
    kinds = [r.change_type.short_string() for r in recs]
    assert kinds == ["+I", "-U", "+U", "-D"]
    assert [r.row["name"] for r in recs] == ["a", "a", "b", "b"]
    assert [r.offset for r in recs] == [0, 1, 2, 3]
