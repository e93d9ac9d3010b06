/*
 * The Java client against fluss-ts: log tables. Create (with and without bucket keys, ZSTD and
 * LZ4_FRAME), append 100k rows, scan from earliest / latest / an offset, projected scans, list
 * offsets, admin metadata calls.
 */
package org.flussts.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.fluss.client.Connection;
import org.apache.fluss.client.admin.Admin;
import org.apache.fluss.client.admin.OffsetSpec;
import org.apache.fluss.client.table.Table;
import org.apache.fluss.client.table.scanner.ScanRecord;
import org.apache.fluss.client.table.scanner.log.LogScanner;
import org.apache.fluss.client.table.writer.AppendWriter;
import org.apache.fluss.exception.TableNotExistException;
import org.apache.fluss.metadata.Schema;
import org.apache.fluss.metadata.TableDescriptor;
import org.apache.fluss.metadata.TableInfo;
import org.apache.fluss.metadata.TablePath;
import org.apache.fluss.record.ChangeType;
import org.apache.fluss.row.BinaryString;
import org.apache.fluss.row.GenericRow;
import org.apache.fluss.row.InternalRow;
import org.apache.fluss.types.DataTypes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LogTableTest {
  static final int ROWS = 100_000;
  static final Schema SCHEMA =
      Schema.newBuilder()
          .column("id", DataTypes.BIGINT())
          .column("name", DataTypes.STRING())
          .column("score", DataTypes.DOUBLE())
          .build();

  static Connection conn;
  static Admin admin;

  @BeforeAll
  static void connect() throws Exception {
    conn = Interop.connect();
    admin = conn.getAdmin();
    Interop.ensureDatabase(admin);
  }

  @AfterAll
  static void close() throws Exception {
    if (conn != null) conn.close();
  }

  static TablePath create(String name, TableDescriptor.Builder builder) throws Exception {
    TablePath path = Interop.path(name);
    admin.dropTable(path, true).get();
    admin.createTable(path, builder.schema(SCHEMA).build(), false).get();
    return path;
  }

  static GenericRow row(long i) {
    return GenericRow.of(i, BinaryString.fromString("name-" + i), i / 4.0);
  }

  static void append(Table table, long from, long count) throws Exception {
    AppendWriter writer = table.newAppend().createWriter();
    for (long i = from; i < from + count; i++) writer.append(row(i));
    writer.flush();
  }

  @Test
  void adminMetadata() throws Exception {
    assertTrue(admin.listDatabases().get().contains(Interop.DATABASE));
    assertTrue(admin.databaseExists(Interop.DATABASE).get());
    assertFalse(admin.databaseExists("no_such_db").get());
    assertEquals(Interop.DATABASE, admin.getDatabaseInfo(Interop.DATABASE).get().getDatabaseName());
    TablePath path = create("meta", TableDescriptor.builder().distributedBy(2).comment("a comment"));
    assertTrue(admin.tableExists(path).get());
    assertTrue(admin.listTables(Interop.DATABASE).get().contains("meta"));
    TableInfo info = admin.getTableInfo(path).get();
    assertEquals(2, info.getNumBuckets());
    assertEquals(Collections.emptyList(), info.getBucketKeys());
    assertEquals("a comment", info.getComment().orElse(null));
    assertEquals(Arrays.asList("id", "name", "score"), info.getSchema().getColumnNames());
    assertEquals(info.getSchemaId(), admin.getTableSchema(path).get().getSchemaId());
    ExecutionException err =
        org.junit.jupiter.api.Assertions.assertThrows(
            ExecutionException.class, () -> admin.getTableInfo(Interop.path("no_such_table")).get());
    assertTrue(err.getCause() instanceof TableNotExistException, err.getCause().toString());
    assertFalse(admin.getServerNodes().get().isEmpty());
  }

  @ParameterizedTest
  @CsvSource({"log_zstd_nokey,3,,ZSTD", "log_lz4_key,3,id,LZ4_FRAME", "log_none_key,2,id,NONE"})
  void append100kAndScanFromEarliest(String name, int buckets, String key, String compression)
      throws Exception {
    TableDescriptor.Builder b =
        TableDescriptor.builder().property("table.log.arrow.compression.type", compression);
    b = key == null ? b.distributedBy(buckets) : b.distributedBy(buckets, key);
    TablePath path = create(name, b);
    Table table = conn.getTable(path);
    append(table, 0, ROWS);

    List<Integer> bucketIds = new ArrayList<>();
    for (int i = 0; i < buckets; i++) bucketIds.add(i);
    Map<Integer, Long> latest = admin.listOffsets(path, bucketIds, new OffsetSpec.LatestSpec()).all().get();
    assertEquals(ROWS, latest.values().stream().mapToLong(Long::longValue).sum());
    // With a bucket key the ids spread over every bucket; without one the client's sticky bucket
    // assigner may leave a bucket empty, which is correct.
    if (key != null) for (long v : latest.values()) assertTrue(v > 0, latest.toString());

    LogScanner scanner = table.newScan().createLogScanner();
    for (int i = 0; i < buckets; i++) scanner.subscribeFromBeginning(i);
    List<ScanRecord> recs = Interop.poll(scanner, ROWS, Duration.ofSeconds(120));
    assertEquals(ROWS, recs.size());
    Set<Long> ids = new HashSet<>();
    for (ScanRecord r : recs) {
      InternalRow row = r.getRow();
      long id = row.getLong(0);
      ids.add(id);
      assertEquals("name-" + id, row.getString(1).toString());
      assertEquals(id / 4.0, row.getDouble(2));
      assertEquals(ChangeType.APPEND_ONLY, r.getChangeType());
    }
    assertEquals(ROWS, ids.size());
    scanner.close();
  }

  @Test
  void scanFromLatestAndFromOffset() throws Exception {
    TablePath path = create("log_offsets", TableDescriptor.builder().distributedBy(1));
    Table table = conn.getTable(path);
    append(table, 0, 10);
    assertEquals(10L, admin.listOffsets(path, List.of(0), new OffsetSpec.LatestSpec()).all().get().get(0));
    assertEquals(0L, admin.listOffsets(path, List.of(0), new OffsetSpec.EarliestSpec()).all().get().get(0));

    LogScanner fromLatest = table.newScan().createLogScanner();
    fromLatest.subscribe(0, 10);
    assertEquals(0, Interop.pollMore(fromLatest, Duration.ofSeconds(1)).size());
    append(table, 10, 5);
    List<ScanRecord> recs = Interop.poll(fromLatest, 5, Duration.ofSeconds(30));
    assertEquals(List.of(10L, 11L, 12L, 13L, 14L), recs.stream().map(ScanRecord::logOffset).toList());
    assertEquals(List.of(10L, 11L, 12L, 13L, 14L), recs.stream().map(r -> r.getRow().getLong(0)).toList());
    fromLatest.close();

    LogScanner fromOffset = table.newScan().createLogScanner();
    fromOffset.subscribe(0, 7);
    recs = Interop.poll(fromOffset, 8, Duration.ofSeconds(30));
    assertEquals(List.of(7L, 8L, 9L, 10L, 11L, 12L, 13L, 14L), recs.stream().map(ScanRecord::logOffset).toList());
    fromOffset.close();
  }

  @Test
  void listOffsetsByTimestamp() throws Exception {
    TablePath path = create("log_ts", TableDescriptor.builder().distributedBy(1));
    Table table = conn.getTable(path);
    append(table, 0, 3);
    Thread.sleep(50);
    long middle = System.currentTimeMillis();
    Thread.sleep(50);
    append(table, 3, 2);
    assertEquals(0L, admin.listOffsets(path, List.of(0), new OffsetSpec.TimestampSpec(0)).all().get().get(0));
    assertEquals(3L, admin.listOffsets(path, List.of(0), new OffsetSpec.TimestampSpec(middle)).all().get().get(0));
  }

  @Test
  void projectedScans() throws Exception {
    TablePath path =
        create(
            "log_projected",
            TableDescriptor.builder().distributedBy(2).property("table.log.arrow.compression.type", "LZ4_FRAME"));
    Table table = conn.getTable(path);
    append(table, 0, 1000);
    LogScanner scanner = table.newScan().project(List.of("score", "id")).createLogScanner();
    scanner.subscribeFromBeginning(0);
    scanner.subscribeFromBeginning(1);
    List<ScanRecord> recs = Interop.poll(scanner, 1000, Duration.ofSeconds(30));
    assertEquals(1000, recs.size());
    Set<Long> ids = new HashSet<>();
    for (ScanRecord r : recs) {
      assertEquals(2, r.getRow().getFieldCount());
      long id = r.getRow().getLong(1);
      assertEquals(id / 4.0, r.getRow().getDouble(0));
      ids.add(id);
    }
    assertEquals(1000, ids.size());
    scanner.close();
  }
}
