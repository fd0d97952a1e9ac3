package io.vrsky.core.health;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code GET /health/live}, {@code GET /health/ready} (200, or 503 with a JSON reason per failing
 * check) and {@code GET /metrics} (Prometheus text) on the JDK's HTTP server. Paths match exactly
 * (anything else is 404); {@code HEAD} answers the same status and headers without a body; other
 * methods get 405. Registers the gauge {@code vrsky_ready} (1 while every readiness check passes).
 */
public final class HealthServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(HealthServer.class);

    private final HttpServer server;
    private final ExecutorService executor;
    private final List<ReadinessCheck> checks;
    private final PrometheusMeterRegistry registry;
    private final ObjectMapper json = new ObjectMapper();
    private final AtomicBoolean closed = new AtomicBoolean();

    private HealthServer(HttpServer server, ExecutorService executor, List<ReadinessCheck> checks, PrometheusMeterRegistry registry) {
        this.server = server;
        this.executor = executor;
        this.checks = List.copyOf(checks);
        this.registry = registry;
    }

    /** All interfaces, the default of {@code HEALTH_BIND}. */
    public static final String ALL_INTERFACES = "0.0.0.0";

    /** Binds {@code port} on all interfaces (0 picks a free port) and starts serving. */
    public static HealthServer start(int port, List<ReadinessCheck> checks, PrometheusMeterRegistry registry) throws IOException {
        return start(ALL_INTERFACES, port, checks, registry);
    }

    /** Binds {@code port} on the address {@code bind} (0 picks a free port) and starts serving. */
    public static HealthServer start(String bind, int port, List<ReadinessCheck> checks, PrometheusMeterRegistry registry)
            throws IOException {
        InetSocketAddress address = new InetSocketAddress(bind, port);
        if (address.isUnresolved()) {
            throw new IOException(bind + " does not resolve to an address");
        }
        HttpServer server = HttpServer.create(address, 16);
        ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "health-http");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        HealthServer health = new HealthServer(server, executor, checks, registry);
        server.createContext("/health/live", health::live);
        server.createContext("/health/ready", health::ready);
        server.createContext("/metrics", health::metrics);
        Gauge.builder("vrsky.ready", health, HealthServer::readyValue).strongReference(true)
                .description("1 while every readiness check passes (what /health/ready answers 200 to), else 0").register(registry);
        server.start();
        LOG.info("health and metrics listening on {} port {}", bind, server.getAddress().getPort());
        return health;
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** The address and port listened on. */
    public InetSocketAddress address() {
        return server.getAddress();
    }

    private double readyValue() {
        for (ReadinessCheck check : checks) {
            try {
                if (check.problem().isPresent()) {
                    return 0;
                }
            } catch (RuntimeException e) {
                return 0;
            }
        }
        return 1;
    }

    private void live(HttpExchange exchange) throws IOException {
        if (refused(exchange, "/health/live")) {
            return;
        }
        respond(exchange, 200, "application/json", "{\"status\":\"UP\"}");
    }

    private void ready(HttpExchange exchange) throws IOException {
        if (refused(exchange, "/health/ready")) {
            return;
        }
        ObjectNode body = json.createObjectNode();
        ObjectNode details = body.putObject("checks");
        boolean ready = true;
        for (ReadinessCheck check : checks) {
            Optional<String> problem;
            try {
                problem = check.problem();
            } catch (RuntimeException e) {
                problem = Optional.of("check failed: " + e);
            }
            if (problem.isPresent()) {
                ready = false;
                details.put(check.name(), problem.get());
            } else {
                details.put(check.name(), "UP");
            }
        }
        body.put("status", ready ? "UP" : "DOWN");
        for (ReadinessCheck check : checks) {
            try {
                check.details().forEach((key, value) -> body.set(key, json.valueToTree(value)));
            } catch (RuntimeException e) {
                LOG.debug("readiness details of {} failed: {}", check.name(), e.toString());
            }
        }
        respond(exchange, ready ? 200 : 503, "application/json", json.writeValueAsString(body));
    }

    private void metrics(HttpExchange exchange) throws IOException {
        if (refused(exchange, "/metrics")) {
            return;
        }
        respond(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", registry.scrape());
    }

    /**
     * Answers 404 to a path that only starts with the context's path ({@code /health/readyX}) and
     * 405 to a method other than GET and HEAD.
     *
     * @return true when it answered
     */
    private static boolean refused(HttpExchange exchange, String path) throws IOException {
        if (!path.equals(exchange.getRequestURI().getPath())) {
            try (exchange) {
                exchange.sendResponseHeaders(404, -1);
            }
            return true;
        }
        String method = exchange.getRequestMethod();
        if (!"GET".equals(method) && !"HEAD".equals(method)) {
            try (exchange) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                exchange.sendResponseHeaders(405, -1);
            }
            return true;
        }
        return false;
    }

    private static void respond(HttpExchange exchange, int status, String contentType, String body) throws IOException {
        try (exchange) {
            exchange.getResponseHeaders().set("Content-Type", contentType);
            if ("HEAD".equals(exchange.getRequestMethod())) {
                exchange.sendResponseHeaders(status, -1);
                return;
            }
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(status, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            server.stop(0);
            executor.shutdown();
            try {
                if (!executor.awaitTermination(2, TimeUnit.SECONDS)) {
                    LOG.warn("health server threads did not stop in 2 s");
                    executor.shutdownNow();
                }
            } catch (InterruptedException e) {
                executor.shutdownNow();
                Thread.currentThread().interrupt();
            }
        }
    }
}
