//! Shared helpers of the fluss-rs interop tests (tests/*.rs): a connection to the fluss-ts cluster
//! whose address the runner (test/interop/rust.interop.ts) puts in FLUSS_BOOTSTRAP_SERVERS, the
//! test database, and polling with a deadline (a scan that stops early fails, never hangs).

use fluss::client::{FlussAdmin, FlussConnection, LogScanner};
use fluss::config::Config;
use fluss::metadata::TablePath;
use fluss::record::ChangeType;
use fluss::row::InternalRow;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const DATABASE: &str = "interop_rust";

pub async fn connect() -> FlussConnection {
    let bootstrap = std::env::var("FLUSS_BOOTSTRAP_SERVERS")
        .expect("FLUSS_BOOTSTRAP_SERVERS is not set: run `npm run test:interop`");
    let mut config = Config::default();
    config.bootstrap_servers = bootstrap;
    FlussConnection::new(config).await.expect("connect")
}

pub async fn admin(conn: &FlussConnection) -> Arc<FlussAdmin> {
    let admin = conn.get_admin().expect("admin");
    admin
        .create_database(DATABASE, None, true)
        .await
        .expect("create database");
    admin
}

pub fn path(table: &str) -> TablePath {
    TablePath::new(DATABASE, table)
}

/// One polled record, with the values a test looks at already extracted.
pub struct Rec {
    pub offset: i64,
    pub change: ChangeType,
    pub values: Vec<String>,
}

/// Renders column `i` of a row as text (tests build rows from a few simple types).
pub type Render = fn(&dyn InternalRow) -> Vec<String>;

/// Polls until `expected` records arrived or `timeout` passed; returns what arrived.
pub async fn poll(
    scanner: &LogScanner,
    expected: usize,
    timeout: Duration,
    render: Render,
) -> Vec<Rec> {
    let mut out = Vec::new();
    let deadline = Instant::now() + timeout;
    while out.len() < expected && Instant::now() < deadline {
        let records = scanner
            .poll(Duration::from_millis(500))
            .await
            .expect("poll");
        for r in records {
            out.push(Rec {
                offset: r.offset(),
                change: *r.change_type(),
                values: render(r.row()),
            });
        }
    }
    out
}
