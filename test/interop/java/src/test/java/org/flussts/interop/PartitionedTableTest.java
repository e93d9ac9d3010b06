/*
 * The Java client against fluss-ts: partitioned tables. Create partitions, write rows to several,
 * list them, scan one partition, list a partition's offsets, drop a partition, look up a
 * partitioned primary-key table.
 */
package org.flussts.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.fluss.client.Connection;
import org.apache.fluss.client.admin.Admin;
import org.apache.fluss.client.admin.OffsetSpec;
import org.apache.fluss.client.lookup.Lookuper;
import org.apache.fluss.client.table.Table;
import org.apache.fluss.client.table.scanner.ScanRecord;
import org.apache.fluss.client.table.scanner.log.LogScanner;
import org.apache.fluss.client.table.writer.AppendWriter;
import org.apache.fluss.client.table.writer.UpsertWriter;
import org.apache.fluss.metadata.PartitionInfo;
import org.apache.fluss.metadata.PartitionSpec;
import org.apache.fluss.metadata.Schema;
import org.apache.fluss.metadata.TableDescriptor;
import org.apache.fluss.metadata.TablePath;
import org.apache.fluss.row.BinaryString;
import org.apache.fluss.row.GenericRow;
import org.apache.fluss.row.InternalRow;
import org.apache.fluss.types.DataTypes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class PartitionedTableTest {
  static final String[] DAYS = {"20261201", "20261202", "20261203"};
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

  static PartitionSpec spec(String day) {
    return new PartitionSpec(Map.of("dt", day));
  }

  static GenericRow row(long id, String day, String v) {
    return GenericRow.of(id, BinaryString.fromString(day), BinaryString.fromString(v));
  }

  @Test
  void partitionedLogTable() throws Exception {
    TablePath path = Interop.path("parted_log");
    admin.dropTable(path, true).get();
    Schema schema =
        Schema.newBuilder()
            .column("id", DataTypes.BIGINT())
            .column("dt", DataTypes.STRING().copy(false))
            .column("v", DataTypes.STRING())
            .build();
    admin.createTable(path, TableDescriptor.builder().schema(schema).partitionedBy("dt").distributedBy(2).build(), false).get();
    for (String day : DAYS) admin.createPartition(path, spec(day), false).get();
    admin.createPartition(path, spec(DAYS[0]), true).get();
    List<PartitionInfo> infos = admin.listPartitionInfos(path).get();
    assertEquals(Set.of(DAYS), infos.stream().map(PartitionInfo::getPartitionName).collect(Collectors.toSet()));
    Map<String, Long> ids = new HashMap<>();
    for (PartitionInfo p : infos) ids.put(p.getPartitionName(), p.getPartitionId());

    Table table = conn.getTable(path);
    AppendWriter writer = table.newAppend().createWriter();
    for (int i = 0; i < 60; i++) writer.append(row(i, DAYS[i % 3], "v" + i));
    writer.flush();

    Map<Integer, Long> offsets =
        admin.listOffsets(path, DAYS[1], List.of(0, 1), new OffsetSpec.LatestSpec()).all().get();
    assertEquals(20L, offsets.values().stream().mapToLong(Long::longValue).sum());

    LogScanner scanner = table.newScan().createLogScanner();
    scanner.subscribeFromBeginning(ids.get(DAYS[1]), 0);
    scanner.subscribeFromBeginning(ids.get(DAYS[1]), 1);
    List<ScanRecord> recs = Interop.poll(scanner, 20, Duration.ofSeconds(30));
    recs.addAll(Interop.pollMore(scanner, Duration.ofMillis(500)));
    List<Long> got = recs.stream().map(r -> r.getRow().getLong(0)).sorted().toList();
    List<Long> want = new java.util.ArrayList<>();
    for (long i = 0; i < 60; i++) if (i % 3 == 1) want.add(i);
    assertEquals(want, got);
    for (ScanRecord r : recs) assertEquals(DAYS[1], r.getRow().getString(1).toString());
    scanner.close();

    admin.dropPartition(path, spec(DAYS[2]), false).get();
    assertEquals(
        Set.of(DAYS[0], DAYS[1]),
        admin.listPartitionInfos(path).get().stream().map(PartitionInfo::getPartitionName).collect(Collectors.toSet()));
  }

  @Test
  void partitionedPkTable() throws Exception {
    TablePath path = Interop.path("parted_pk");
    admin.dropTable(path, true).get();
    Schema schema =
        Schema.newBuilder()
            .column("id", DataTypes.BIGINT().copy(false))
            .column("dt", DataTypes.STRING().copy(false))
            .column("v", DataTypes.STRING())
            .primaryKey("id", "dt")
            .build();
    admin.createTable(path, TableDescriptor.builder().schema(schema).partitionedBy("dt").distributedBy(1).build(), false).get();
    admin.createPartition(path, spec(DAYS[0]), false).get();
    admin.createPartition(path, spec(DAYS[1]), false).get();
    Table table = conn.getTable(path);
    UpsertWriter writer = table.newUpsert().createWriter();
    writer.upsert(row(1, DAYS[0], "a"));
    writer.upsert(row(1, DAYS[1], "b"));
    writer.flush();
    Lookuper lookuper = table.newLookup().createLookuper();
    InternalRow a = lookuper.lookup(GenericRow.of(1L, BinaryString.fromString(DAYS[0]))).get().getSingletonRow();
    InternalRow b = lookuper.lookup(GenericRow.of(1L, BinaryString.fromString(DAYS[1]))).get().getSingletonRow();
    assertEquals("a", a.getString(2).toString());
    assertEquals("b", b.getString(2).toString());
  }
}
