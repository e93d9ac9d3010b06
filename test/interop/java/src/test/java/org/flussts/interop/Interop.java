/*
 * Shared helpers of the Java interop tests: a connection to the fluss-ts cluster whose address the
 * runner (test/interop/java.interop.ts) puts in FLUSS_BOOTSTRAP_SERVERS, the test database, and
 * polling with a deadline (a scan that stops early fails, never hangs).
 */
package org.flussts.interop;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.fluss.client.Connection;
import org.apache.fluss.client.ConnectionFactory;
import org.apache.fluss.client.admin.Admin;
import org.apache.fluss.client.table.scanner.ScanRecord;
import org.apache.fluss.client.table.scanner.log.LogScanner;
import org.apache.fluss.config.Configuration;
import org.apache.fluss.metadata.DatabaseDescriptor;
import org.apache.fluss.metadata.TablePath;

final class Interop {
  static final String DATABASE = "interop_java";

  private Interop() {}

  static Connection connect() {
    String bootstrap = System.getenv("FLUSS_BOOTSTRAP_SERVERS");
    if (bootstrap == null || bootstrap.isEmpty()) {
      throw new IllegalStateException("FLUSS_BOOTSTRAP_SERVERS is not set: run `npm run test:interop`");
    }
    Configuration conf = new Configuration();
    conf.setString("bootstrap.servers", bootstrap);
    return ConnectionFactory.createConnection(conf);
  }

  static void ensureDatabase(Admin admin) throws Exception {
    admin.createDatabase(DATABASE, DatabaseDescriptor.EMPTY, true).get();
  }

  static TablePath path(String table) {
    return TablePath.of(DATABASE, table);
  }

  /** Polls until `expected` records arrived or `timeout` passed; returns what arrived. */
  static List<ScanRecord> poll(LogScanner scanner, int expected, Duration timeout) {
    List<ScanRecord> out = new ArrayList<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (out.size() < expected && System.nanoTime() < deadline) {
      scanner.poll(Duration.ofMillis(500)).forEach(out::add);
    }
    return out;
  }

  /** Polls for `wait` and returns whatever arrived (to show that nothing more does). */
  static List<ScanRecord> pollMore(LogScanner scanner, Duration wait) {
    List<ScanRecord> out = new ArrayList<>();
    long deadline = System.nanoTime() + wait.toNanos();
    while (System.nanoTime() < deadline) {
      scanner.poll(Duration.ofMillis(300)).forEach(out::add);
    }
    return out;
  }
}
