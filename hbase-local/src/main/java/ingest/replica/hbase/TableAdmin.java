package ingest.replica.hbase;

import java.io.IOException;
import org.apache.hadoop.hbase.NamespaceDescriptor;
import org.apache.hadoop.hbase.NamespaceExistException;
import org.apache.hadoop.hbase.TableExistsException;
import org.apache.hadoop.hbase.TableName;
import org.apache.hadoop.hbase.TableNotFoundException;
import org.apache.hadoop.hbase.client.Admin;
import org.apache.hadoop.hbase.client.ColumnFamilyDescriptorBuilder;
import org.apache.hadoop.hbase.client.Connection;
import org.apache.hadoop.hbase.client.TableDescriptorBuilder;
import org.apache.hadoop.hbase.util.Bytes;

/** Table operations the REST API lacks (pre-split creation) or that tests need (flush), over one connection. */
final class TableAdmin {
  static final byte[] FAMILY = Bytes.toBytes("cf");
  static final int MAX_VERSIONS = 1000;

  private final Connection connection;

  TableAdmin(Connection connection) {
    this.connection = connection;
  }

  /** Creates the namespace if missing and the table pre-split into uniform regions. @return false if it existed. */
  boolean create(String name, int regions, int versions) throws IOException {
    TableName table = tableName(name);
    if (versions < 1 || versions > MAX_VERSIONS) {
      throw new IllegalArgumentException("versions must be between 1 and " + MAX_VERSIONS + ", got " + versions);
    }
    byte[][] splits = TableSplits.uniform(regions);
    try (Admin admin = connection.getAdmin()) {
      ensureNamespace(admin, table.getNamespaceAsString());
      if (admin.tableExists(table)) return false;
      var descriptor = TableDescriptorBuilder.newBuilder(table)
          .setColumnFamily(ColumnFamilyDescriptorBuilder.newBuilder(FAMILY).setMaxVersions(versions).build())
          .build();
      try {
        if (splits.length == 0) admin.createTable(descriptor);
        else admin.createTable(descriptor, splits);
      } catch (TableExistsException e) {
        return false; // created concurrently by another caller: still idempotent
      }
      return true;
    }
  }

  /** Disables (if needed) and deletes the table. @return false if it did not exist. */
  boolean delete(String name) throws IOException {
    TableName table = tableName(name);
    try (Admin admin = connection.getAdmin()) {
      if (!admin.tableExists(table)) return false;
      if (admin.isTableEnabled(table)) admin.disableTable(table);
      admin.deleteTable(table);
      return true;
    } catch (TableNotFoundException e) {
      return false;
    }
  }

  /** Flushes every region of the table to store files. @return false if it does not exist. */
  boolean flush(String name) throws IOException {
    TableName table = tableName(name);
    try (Admin admin = connection.getAdmin()) {
      if (!admin.tableExists(table)) return false;
      admin.flush(table);
      return true;
    } catch (TableNotFoundException e) {
      return false;
    }
  }

  /**
   * Splits the table's region holding {@code at} there, and waits until the daughters serve (as a split by
   * the region server would, while scanners are open). @return false if the table does not exist.
   */
  boolean split(String name, byte[] at) throws IOException, InterruptedException {
    TableName table = tableName(name);
    try (Admin admin = connection.getAdmin()) {
      if (!admin.tableExists(table)) return false;
      int before = admin.getRegions(table).size();
      admin.flush(table);
      admin.split(table, at);
      long deadline = System.currentTimeMillis() + 60_000;
      while (admin.getRegions(table).size() <= before) {
        if (System.currentTimeMillis() > deadline) throw new IOException("the split of " + name + " did not finish within 60 s");
        Thread.sleep(100);
      }
      return true;
    } catch (TableNotFoundException e) {
      return false;
    }
  }

  private static void ensureNamespace(Admin admin, String namespace) throws IOException {
    for (NamespaceDescriptor existing : admin.listNamespaceDescriptors()) {
      if (existing.getName().equals(namespace)) return;
    }
    try {
      admin.createNamespace(NamespaceDescriptor.create(namespace).build());
    } catch (NamespaceExistException e) {
      // created concurrently: fine
    }
  }

  private static TableName tableName(String name) {
    // TableName.valueOf validates both parts and throws IllegalArgumentException with the reason.
    TableName table = TableName.valueOf(name);
    if (table.isSystemTable()) throw new IllegalArgumentException("system tables are not managed here: " + name);
    return table;
  }
}
