package ingest.replica.hbase;

/**
 * Split points for a table pre-split into N regions. Row keys start with a CRC32 (4 bytes, big-endian), so
 * uniform boundaries over the 32-bit space give regions of equal expected size.
 */
final class TableSplits {
  static final int MAX_REGIONS = 1024;

  private TableSplits() {}

  /** The N-1 split keys: split i = floor(i * 2^32 / N) as 4 big-endian bytes, for i = 1..N-1. */
  static byte[][] uniform(int regions) {
    if (regions < 1 || regions > MAX_REGIONS) {
      throw new IllegalArgumentException("regions must be between 1 and " + MAX_REGIONS + ", got " + regions);
    }
    byte[][] splits = new byte[regions - 1][];
    for (int i = 1; i < regions; i++) {
      long boundary = (i * (1L << 32)) / regions;
      splits[i - 1] = new byte[] {
        (byte) (boundary >>> 24), (byte) (boundary >>> 16), (byte) (boundary >>> 8), (byte) boundary,
      };
    }
    return splits;
  }
}
