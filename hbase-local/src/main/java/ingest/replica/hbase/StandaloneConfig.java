package ingest.replica.hbase;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hbase.HBaseConfiguration;

/** The configuration of a one-JVM HBase sized for a small, shared development machine. */
final class StandaloneConfig {
  private StandaloneConfig() {}

  static Configuration create(Options o) {
    Configuration conf = HBaseConfiguration.create();
    String dir = o.dataDir().getPath();

    // Standalone on the local filesystem. The local filesystem has no hflush/hsync, so the WAL must not
    // insist on those stream capabilities or the region server refuses to start.
    conf.set("hbase.rootdir", "file://" + dir + "/hbase");
    conf.set("hbase.tmp.dir", dir + "/tmp");
    conf.setBoolean("hbase.cluster.distributed", false);
    conf.setBoolean("hbase.unsafe.stream.capability.enforce", false);

    // ZooKeeper runs in this JVM on a fixed port; HBase RPC ports are ephemeral so that nothing clashes with
    // other services on the machine, and no web UI is started at all.
    conf.set("hbase.zookeeper.quorum", "127.0.0.1");
    conf.setInt("hbase.zookeeper.property.clientPort", o.zkPort());
    conf.set("hbase.zookeeper.property.dataDir", dir + "/zookeeper");
    conf.setInt("zookeeper.session.timeout", 10_000);
    conf.setBoolean("hbase.localcluster.assign.random.ports", true);
    conf.setInt("hbase.master.info.port", -1);
    conf.setInt("hbase.regionserver.info.port", -1);
    conf.setInt("hbase.rest.info.port", -1);

    // There is exactly one region server: the master need not wait its default 4.5 s for more to check in.
    conf.setInt("hbase.master.wait.on.regionservers.mintostart", 1);
    conf.setInt("hbase.master.wait.on.regionservers.maxtostart", 1);
    // The region server retries reporting for duty every msginterval until the master listens: 1 s, not 3 s.
    conf.setInt("hbase.regionserver.msginterval", 1000);

    // Small machine (2 cores shared by everyone): one region server, few handlers.
    conf.setInt("hbase.regionservers", 1);
    conf.setInt("hbase.regionserver.handler.count", 10);
    conf.setInt("hbase.master.handler.count", 10);
    conf.setInt("hbase.regionserver.metahandler.count", 5);
    conf.setInt("hbase.regionserver.replication.handler.count", 1);

    // Memory for a ~1 GiB heap; small memstores flush early and idle ones within about a minute, so memory
    // stays bounded while tests seed data and store files appear on disk soon after writes stop.
    conf.setFloat("hbase.regionserver.global.memstore.size", 0.3f);
    conf.setFloat("hfile.block.cache.size", 0.2f);
    conf.setLong("hbase.hregion.memstore.flush.size", 32L * 1024 * 1024);
    conf.setInt("hbase.regionserver.optionalcacheflushinterval", 60_000);
    conf.setInt("hbase.regionserver.periodicmemstoreflusher.rangeofdelayseconds", 10);

    // The REST gateway: loopback only, writable, a bounded thread pool; scanner cache/lease left at defaults.
    conf.set("hbase.rest.host", "127.0.0.1");
    conf.setInt("hbase.rest.port", o.restPort());
    conf.setBoolean("hbase.rest.readonly", false);
    conf.setInt("hbase.rest.threads.max", 50);
    conf.setInt("hbase.rest.threads.min", 4);

    // Fail fast instead of retrying for minutes when a request hits something that does not exist.
    conf.setInt("hbase.client.retries.number", 10);

    o.overrides().forEach(conf::set);
    return conf;
  }
}
