package ingest.replica.hbase;

import java.io.File;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Command-line options: --data-dir DIR [--rest-port P] [--zk-port Z] [--admin-port A] [--conf key=value]...
 * {@code --conf} overrides any HBase setting after the defaults (tests use it, e.g. for a short scanner lease).
 */
record Options(File dataDir, int restPort, int zkPort, int adminPort, Map<String, String> overrides) {
  static final String USAGE = "usage: LocalHBase --data-dir DIR [--rest-port 8080] [--zk-port 2181]"
      + " [--admin-port 8079] [--conf key=value]...";

  static Options parse(String[] args) {
    String dataDir = null;
    int restPort = 8080;
    int zkPort = 2181;
    int adminPort = 8079;
    Map<String, String> overrides = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      if (i + 1 >= args.length) throw new IllegalArgumentException("missing value for " + flag + "\n" + USAGE);
      String value = args[++i];
      switch (flag) {
        case "--data-dir" -> dataDir = value;
        case "--rest-port" -> restPort = port(flag, value);
        case "--zk-port" -> zkPort = port(flag, value);
        case "--admin-port" -> adminPort = port(flag, value);
        case "--conf" -> {
          int eq = value.indexOf('=');
          if (eq < 1) throw new IllegalArgumentException("--conf needs key=value, got " + value);
          overrides.put(value.substring(0, eq), value.substring(eq + 1));
        }
        default -> throw new IllegalArgumentException("unknown flag " + flag + "\n" + USAGE);
      }
    }
    if (dataDir == null) throw new IllegalArgumentException("--data-dir is required\n" + USAGE);
    return new Options(new File(dataDir).getAbsoluteFile(), restPort, zkPort, adminPort, Map.copyOf(overrides));
  }

  private static int port(String flag, String value) {
    try {
      int port = Integer.parseInt(value);
      if (port >= 1 && port <= 65535) return port;
    } catch (NumberFormatException e) {
      // fall through to the error below
    }
    throw new IllegalArgumentException(flag + " must be a port number (1-65535), got " + value);
  }
}
