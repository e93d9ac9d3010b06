//! fluss-rs against fluss-ts: log tables (create with and without bucket keys, ZSTD / LZ4_FRAME,
//! 100k rows, scans from earliest / latest / an offset, projection, list offsets), primary-key
//! tables (upsert, partial update, delete, lookup, prefix lookup, changelog), partitioned tables,
//! and mixed tables shared with the TypeScript SDK (every scalar type, nulls included).

use fluss::client::EARLIEST_OFFSET;
use fluss::metadata::{DataTypes, PartitionSpec, Schema, TableDescriptor, TablePath};
use fluss::record::ChangeType;
use fluss::row::{DataGetters, GenericRow, InternalRow};
use fluss::rpc::message::OffsetSpec;
use fluss_ts_interop::{admin, connect, path, poll, Rec, DATABASE};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

const ROWS: i64 = 100_000;
const WAIT: Duration = Duration::from_secs(60);

fn log_schema() -> Schema {
    Schema::builder()
        .column("id", DataTypes::bigint())
        .column("name", DataTypes::string())
        .column("score", DataTypes::double())
        .build()
        .expect("schema")
}

fn log_row(i: i64) -> GenericRow<'static> {
    let mut row = GenericRow::new(3);
    row.set_field(0, i);
    row.set_field(1, format!("name-{i}"));
    row.set_field(2, i as f64 / 4.0);
    row
}

fn render_log(r: &dyn InternalRow) -> Vec<String> {
    (0..r.get_field_count())
        .map(|i| match r.get_field_count() {
            3 => match i {
                0 => r.get_long(0).unwrap().to_string(),
                1 => r.get_string(1).unwrap().to_string(),
                _ => r.get_double(2).unwrap().to_string(),
            },
            _ => String::new(),
        })
        .collect()
}

async fn create(admin: &fluss::client::FlussAdmin, name: &str, d: TableDescriptor) -> TablePath {
    let p = path(name);
    admin.drop_table(&p, true).await.expect("drop");
    admin.create_table(&p, &d, false).await.expect("create");
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_metadata() {
    let conn = connect().await;
    let admin = admin(&conn).await;
    assert!(admin
        .list_databases()
        .await
        .unwrap()
        .contains(&DATABASE.to_string()));
    assert!(admin.database_exists(DATABASE).await.unwrap());
    assert!(!admin.database_exists("no_such_db").await.unwrap());
    assert_eq!(
        admin
            .get_database_info(DATABASE)
            .await
            .unwrap()
            .database_name(),
        DATABASE
    );
    let d = TableDescriptor::builder()
        .schema(log_schema())
        .distributed_by(Some(2), vec![])
        .comment("a comment")
        .build()
        .unwrap();
    let p = create(&admin, "meta", d).await;
    assert!(admin.table_exists(&p).await.unwrap());
    assert!(admin
        .list_tables(DATABASE)
        .await
        .unwrap()
        .contains(&"meta".to_string()));
    let info = admin.get_table_info(&p).await.unwrap();
    assert_eq!(info.get_num_buckets(), 2);
    assert!(info.get_bucket_keys().is_empty());
    assert_eq!(info.get_comment(), Some("a comment"));
    let err = admin
        .get_table_info(&path("no_such_table"))
        .await
        .unwrap_err();
    assert_eq!(
        err.api_error(),
        Some(fluss::rpc::FlussError::TableNotExist),
        "{err}"
    );
    assert!(!admin.get_server_nodes().await.unwrap().is_empty());
}

async fn append_and_scan(name: &str, buckets: i32, key: Option<&str>, compression: &str) {
    let conn = connect().await;
    let admin = admin(&conn).await;
    let keys = key.map(|k| vec![k.to_string()]).unwrap_or_default();
    let d = TableDescriptor::builder()
        .schema(log_schema())
        .distributed_by(Some(buckets), keys)
        .property("table.log.arrow.compression.type", compression)
        .build()
        .unwrap();
    let p = create(&admin, name, d).await;
    let table = conn.get_table(&p).await.unwrap();
    let writer = table.new_append().unwrap().create_writer().unwrap();
    for i in 0..ROWS {
        writer.append(&log_row(i)).unwrap();
    }
    writer.flush().await.unwrap();

    let ids: Vec<i32> = (0..buckets).collect();
    let latest = admin
        .list_offsets(&p, &ids, OffsetSpec::Latest)
        .await
        .unwrap();
    assert_eq!(latest.values().sum::<i64>(), ROWS);
    // With a bucket key the ids spread over every bucket; without one the client's sticky bucket
    // assigner may leave a bucket empty, which is correct.
    if key.is_some() {
        assert!(latest.values().all(|v| *v > 0), "{latest:?}");
    }

    let scanner = table.new_scan().create_log_scanner().unwrap();
    for b in 0..buckets {
        scanner.subscribe(b, EARLIEST_OFFSET).await.unwrap();
    }
    let recs = poll(
        &scanner,
        ROWS as usize,
        Duration::from_secs(180),
        render_log,
    )
    .await;
    assert_eq!(recs.len() as i64, ROWS);
    let mut seen = HashSet::new();
    for r in &recs {
        let id: i64 = r.values[0].parse().unwrap();
        assert_eq!(r.values[1], format!("name-{id}"));
        assert_eq!(r.values[2], (id as f64 / 4.0).to_string());
        assert_eq!(r.change, ChangeType::AppendOnly);
        seen.insert(id);
    }
    assert_eq!(seen.len() as i64, ROWS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn append_100k_zstd_without_bucket_key() {
    append_and_scan("log_zstd_nokey", 3, None, "ZSTD").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn append_100k_lz4_with_bucket_key() {
    append_and_scan("log_lz4_key", 3, Some("id"), "LZ4_FRAME").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn append_100k_uncompressed_with_bucket_key() {
    append_and_scan("log_none_key", 2, Some("id"), "NONE").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_from_latest_and_offset_and_list_offsets() {
    let conn = connect().await;
    let admin = admin(&conn).await;
    let d = TableDescriptor::builder()
        .schema(log_schema())
        .distributed_by(Some(1), vec![])
        .build()
        .unwrap();
    let p = create(&admin, "log_offsets", d).await;
    let table = conn.get_table(&p).await.unwrap();
    let writer = table.new_append().unwrap().create_writer().unwrap();
    for i in 0..10 {
        writer.append(&log_row(i)).unwrap();
    }
    writer.flush().await.unwrap();
    assert_eq!(
        admin
            .list_offsets(&p, &[0], OffsetSpec::Latest)
            .await
            .unwrap()[&0],
        10
    );
    assert_eq!(
        admin
            .list_offsets(&p, &[0], OffsetSpec::Earliest)
            .await
            .unwrap()[&0],
        0
    );
    assert_eq!(
        admin
            .list_offsets(&p, &[0], OffsetSpec::Timestamp(0))
            .await
            .unwrap()[&0],
        0
    );

    let from_latest = table.new_scan().create_log_scanner().unwrap();
    from_latest.subscribe(0, 10).await.unwrap();
    assert!(poll(&from_latest, 1, Duration::from_secs(1), render_log)
        .await
        .is_empty());
    for i in 10..15 {
        writer.append(&log_row(i)).unwrap();
    }
    writer.flush().await.unwrap();
    let recs = poll(&from_latest, 5, WAIT, render_log).await;
    assert_eq!(
        recs.iter().map(|r| r.offset).collect::<Vec<_>>(),
        vec![10, 11, 12, 13, 14]
    );

    let from_offset = table.new_scan().create_log_scanner().unwrap();
    from_offset.subscribe(0, 7).await.unwrap();
    let recs = poll(&from_offset, 8, WAIT, render_log).await;
    assert_eq!(
        recs.iter().map(|r| r.offset).collect::<Vec<_>>(),
        (7..15).collect::<Vec<i64>>()
    );
    assert_eq!(recs[0].values[0], "7");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projected_scan() {
    let conn = connect().await;
    let admin = admin(&conn).await;
    let d = TableDescriptor::builder()
        .schema(log_schema())
        .distributed_by(Some(2), vec![])
        .property("table.log.arrow.compression.type", "LZ4_FRAME")
        .build()
        .unwrap();
    let p = create(&admin, "log_projected", d).await;
    let table = conn.get_table(&p).await.unwrap();
    let writer = table.new_append().unwrap().create_writer().unwrap();
    for i in 0..1000 {
        writer.append(&log_row(i)).unwrap();
    }
    writer.flush().await.unwrap();
    let scanner = table
        .new_scan()
        .project_by_name(&["score", "id"])
        .unwrap()
        .create_log_scanner()
        .unwrap();
    scanner.subscribe(0, EARLIEST_OFFSET).await.unwrap();
    scanner.subscribe(1, EARLIEST_OFFSET).await.unwrap();
    fn render(r: &dyn InternalRow) -> Vec<String> {
        assert_eq!(r.get_field_count(), 2);
        vec![
            r.get_double(0).unwrap().to_string(),
            r.get_long(1).unwrap().to_string(),
        ]
    }
    let recs = poll(&scanner, 1000, WAIT, render).await;
    assert_eq!(recs.len(), 1000);
    let mut ids = HashSet::new();
    for r in &recs {
        let id: i64 = r.values[1].parse().unwrap();
        assert_eq!(r.values[0], (id as f64 / 4.0).to_string());
        ids.insert(id);
    }
    assert_eq!(ids.len(), 1000);
}

fn pk_schema() -> Schema {
    Schema::builder()
        .column("region", DataTypes::string().as_non_nullable())
        .column("id", DataTypes::int().as_non_nullable())
        .column("name", DataTypes::string())
        .column("amount", DataTypes::bigint())
        .primary_key(vec!["region", "id"])
        .unwrap()
        .build()
        .unwrap()
}

fn pk_row(region: &str, id: i32, name: Option<&str>, amount: Option<i64>) -> GenericRow<'static> {
    let mut row = GenericRow::new(4);
    row.set_field(0, region.to_string());
    row.set_field(1, id);
    if let Some(n) = name {
        row.set_field(2, n.to_string());
    }
    if let Some(a) = amount {
        row.set_field(3, a);
    }
    row
}

fn key(region: &str, id: i32) -> GenericRow<'static> {
    let mut row = GenericRow::new(2);
    row.set_field(0, region.to_string());
    row.set_field(1, id);
    row
}

fn show(r: &dyn InternalRow) -> String {
    let name = if r.is_null_at(2).unwrap() {
        "null".to_string()
    } else {
        r.get_string(2).unwrap().to_string()
    };
    let amount = if r.is_null_at(3).unwrap() {
        "null".to_string()
    } else {
        r.get_long(3).unwrap().to_string()
    };
    format!(
        "{}|{}|{}|{}",
        r.get_string(0).unwrap(),
        r.get_int(1).unwrap(),
        name,
        amount
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pk_upsert_lookup_partial_update_delete() {
    let conn = connect().await;
    let admin = admin(&conn).await;
    let d = TableDescriptor::builder()
        .schema(pk_schema())
        .distributed_by(Some(3), vec![])
        .build()
        .unwrap();
    let p = create(&admin, "pk_basic", d).await;
    let table = conn.get_table(&p).await.unwrap();
    let writer = table.new_upsert().unwrap().create_writer().unwrap();
    for i in 0..100 {
        let region = if i % 2 == 1 { "eu" } else { "us" };
        writer
            .upsert(&pk_row(
                region,
                i,
                Some(&format!("n{i}")),
                Some(i as i64 * 10),
            ))
            .unwrap();
    }
    writer.flush().await.unwrap();
    let mut lookuper = table.new_lookup().unwrap().create_lookuper().unwrap();
    let r = lookuper.lookup(&key("eu", 7)).await.unwrap();
    assert_eq!(show(&r.get_single_row().unwrap().unwrap()), "eu|7|n7|70");
    assert!(lookuper
        .lookup(&key("us", 7))
        .await
        .unwrap()
        .get_single_row()
        .unwrap()
        .is_none());

    writer
        .upsert(&pk_row("eu", 7, Some("seven"), None))
        .unwrap();
    writer.flush().await.unwrap();
    let r = lookuper.lookup(&key("eu", 7)).await.unwrap();
    assert_eq!(
        show(&r.get_single_row().unwrap().unwrap()),
        "eu|7|seven|null"
    );

    let partial = table
        .new_upsert()
        .unwrap()
        .partial_update_with_column_names(&["region", "id", "amount"])
        .unwrap()
        .create_writer()
        .unwrap();
    partial.upsert(&pk_row("eu", 9, None, Some(999))).unwrap();
    partial.flush().await.unwrap();
    let r = lookuper.lookup(&key("eu", 9)).await.unwrap();
    assert_eq!(show(&r.get_single_row().unwrap().unwrap()), "eu|9|n9|999");

    writer.delete(&pk_row("eu", 9, None, None)).unwrap();
    writer.flush().await.unwrap();
    assert!(lookuper
        .lookup(&key("eu", 9))
        .await
        .unwrap()
        .get_single_row()
        .unwrap()
        .is_none());
    assert!(lookuper
        .lookup(&key("eu", 11))
        .await
        .unwrap()
        .get_single_row()
        .unwrap()
        .is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pk_prefix_lookup() {
    let conn = connect().await;
    let admin = admin(&conn).await;
    let d = TableDescriptor::builder()
        .schema(pk_schema())
        .distributed_by(Some(2), vec!["region".to_string()])
        .build()
        .unwrap();
    let p = create(&admin, "pk_prefix", d).await;
    let table = conn.get_table(&p).await.unwrap();
    let writer = table.new_upsert().unwrap().create_writer().unwrap();
    let regions = ["eu", "us", "ap"];
    for i in 0..30 {
        writer
            .upsert(&pk_row(
                regions[(i % 3) as usize],
                i,
                Some(&format!("n{i}")),
                Some(i as i64),
            ))
            .unwrap();
    }
    writer.flush().await.unwrap();
    let mut prefix = table
        .new_lookup()
        .unwrap()
        .lookup_by(vec!["region".to_string()])
        .create_lookuper()
        .unwrap();
    let mut us = GenericRow::new(1);
    us.set_field(0, "us".to_string());
    let result = prefix.lookup(&us).await.unwrap();
    let mut ids: Vec<i32> = result
        .get_rows()
        .unwrap()
        .iter()
        .map(|r| r.get_int(1).unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, (0..30).filter(|i| i % 3 == 1).collect::<Vec<i32>>());
    let mut none = GenericRow::new(1);
    none.set_field(0, "none".to_string());
    assert!(prefix
        .lookup(&none)
        .await
        .unwrap()
        .get_rows()
        .unwrap()
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pk_changelog_scan() {
    let conn = connect().await;
    let admin = admin(&conn).await;
    let d = TableDescriptor::builder()
        .schema(pk_schema())
        .distributed_by(Some(1), vec![])
        .build()
        .unwrap();
    let p = create(&admin, "pk_changelog", d).await;
    let table = conn.get_table(&p).await.unwrap();
    let writer = table.new_upsert().unwrap().create_writer().unwrap();
    writer.upsert(&pk_row("eu", 1, Some("a"), Some(1))).unwrap();
    writer.flush().await.unwrap();
    writer.upsert(&pk_row("eu", 1, Some("b"), Some(2))).unwrap();
    writer.flush().await.unwrap();
    writer.delete(&pk_row("eu", 1, None, None)).unwrap();
    writer.flush().await.unwrap();
    let scanner = table.new_scan().create_log_scanner().unwrap();
    scanner.subscribe(0, EARLIEST_OFFSET).await.unwrap();
    fn render(r: &dyn InternalRow) -> Vec<String> {
        vec![r.get_string(2).unwrap().to_string()]
    }
    let recs: Vec<Rec> = poll(&scanner, 4, WAIT, render).await;
    assert_eq!(
        recs.iter().map(|r| r.change).collect::<Vec<_>>(),
        vec![
            ChangeType::Insert,
            ChangeType::UpdateBefore,
            ChangeType::UpdateAfter,
            ChangeType::Delete
        ]
    );
    assert_eq!(
        recs.iter().map(|r| r.values[0].clone()).collect::<Vec<_>>(),
        vec!["a", "a", "b", "b"]
    );
    assert_eq!(
        recs.iter().map(|r| r.offset).collect::<Vec<_>>(),
        vec![0, 1, 2, 3]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitioned_log_table() {
    let conn = connect().await;
    let admin = admin(&conn).await;
    let schema = Schema::builder()
        .column("id", DataTypes::bigint())
        .column("dt", DataTypes::string().as_non_nullable())
        .column("v", DataTypes::string())
        .build()
        .unwrap();
    let d = TableDescriptor::builder()
        .schema(schema)
        .partitioned_by(vec!["dt"])
        .distributed_by(Some(2), vec![])
        .build()
        .unwrap();
    let p = create(&admin, "parted_log", d).await;
    let days = ["20261201", "20261202", "20261203"];
    for day in days {
        admin
            .create_partition(&p, &PartitionSpec::new(HashMap::from([("dt", day)])), false)
            .await
            .unwrap();
    }
    let infos = admin.list_partition_infos(&p).await.unwrap();
    let ids: HashMap<String, i64> = infos
        .iter()
        .map(|i| (i.get_partition_name(), i.get_partition_id()))
        .collect();
    assert_eq!(ids.len(), 3);
    let table = conn.get_table(&p).await.unwrap();
    let writer = table.new_append().unwrap().create_writer().unwrap();
    for i in 0..60i64 {
        let mut row = GenericRow::new(3);
        row.set_field(0, i);
        row.set_field(1, days[(i % 3) as usize].to_string());
        row.set_field(2, format!("v{i}"));
        writer.append(&row).unwrap();
    }
    writer.flush().await.unwrap();
    let offsets = admin
        .list_partition_offsets(&p, days[1], &[0, 1], OffsetSpec::Latest)
        .await
        .unwrap();
    assert_eq!(offsets.values().sum::<i64>(), 20);
    let scanner = table.new_scan().create_log_scanner().unwrap();
    for b in 0..2 {
        scanner
            .subscribe_partition(ids[days[1]], b, EARLIEST_OFFSET)
            .await
            .unwrap();
    }
    fn render(r: &dyn InternalRow) -> Vec<String> {
        vec![
            r.get_long(0).unwrap().to_string(),
            r.get_string(1).unwrap().to_string(),
        ]
    }
    let recs = poll(&scanner, 20, WAIT, render).await;
    let mut got: Vec<i64> = recs.iter().map(|r| r.values[0].parse().unwrap()).collect();
    got.sort();
    assert_eq!(got, (0..60).filter(|i| i % 3 == 1).collect::<Vec<i64>>());
    assert!(recs.iter().all(|r| r.values[1] == days[1]));

    admin
        .drop_partition(
            &p,
            &PartitionSpec::new(HashMap::from([("dt", days[2])])),
            false,
        )
        .await
        .unwrap();
    let mut left: Vec<String> = admin
        .list_partition_infos(&p)
        .await
        .unwrap()
        .iter()
        .map(|i| i.get_partition_name())
        .collect();
    left.sort();
    assert_eq!(left, vec![days[0].to_string(), days[1].to_string()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitioned_pk_table() {
    let conn = connect().await;
    let admin = admin(&conn).await;
    let schema = Schema::builder()
        .column("id", DataTypes::bigint().as_non_nullable())
        .column("dt", DataTypes::string().as_non_nullable())
        .column("v", DataTypes::string())
        .primary_key(vec!["id", "dt"])
        .unwrap()
        .build()
        .unwrap();
    let d = TableDescriptor::builder()
        .schema(schema)
        .partitioned_by(vec!["dt"])
        .distributed_by(Some(1), vec![])
        .build()
        .unwrap();
    let p = create(&admin, "parted_pk", d).await;
    for day in ["20261201", "20261202"] {
        admin
            .create_partition(&p, &PartitionSpec::new(HashMap::from([("dt", day)])), false)
            .await
            .unwrap();
    }
    let table = conn.get_table(&p).await.unwrap();
    let writer = table.new_upsert().unwrap().create_writer().unwrap();
    for (day, v) in [("20261201", "a"), ("20261202", "b")] {
        let mut row = GenericRow::new(3);
        row.set_field(0, 1i64);
        row.set_field(1, day.to_string());
        row.set_field(2, v.to_string());
        writer.upsert(&row).unwrap();
    }
    writer.flush().await.unwrap();
    let mut lookuper = table.new_lookup().unwrap().create_lookuper().unwrap();
    for (day, v) in [("20261201", "a"), ("20261202", "b")] {
        let mut k = GenericRow::new(2);
        k.set_field(0, 1i64);
        k.set_field(1, day.to_string());
        let result = lookuper.lookup(&k).await.unwrap();
        let row = result.get_single_row().unwrap().expect("row");
        assert_eq!(row.get_string(2).unwrap(), v);
    }
}

// ---- mixed: tables shared with the TypeScript SDK ----------------------------------------------
// The runner creates interop_mixed.from_sdk(_pk) with the fixture rows and empty
// interop_mixed.from_rust(_pk) for these tests to write, and gives the fixture in internal form
// (FLUSS_INTEROP_INTERNAL_FIXTURE: DATE as days, TIME as ms of the day, timestamps as
// [epoch ms, nanos of the ms], BIGINT and DECIMAL as strings, bytes as base64).

mod mixed {
    use super::*;
    use base64::Engine;
    use bigdecimal::BigDecimal;
    use fluss::row::{Date, Decimal, Time, TimestampLtz, TimestampNtz};
    use serde_json::Value;
    use std::str::FromStr;

    const DB: &str = "interop_mixed";
    const COLUMNS: [&str; 20] = [
        "id", "b", "ti", "si", "i", "bi", "f", "d", "dec", "dec28", "s", "c", "by", "bin", "dt",
        "t", "ts", "ts6", "ltz", "ltz6",
    ];

    fn rows() -> Option<Vec<Value>> {
        let file = std::env::var("FLUSS_INTEROP_INTERNAL_FIXTURE").ok()?;
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        Some(doc["rows"].as_array().unwrap().clone())
    }

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    fn dec(s: &str, scale: i64) -> String {
        BigDecimal::from_str(s)
            .unwrap()
            .with_scale(scale)
            .to_string()
    }

    fn pair(ms: i64, nanos: i32) -> String {
        format!("{ms}:{nanos}")
    }

    /// A fixture row as text per column ("null" for null).
    fn expected(row: &Value) -> Vec<String> {
        COLUMNS
            .iter()
            .map(|c| {
                let v = &row[*c];
                if v.is_null() {
                    return "null".to_string();
                }
                match *c {
                    "f" | "d" => v.as_f64().unwrap().to_string(),
                    "dec" => dec(v.as_str().unwrap(), 2),
                    "dec28" => dec(v.as_str().unwrap(), 6),
                    "ts" | "ts6" | "ltz" | "ltz6" => {
                        pair(v[0].as_i64().unwrap(), v[1].as_i64().unwrap() as i32)
                    }
                    _ => match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    },
                }
            })
            .collect()
    }

    /// A row the client returned, as text per column.
    fn render(r: &dyn InternalRow) -> Vec<String> {
        (0..COLUMNS.len())
            .map(|i| {
                if r.is_null_at(i).unwrap() {
                    return "null".to_string();
                }
                match COLUMNS[i] {
                    "id" | "i" => r.get_int(i).unwrap().to_string(),
                    "b" => r.get_boolean(i).unwrap().to_string(),
                    "ti" => r.get_byte(i).unwrap().to_string(),
                    "si" => r.get_short(i).unwrap().to_string(),
                    "bi" => r.get_long(i).unwrap().to_string(),
                    "f" => (r.get_float(i).unwrap() as f64).to_string(),
                    "d" => r.get_double(i).unwrap().to_string(),
                    "dec" => r
                        .get_decimal(i, 10, 2)
                        .unwrap()
                        .to_big_decimal()
                        .with_scale(2)
                        .to_string(),
                    "dec28" => r
                        .get_decimal(i, 28, 6)
                        .unwrap()
                        .to_big_decimal()
                        .with_scale(6)
                        .to_string(),
                    "s" => r.get_string(i).unwrap().to_string(),
                    "c" => r.get_char(i, 5).unwrap().to_string(),
                    "by" => b64(r.get_bytes(i).unwrap()),
                    "bin" => b64(r.get_binary(i, 4).unwrap()),
                    "dt" => r.get_date(i).unwrap().get_inner().to_string(),
                    "t" => r.get_time(i).unwrap().get_inner().to_string(),
                    "ts" | "ts6" => {
                        let t = r
                            .get_timestamp_ntz(i, if COLUMNS[i] == "ts" { 3 } else { 6 })
                            .unwrap();
                        pair(t.get_millisecond(), t.get_nano_of_millisecond())
                    }
                    _ => {
                        let t = r
                            .get_timestamp_ltz(i, if COLUMNS[i] == "ltz" { 3 } else { 6 })
                            .unwrap();
                        pair(t.get_epoch_millisecond(), t.get_nano_of_millisecond())
                    }
                }
            })
            .collect()
    }

    /// A fixture row as the Rust client writes it.
    fn to_row(row: &Value) -> GenericRow<'static> {
        let mut out = GenericRow::new(COLUMNS.len());
        for (i, c) in COLUMNS.iter().enumerate() {
            let v = &row[*c];
            if v.is_null() {
                continue;
            }
            let text = v.as_str().unwrap_or_default().to_string();
            let ts = || (v[0].as_i64().unwrap(), v[1].as_i64().unwrap() as i32);
            match *c {
                "id" | "i" => out.set_field(i, v.as_i64().unwrap() as i32),
                "b" => out.set_field(i, v.as_bool().unwrap()),
                "ti" => out.set_field(i, v.as_i64().unwrap() as i8),
                "si" => out.set_field(i, v.as_i64().unwrap() as i16),
                "bi" => out.set_field(i, text.parse::<i64>().unwrap()),
                "f" => out.set_field(i, v.as_f64().unwrap() as f32),
                "d" => out.set_field(i, v.as_f64().unwrap()),
                "dec" => out.set_field(
                    i,
                    Decimal::from_big_decimal(BigDecimal::from_str(&text).unwrap(), 10, 2).unwrap(),
                ),
                "dec28" => out.set_field(
                    i,
                    Decimal::from_big_decimal(BigDecimal::from_str(&text).unwrap(), 28, 6).unwrap(),
                ),
                "s" | "c" => out.set_field(i, text),
                "by" | "bin" => out.set_field(
                    i,
                    base64::engine::general_purpose::STANDARD
                        .decode(text)
                        .unwrap(),
                ),
                "dt" => out.set_field(i, Date::new(v.as_i64().unwrap() as i32)),
                "t" => out.set_field(i, Time::new(v.as_i64().unwrap() as i32)),
                "ts" | "ts6" => {
                    out.set_field(i, TimestampNtz::from_millis_nanos(ts().0, ts().1).unwrap())
                }
                _ => out.set_field(i, TimestampLtz::from_millis_nanos(ts().0, ts().1).unwrap()),
            }
        }
        out
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reads_sdk_log_rows() {
        let rows =
            rows().expect("FLUSS_INTEROP_INTERNAL_FIXTURE is not set: run `npm run test:interop`");
        let conn = connect().await;
        let table = conn
            .get_table(&TablePath::new(DB, "from_sdk"))
            .await
            .unwrap();
        let scanner = table.new_scan().create_log_scanner().unwrap();
        scanner.subscribe(0, EARLIEST_OFFSET).await.unwrap();
        let mut got: Vec<Vec<String>> = poll(&scanner, rows.len(), WAIT, render)
            .await
            .into_iter()
            .map(|r| r.values)
            .collect();
        got.sort_by_key(|r| r[0].parse::<i32>().unwrap());
        assert_eq!(got, rows.iter().map(expected).collect::<Vec<_>>());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn looks_up_sdk_pk_rows() {
        let rows =
            rows().expect("FLUSS_INTEROP_INTERNAL_FIXTURE is not set: run `npm run test:interop`");
        let conn = connect().await;
        let table = conn
            .get_table(&TablePath::new(DB, "from_sdk_pk"))
            .await
            .unwrap();
        let mut lookuper = table.new_lookup().unwrap().create_lookuper().unwrap();
        for row in &rows {
            let mut k = GenericRow::new(1);
            k.set_field(0, row["id"].as_i64().unwrap() as i32);
            let result = lookuper.lookup(&k).await.unwrap();
            let got = result.get_single_row().unwrap().expect("row");
            assert_eq!(render(&got), expected(row));
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writes_log_rows_for_the_sdk() {
        let rows =
            rows().expect("FLUSS_INTEROP_INTERNAL_FIXTURE is not set: run `npm run test:interop`");
        let conn = connect().await;
        let table = conn
            .get_table(&TablePath::new(DB, "from_rust"))
            .await
            .unwrap();
        let writer = table.new_append().unwrap().create_writer().unwrap();
        for row in &rows {
            writer.append(&to_row(row)).unwrap();
        }
        writer.flush().await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writes_pk_rows_for_the_sdk() {
        let rows =
            rows().expect("FLUSS_INTEROP_INTERNAL_FIXTURE is not set: run `npm run test:interop`");
        let conn = connect().await;
        let table = conn
            .get_table(&TablePath::new(DB, "from_rust_pk"))
            .await
            .unwrap();
        let writer = table.new_upsert().unwrap().create_writer().unwrap();
        for row in &rows {
            writer.upsert(&to_row(row)).unwrap();
        }
        writer.flush().await.unwrap();
    }
}
