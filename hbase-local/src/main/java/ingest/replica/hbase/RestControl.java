package ingest.replica.hbase;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hbase.rest.RESTServer;
import org.apache.hadoop.hbase.rest.ScannerResource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the in-process REST server so it can be stopped and started again on the same port, for fault
 * injection ("REST server restarted mid-scan"). A real restart loses every open scanner; so does this one.
 */
final class RestControl {
  private static final Logger LOG = LoggerFactory.getLogger(RestControl.class);

  private final Configuration conf;
  private RESTServer server;

  RestControl(Configuration conf) {
    this.conf = conf;
  }

  /** @return false when it was already running. */
  synchronized boolean start() throws Exception {
    if (server != null) return false;
    // A fresh RESTServer each time: stop() tears down the RESTServlet singleton and its connections.
    RESTServer fresh = new RESTServer(new Configuration(conf));
    fresh.run();
    server = fresh;
    return true;
  }

  /** @return false when it was not running. */
  synchronized boolean stop() throws Exception {
    if (server == null) return false;
    try {
      server.stop();
    } finally {
      server = null;
    }
    int dropped = dropOpenScanners();
    LOG.info("REST server stopped; {} open scanners dropped", dropped);
    return true;
  }

  synchronized boolean running() {
    return server != null;
  }

  /**
   * The REST server keeps its scanners in a static cache that outlives RESTServer.stop() in the same JVM, so
   * without this an in-process restart would (unrealistically) keep them. ScannerResource.delete(id) closes
   * each one the way an explicit DELETE would. Both members are private to HBase: reached by reflection.
   */
  private static int dropOpenScanners() {
    try {
      Field field = ScannerResource.class.getDeclaredField("scanners");
      field.setAccessible(true);
      Method delete = ScannerResource.class.getDeclaredMethod("delete", String.class);
      delete.setAccessible(true);
      Map<?, ?> open = ((com.github.benmanes.caffeine.cache.Cache<?, ?>) field.get(null)).asMap();
      int dropped = 0;
      for (Object id : List.copyOf(open.keySet())) {
        if (Boolean.TRUE.equals(delete.invoke(null, id))) dropped++;
      }
      return dropped;
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.warn("could not drop open REST scanners; they survive this in-process restart", e);
      return 0;
    }
  }
}
