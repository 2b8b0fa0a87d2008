package ingest.replica.hbase;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A tiny HTTP endpoint for what the REST API cannot do: pre-split table creation, flushes, and stopping or
 * starting the REST server. Loopback only; answers small JSON bodies.
 */
final class AdminServer {
  private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);

  /** A failure the caller caused: answered with its status and message, never logged as an error. */
  static final class HttpFailure extends Exception {
    final int status;

    HttpFailure(int status, String message) {
      super(message);
      this.status = status;
    }
  }

  private record Reply(int status, String body) {}

  @FunctionalInterface
  private interface Route {
    Reply handle(Map<String, String> query) throws Exception;
  }

  private final HttpServer http;
  private final Map<String, Map<String, Route>> handlers = new HashMap<>();
  private final ExecutorService pool = Executors.newFixedThreadPool(4, r -> {
    Thread t = new Thread(r, "admin-http");
    t.setDaemon(true);
    return t;
  });

  AdminServer(int port, TableAdmin tables, RestControl rest) throws IOException {
    http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 16);
    http.setExecutor(pool);
    route("/health", "GET", q -> new Reply(200, "{\"status\":\"ok\",\"rest\":" + rest.running() + "}"));
    route("/tables", "POST", q -> {
      boolean created = tables.create(required(q, "name"), intParam(q, "regions", 1), intParam(q, "versions", 10));
      return created ? new Reply(201, status("created")) : new Reply(200, status("exists"));
    });
    route("/tables", "DELETE", q -> {
      if (!tables.delete(required(q, "name"))) throw new HttpFailure(404, "table not found");
      return new Reply(200, status("deleted"));
    });
    route("/flush", "POST", q -> {
      if (!tables.flush(required(q, "name"))) throw new HttpFailure(404, "table not found");
      return new Reply(200, status("flushed"));
    });
    route("/split", "POST", q -> {
      if (!tables.split(required(q, "name"), java.util.HexFormat.of().parseHex(required(q, "at")))) throw new HttpFailure(404, "table not found");
      return new Reply(200, status("split"));
    });
    route("/rest/stop", "POST", q -> new Reply(200, status(rest.stop() ? "stopped" : "already-stopped")));
    route("/rest/start", "POST", q -> new Reply(200, status(rest.start() ? "started" : "already-running")));
  }

  void start() {
    http.start();
  }

  void stop() {
    http.stop(0);
    pool.shutdownNow();
  }

  private void route(String path, String method, Route handler) {
    // HttpServer allows one handler per path: chain handlers for the same path by method.
    var previous = handlers.get(path);
    Map<String, Route> byMethod = previous != null ? previous : new HashMap<>();
    byMethod.put(method, handler);
    if (previous == null) {
      handlers.put(path, byMethod);
      http.createContext(path, exchange -> serve(exchange, path, byMethod));
    }
  }

  private void serve(HttpExchange exchange, String path, Map<String, Route> byMethod) throws IOException {
    Reply reply;
    try {
      if (!exchange.getRequestURI().getPath().equals(path)) throw new HttpFailure(404, "no such endpoint");
      Route route = byMethod.get(exchange.getRequestMethod());
      if (route == null) throw new HttpFailure(405, "method not allowed");
      reply = route.handle(query(exchange.getRequestURI().getRawQuery()));
    } catch (HttpFailure e) {
      reply = new Reply(e.status, error(e.getMessage()));
    } catch (IllegalArgumentException e) {
      reply = new Reply(400, error(e.getMessage()));
    } catch (Exception e) {
      LOG.error("admin request failed: {} {}", exchange.getRequestMethod(), exchange.getRequestURI(), e);
      reply = new Reply(500, error(e.getClass().getSimpleName() + ": " + e.getMessage()));
    }
    byte[] body = (reply.body() + "\n").getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(reply.status(), body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> params = new HashMap<>();
    if (raw == null || raw.isEmpty()) return params;
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      String key = eq < 0 ? pair : pair.substring(0, eq);
      String value = eq < 0 ? "" : pair.substring(eq + 1);
      params.put(URLDecoder.decode(key, StandardCharsets.UTF_8), URLDecoder.decode(value, StandardCharsets.UTF_8));
    }
    return params;
  }

  private static String required(Map<String, String> q, String name) {
    String value = q.get(name);
    if (value == null || value.isEmpty()) throw new IllegalArgumentException("query parameter '" + name + "' is required");
    return value;
  }

  private static int intParam(Map<String, String> q, String name, int fallback) {
    String value = q.get(name);
    if (value == null || value.isEmpty()) return fallback;
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("query parameter '" + name + "' must be an integer, got '" + value + "'");
    }
  }

  private static String status(String s) {
    return "{\"status\":\"" + s + "\"}";
  }

  private static String error(String message) {
    String m = String.valueOf(message).replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", " ");
    return "{\"error\":\"" + m + "\"}";
  }
}
