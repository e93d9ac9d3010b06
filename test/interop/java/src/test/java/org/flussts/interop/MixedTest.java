/*
 * The Java client and the TypeScript SDK on the same tables, every scalar type, nulls included.
 *
 * The runner (test/interop/java.interop.ts) creates the tables and writes the fixture rows
 * (../fixtures/all-types.json) with the SDK before Maven starts, and reads what these tests write
 * after Maven ends:
 *   interop_mixed.from_sdk / from_sdk_pk:   written by the SDK, read (scan, lookup) here;
 *   interop_mixed.from_java / from_java_pk: created empty by the SDK, written here, read by the SDK.
 * The SDK creates them with table.statistics.columns=none: the 0.9 client reads magic v0 batches only.
 */
package org.flussts.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.io.File;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.fluss.client.Connection;
import org.apache.fluss.client.lookup.Lookuper;
import org.apache.fluss.client.table.Table;
import org.apache.fluss.client.table.scanner.ScanRecord;
import org.apache.fluss.client.table.scanner.log.LogScanner;
import org.apache.fluss.client.table.writer.AppendWriter;
import org.apache.fluss.client.table.writer.UpsertWriter;
import org.apache.fluss.metadata.TablePath;
import org.apache.fluss.row.BinaryString;
import org.apache.fluss.row.Decimal;
import org.apache.fluss.row.GenericRow;
import org.apache.fluss.row.InternalRow;
import org.apache.fluss.row.TimestampLtz;
import org.apache.fluss.row.TimestampNtz;
import org.apache.fluss.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.fluss.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class MixedTest {
  static final String DB = "interop_mixed";
  static final String[] COLUMNS = {
    "id", "b", "ti", "si", "i", "bi", "f", "d", "dec", "dec28", "s", "c", "by", "bin", "dt", "t", "ts", "ts6",
    "ltz", "ltz6"
  };
  static final DateTimeFormatter MS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS");
  static final DateTimeFormatter US = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS");
  static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");

  static Connection conn;
  static List<JsonNode> rows;

  @BeforeAll
  static void setUp() throws Exception {
    String fixture = System.getenv("FLUSS_INTEROP_FIXTURE");
    Assumptions.assumeTrue(fixture != null, "mixed tests need the runner's tables");
    rows = new ArrayList<>();
    new ObjectMapper().readTree(new File(fixture)).get("rows").forEach(rows::add);
    conn = Interop.connect();
  }

  @AfterAll
  static void close() throws Exception {
    if (conn != null) conn.close();
  }

  /** A fixture row in canonical form: every value as text (doubles as Double.toString), null as null. */
  static Map<String, String> expected(JsonNode row) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String c : COLUMNS) {
      JsonNode v = row.get(c);
      if (v == null || v.isNull()) out.put(c, null);
      else if (c.equals("f") || c.equals("d")) out.put(c, Double.toString(v.asDouble()));
      else out.put(c, v.asText());
    }
    return out;
  }

  static String utc(Instant instant, DateTimeFormatter f) {
    return LocalDateTime.ofInstant(instant, ZoneOffset.UTC).format(f) + "Z";
  }

  /** A row the Java client returned, in canonical form. */
  static Map<String, String> canonical(InternalRow r) {
    Map<String, String> out = new LinkedHashMap<>();
    for (int i = 0; i < COLUMNS.length; i++) {
      String c = COLUMNS[i];
      if (r.isNullAt(i)) {
        out.put(c, null);
        continue;
      }
      String v =
          switch (c) {
            case "id", "i" -> Integer.toString(r.getInt(i));
            case "b" -> Boolean.toString(r.getBoolean(i));
            case "ti" -> Byte.toString(r.getByte(i));
            case "si" -> Short.toString(r.getShort(i));
            case "bi" -> Long.toString(r.getLong(i));
            case "f" -> Double.toString(r.getFloat(i));
            case "d" -> Double.toString(r.getDouble(i));
            case "dec" -> r.getDecimal(i, 10, 2).toBigDecimal().toPlainString();
            case "dec28" -> r.getDecimal(i, 28, 6).toBigDecimal().toPlainString();
            case "s" -> r.getString(i).toString();
            case "c" -> r.getChar(i, 5).toString();
            case "by" -> Base64.getEncoder().encodeToString(r.getBytes(i));
            case "bin" -> Base64.getEncoder().encodeToString(r.getBinary(i, 4));
            case "dt" -> LocalDate.ofEpochDay(r.getInt(i)).toString();
            case "t" -> LocalTime.ofNanoOfDay(r.getInt(i) * 1_000_000L).format(TIME);
            case "ts" -> r.getTimestampNtz(i, 3).toLocalDateTime().format(MS);
            case "ts6" -> r.getTimestampNtz(i, 6).toLocalDateTime().format(US);
            case "ltz" -> utc(r.getTimestampLtz(i, 3).toInstant(), MS);
            case "ltz6" -> utc(r.getTimestampLtz(i, 6).toInstant(), US);
            default -> throw new IllegalStateException(c);
          };
      out.put(c, v);
    }
    return out;
  }

  /** A fixture row as the Java client writes it. */
  static GenericRow toRow(JsonNode row) {
    GenericRow out = new GenericRow(COLUMNS.length);
    for (int i = 0; i < COLUMNS.length; i++) {
      String c = COLUMNS[i];
      JsonNode v = row.get(c);
      if (v == null || v.isNull()) continue;
      String t = v.asText();
      Object value =
          switch (c) {
            case "id", "i" -> v.asInt();
            case "b" -> v.asBoolean();
            case "ti" -> (byte) v.asInt();
            case "si" -> (short) v.asInt();
            case "bi" -> Long.parseLong(t);
            case "f" -> (float) v.asDouble();
            case "d" -> v.asDouble();
            case "dec" -> Decimal.fromBigDecimal(new BigDecimal(t), 10, 2);
            case "dec28" -> Decimal.fromBigDecimal(new BigDecimal(t), 28, 6);
            case "s", "c" -> BinaryString.fromString(t);
            case "by", "bin" -> Base64.getDecoder().decode(t);
            case "dt" -> (int) LocalDate.parse(t).toEpochDay();
            case "t" -> (int) (LocalTime.parse(t).toNanoOfDay() / 1_000_000L);
            case "ts", "ts6" -> TimestampNtz.fromLocalDateTime(LocalDateTime.parse(t));
            case "ltz", "ltz6" -> TimestampLtz.fromInstant(Instant.parse(t));
            default -> throw new IllegalStateException(c);
          };
      out.setField(i, value);
    }
    return out;
  }

  static List<Map<String, String>> expectedRows() {
    List<Map<String, String>> out = new ArrayList<>();
    for (JsonNode r : rows) out.add(expected(r));
    return out;
  }

  @Test
  void readsSdkLogRows() throws Exception {
    Table table = conn.getTable(TablePath.of(DB, "from_sdk"));
    LogScanner scanner = table.newScan().createLogScanner();
    scanner.subscribeFromBeginning(0);
    List<ScanRecord> recs = Interop.poll(scanner, rows.size(), Duration.ofSeconds(30));
    recs.addAll(Interop.pollMore(scanner, Duration.ofMillis(500)));
    List<Map<String, String>> got = new ArrayList<>();
    for (ScanRecord r : recs) got.add(canonical(r.getRow()));
    got.sort(Comparator.comparing(m -> Integer.parseInt(m.get("id"))));
    assertEquals(expectedRows(), got);
    scanner.close();
  }

  @Test
  void looksUpSdkPkRows() throws Exception {
    Lookuper lookuper = conn.getTable(TablePath.of(DB, "from_sdk_pk")).newLookup().createLookuper();
    for (JsonNode row : rows) {
      InternalRow got = lookuper.lookup(GenericRow.of(row.get("id").asInt())).get().getSingletonRow();
      assertNotNull(got, row.get("id").asText());
      assertEquals(expected(row), canonical(got));
    }
  }

  @Test
  void writesLogRowsForTheSdk() throws Exception {
    AppendWriter writer = conn.getTable(TablePath.of(DB, "from_java")).newAppend().createWriter();
    for (JsonNode row : rows) writer.append(toRow(row));
    writer.flush();
  }

  @Test
  void writesPkRowsForTheSdk() throws Exception {
    UpsertWriter writer = conn.getTable(TablePath.of(DB, "from_java_pk")).newUpsert().createWriter();
    for (JsonNode row : rows) writer.upsert(toRow(row));
    writer.flush();
  }
}
