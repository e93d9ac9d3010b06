/*
 * The Java client against fluss-ts: primary-key tables. Upsert, partial update, delete, lookup,
 * prefix lookup, and the changelog (+I, -U, +U, -D) read by a log scanner.
 */
package org.flussts.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.fluss.client.Connection;
import org.apache.fluss.client.admin.Admin;
import org.apache.fluss.client.lookup.Lookuper;
import org.apache.fluss.client.table.Table;
import org.apache.fluss.client.table.scanner.ScanRecord;
import org.apache.fluss.client.table.scanner.log.LogScanner;
import org.apache.fluss.client.table.writer.UpsertWriter;
import org.apache.fluss.metadata.Schema;
import org.apache.fluss.metadata.TableDescriptor;
import org.apache.fluss.metadata.TablePath;
import org.apache.fluss.record.ChangeType;
import org.apache.fluss.row.BinaryString;
import org.apache.fluss.row.GenericRow;
import org.apache.fluss.row.InternalRow;
import org.apache.fluss.types.DataTypes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class PkTableTest {
  static final Schema SCHEMA =
      Schema.newBuilder()
          .column("region", DataTypes.STRING().copy(false))
          .column("id", DataTypes.INT().copy(false))
          .column("name", DataTypes.STRING())
          .column("amount", DataTypes.BIGINT())
          .primaryKey("region", "id")
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

  static TablePath create(String name, TableDescriptor.Builder b) throws Exception {
    TablePath path = Interop.path(name);
    admin.dropTable(path, true).get();
    admin.createTable(path, b.schema(SCHEMA).build(), false).get();
    return path;
  }

  static GenericRow row(String region, int id, String name, Long amount) {
    return GenericRow.of(
        BinaryString.fromString(region), id, name == null ? null : BinaryString.fromString(name), amount);
  }

  static GenericRow key(String region, int id) {
    return GenericRow.of(BinaryString.fromString(region), id);
  }

  static String show(InternalRow r) {
    if (r == null) return null;
    return r.getString(0) + "|" + r.getInt(1) + "|" + (r.isNullAt(2) ? null : r.getString(2)) + "|"
        + (r.isNullAt(3) ? null : r.getLong(3));
  }

  @Test
  void upsertLookupPartialUpdateDelete() throws Exception {
    TablePath path = create("pk_basic", TableDescriptor.builder().distributedBy(3));
    assertEquals(List.of("region", "id"), admin.getTableInfo(path).get().getPrimaryKeys());
    Table table = conn.getTable(path);
    UpsertWriter writer = table.newUpsert().createWriter();
    for (int i = 0; i < 100; i++) writer.upsert(row(i % 2 == 1 ? "eu" : "us", i, "n" + i, i * 10L));
    writer.flush();

    Lookuper lookuper = table.newLookup().createLookuper();
    assertEquals("eu|7|n7|70", show(lookuper.lookup(key("eu", 7)).get().getSingletonRow()));
    assertNull(lookuper.lookup(key("us", 7)).get().getSingletonRow());

    writer.upsert(row("eu", 7, "seven", null));
    writer.flush();
    assertEquals("eu|7|seven|null", show(lookuper.lookup(key("eu", 7)).get().getSingletonRow()));

    UpsertWriter partial = table.newUpsert().partialUpdate("region", "id", "amount").createWriter();
    partial.upsert(row("eu", 9, null, 999L));
    partial.flush();
    assertEquals("eu|9|n9|999", show(lookuper.lookup(key("eu", 9)).get().getSingletonRow()));

    writer.delete(row("eu", 9, null, null));
    writer.flush();
    assertNull(lookuper.lookup(key("eu", 9)).get().getSingletonRow());
    assertNotNull(lookuper.lookup(key("eu", 11)).get().getSingletonRow());
  }

  @Test
  void prefixLookup() throws Exception {
    TablePath path = create("pk_prefix", TableDescriptor.builder().distributedBy(2, "region"));
    assertEquals(List.of("region"), admin.getTableInfo(path).get().getBucketKeys());
    Table table = conn.getTable(path);
    UpsertWriter writer = table.newUpsert().createWriter();
    String[] regions = {"eu", "us", "ap"};
    for (int i = 0; i < 30; i++) writer.upsert(row(regions[i % 3], i, "n" + i, (long) i));
    writer.flush();
    Lookuper prefix = table.newLookup().lookupBy("region").createLookuper();
    List<InternalRow> rows = prefix.lookup(GenericRow.of(BinaryString.fromString("us"))).get().getRowList();
    List<Integer> ids = new ArrayList<>();
    for (InternalRow r : rows) {
      assertEquals("us", r.getString(0).toString());
      assertEquals("n" + r.getInt(1), r.getString(2).toString());
      ids.add(r.getInt(1));
    }
    ids.sort(null);
    List<Integer> want = new ArrayList<>();
    for (int i = 0; i < 30; i++) if (i % 3 == 1) want.add(i);
    assertEquals(want, ids);
    assertEquals(0, prefix.lookup(GenericRow.of(BinaryString.fromString("none"))).get().getRowList().size());
  }

  @Test
  void changelogScan() throws Exception {
    TablePath path = create("pk_changelog", TableDescriptor.builder().distributedBy(1));
    Table table = conn.getTable(path);
    UpsertWriter writer = table.newUpsert().createWriter();
    writer.upsert(row("eu", 1, "a", 1L));
    writer.flush();
    writer.upsert(row("eu", 1, "b", 2L));
    writer.flush();
    writer.delete(row("eu", 1, null, null));
    writer.flush();
    LogScanner scanner = table.newScan().createLogScanner();
    scanner.subscribeFromBeginning(0);
    List<ScanRecord> recs = Interop.poll(scanner, 4, Duration.ofSeconds(30));
    recs.addAll(Interop.pollMore(scanner, Duration.ofMillis(500)));
    assertEquals(
        List.of(ChangeType.INSERT, ChangeType.UPDATE_BEFORE, ChangeType.UPDATE_AFTER, ChangeType.DELETE),
        recs.stream().map(ScanRecord::getChangeType).toList());
    assertEquals(List.of("a", "a", "b", "b"), recs.stream().map(r -> r.getRow().getString(2).toString()).toList());
    assertEquals(List.of(0L, 1L, 2L, 3L), recs.stream().map(ScanRecord::logOffset).toList());
    scanner.close();
  }
}
