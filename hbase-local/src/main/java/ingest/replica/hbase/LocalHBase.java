package ingest.replica.hbase;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hbase.LocalHBaseCluster;
import org.apache.hadoop.hbase.client.Connection;
import org.apache.hadoop.hbase.client.ConnectionFactory;
import org.apache.hadoop.hbase.master.HMaster;
import org.apache.hadoop.hbase.zookeeper.MiniZooKeeperCluster;
import org.apache.hadoop.metrics2.lib.DefaultMetricsSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A whole HBase in one JVM for development and tests: ZooKeeper, one master and one region server on the
 * local filesystem, the HBase REST server, and the admin endpoint. Prints exactly one line to stdout,
 * {@code READY rest=... admin=...}, once the REST server answers; logs go to stderr. SIGTERM stops the REST
 * server, then HBase (regions are flushed on close), then ZooKeeper.
 */
public final class LocalHBase {
  private static final Logger LOG = LoggerFactory.getLogger(LocalHBase.class);
  private static final Duration MASTER_TIMEOUT = Duration.ofMinutes(5);
  private static final Duration REST_TIMEOUT = Duration.ofMinutes(1);

  private final Options options;
  private final Configuration conf;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private MiniZooKeeperCluster zookeeper;
  private LocalHBaseCluster cluster;
  private Connection connection;
  private RestControl rest;
  private AdminServer admin;
  private boolean stopping;

  private LocalHBase(Options options) {
    this.options = options;
    this.conf = StandaloneConfig.create(options);
  }

  public static void main(String[] args) throws InterruptedException {
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    LocalHBase node = new LocalHBase(options);
    Runtime.getRuntime().addShutdownHook(new Thread(node::stop, "local-hbase-shutdown"));
    long began = System.nanoTime();
    try {
      node.start();
    } catch (Throwable e) {
      LOG.error("local HBase failed to start", e);
      System.exit(1);
    }
    LOG.info("local HBase ready in {} ms", (System.nanoTime() - began) / 1_000_000);
    System.out.println("READY rest=http://127.0.0.1:" + options.restPort() + " admin=http://127.0.0.1:"
        + options.adminPort());
    System.out.flush();
    node.watchMaster();
  }

  private void start() throws Exception {
    // Fail in a second with a clear message instead of after a minute of start-up.
    ensurePortFree(options.zkPort(), "--zk-port");
    ensurePortFree(options.restPort(), "--rest-port");
    ensurePortFree(options.adminPort(), "--admin-port");
    File dataDir = options.dataDir();
    if (!dataDir.isDirectory() && !dataDir.mkdirs()) throw new IOException("cannot create data dir " + dataDir);

    // Several HBase services share one JVM: register metrics sources without clashing names.
    DefaultMetricsSystem.setMiniClusterMode(true);
    startZooKeeper(new File(dataDir, "zookeeper"));

    conf.setIfUnset("hbase.master.start.timeout.localHBaseCluster", String.valueOf(MASTER_TIMEOUT.toMillis()));
    synchronized (this) {
      cluster = new LocalHBaseCluster(conf, 1, 1);
    }
    cluster.startup();
    waitForMaster();

    synchronized (this) {
      connection = ConnectionFactory.createConnection(conf);
      rest = new RestControl(conf);
    }
    rest.start();
    waitForRest();

    synchronized (this) {
      admin = new AdminServer(options.adminPort(), new TableAdmin(connection), rest);
    }
    admin.start();
  }

  private void startZooKeeper(File dir) throws IOException, InterruptedException {
    MiniZooKeeperCluster zk = new MiniZooKeeperCluster(conf);
    zk.setDefaultClientPort(options.zkPort());
    synchronized (this) {
      zookeeper = zk;
    }
    int port = zk.startup(dir);
    if (port != options.zkPort()) {
      throw new IOException("ZooKeeper started on port " + port + " instead of " + options.zkPort());
    }
  }

  private void waitForMaster() throws Exception {
    long deadline = System.nanoTime() + MASTER_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      HMaster master = cluster.getActiveMaster();
      if (master != null && master.isInitialized()) return;
      if (cluster.getLiveMasters().isEmpty()) throw new IllegalStateException("the HBase master died during start-up");
      Thread.sleep(200);
    }
    throw new IllegalStateException("the HBase master did not initialise within " + MASTER_TIMEOUT);
  }

  private void waitForRest() throws Exception {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    HttpRequest probe = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + options.restPort() + "/version/cluster"))
        .header("Accept", "application/json").timeout(Duration.ofSeconds(10)).GET().build();
    long deadline = System.nanoTime() + REST_TIMEOUT.toNanos();
    String last = "no answer";
    while (System.nanoTime() < deadline) {
      try {
        HttpResponse<String> response = client.send(probe, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 200) return;
        last = "HTTP " + response.statusCode();
      } catch (IOException e) {
        last = e.toString();
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException("the REST server did not answer within " + REST_TIMEOUT + ": " + last);
  }

  /** Keeps the main thread until shutdown; exits non-zero if the master dies so supervisors notice. */
  private void watchMaster() throws InterruptedException {
    while (!stopped.await(2, java.util.concurrent.TimeUnit.SECONDS)) {
      HMaster master = cluster.getActiveMaster();
      if (!isStopping() && (master == null || master.isStopped() || master.isAborted())) {
        LOG.error("the HBase master stopped unexpectedly; exiting");
        System.exit(1);
      }
    }
  }

  private synchronized boolean isStopping() {
    return stopping;
  }

  /** Idempotent: runs from the shutdown hook, after a failed start, or both. */
  private synchronized void stop() {
    if (stopping) return;
    stopping = true;
    LOG.info("stopping local HBase");
    quietly("admin endpoint", () -> { if (admin != null) admin.stop(); });
    quietly("REST server", () -> { if (rest != null) rest.stop(); });
    quietly("client connection", () -> { if (connection != null) connection.close(); });
    quietly("HBase", () -> {
      if (cluster != null) {
        cluster.shutdown();
        cluster.join();
      }
    });
    quietly("ZooKeeper", () -> { if (zookeeper != null) zookeeper.shutdown(); });
    LOG.info("local HBase stopped");
    stopped.countDown();
  }

  private interface Step {
    void run() throws Exception;
  }

  private static void quietly(String what, Step step) {
    try {
      step.run();
    } catch (Throwable e) {
      LOG.warn("stopping {} failed", what, e);
    }
  }

  private static void ensurePortFree(int port, String flag) throws IOException {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    } catch (IOException e) {
      throw new IOException(flag + " " + port + " is already in use on 127.0.0.1", e);
    }
  }
}
