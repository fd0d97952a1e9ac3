package io.vrsky.consumer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vrsky.core.model.Lsn;
import io.vrsky.testing.DeployFiles;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The consumer jar as operators run it, with LOG_FORMAT=json, HEALTH_BIND and a fast heartbeat:
 * its /metrics carries the slot, lag and JVM meters with the slot label (and every name the deploy
 * files use), its log lines are JSON with the expected fields, the health endpoint answers HEAD,
 * 404 and 405, and on an idle source the heartbeat advances the slot's confirmed_flush_lsn.
 */
@ExtendWith(RealServices.class)
class MonitoringIT {

    private static final Duration WAIT = Duration.ofSeconds(90);
    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<String> send(int port, String method, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    @Timeout(180)
    void shouldExportMetricsJsonLogsHealthAndAdvanceAnIdleSlotWithHeartbeats(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("monitor");
        String db = pg.createDatabase(name);
        ItSupport.sql(pg, db, "CREATE TABLE t (id int8 PRIMARY KEY)");
        Map<String, String> env = new java.util.HashMap<>(ItSupport.env(pg, nats, db, name));
        int port = freePort();
        env.put("HEALTH_PORT", Integer.toString(port));
        env.put("HEALTH_BIND", "127.0.0.1");
        env.put("LOG_FORMAT", "json");
        env.put("POSTGRES_INPUT_HEARTBEAT_INTERVAL", "200ms");
        env.put("POSTGRES_INPUT_TABLES", "public.t");
        String slot = env.get("POSTGRES_INPUT_REPLICATION_SLOT");
        Path log = ItSupport.logFile(name);
        Process p = ItSupport.startJar(env, "256m", log);
        try {
            await("ready").atMost(WAIT).ignoreExceptions().until(() -> send(port, "GET", "/health/ready").statusCode() == 200);
            ItSupport.insertOnePerTransaction(pg, db, "t", 1, 5);

            // metrics, with the slot label, existing from the start
            await("slot polled and change published").atMost(WAIT).ignoreExceptions().until(() -> {
                String m = send(port, "GET", "/metrics").body();
                return m.contains("vrsky_consumer_slot_up{slot=\"" + slot + "\"} 1.0")
                        && m.contains("vrsky_consumer_changes_published_total{op=\"INSERT\",slot=\"" + slot + "\",table=\"public.t\"} 5.0");
            });
            String metrics = send(port, "GET", "/metrics").body();
            assertThat(metrics).contains("vrsky_ready{slot=\"" + slot + "\"} 1.0",
                    "vrsky_consumer_slot_active{slot=\"" + slot + "\"} 1.0",
                    "vrsky_consumer_slot_wal_status{slot=\"" + slot + "\",status=\"reserved\"} 1.0",
                    "vrsky_consumer_changes_published_total{op=\"DELETE\",slot=\"" + slot + "\",table=\"public.t\"} 0.0",
                    "hikaricp_connections_active{pool=\"consumer-catalog\",slot=\"" + slot + "\"}",
                    "jvm_memory_used_bytes{", "jvm_gc_", "process_cpu_usage{slot=", "process_uptime_seconds{slot=");
            assertThat(metrics).containsPattern("vrsky_consumer_publish_lag_seconds_bucket\\{slot=\"" + slot + "\",le=\"60.0\"} [1-9]");
            assertThat(metrics).containsPattern("vrsky_consumer_slot_retained_wal_bytes\\{slot=\"" + slot + "\"} [0-9]");
            Set<String> registered = DeployFiles.sampleNames(metrics);
            Set<String> missing = new TreeSet<>();
            DeployFiles.metricNames().stream().filter(n -> !n.startsWith("vrsky_producer_") && !registered.contains(n)).forEach(missing::add);
            assertThat(missing).as("deploy files' metrics missing from a running consumer").isEmpty();

            // health: HEAD without a body, exact paths, other methods refused
            HttpResponse<String> head = send(port, "HEAD", "/health/ready");
            assertThat(head.statusCode()).isEqualTo(200);
            assertThat(head.body()).isEmpty();
            assertThat(send(port, "GET", "/health/readyX").statusCode()).isEqualTo(404);
            assertThat(send(port, "POST", "/metrics").statusCode()).isEqualTo(405);

            // heartbeat: the idle source's slot keeps advancing past the WAL position of now
            Lsn now = Lsn.parse(ItSupport.queryString(pg, db, "SELECT pg_current_wal_lsn()::text"));
            await("confirmed_flush_lsn passes the WAL position of an idle source").atMost(WAIT)
                    .until(() -> ItSupport.confirmedFlush(pg, db, slot).compareTo(now) > 0);
            assertThat(send(port, "GET", "/metrics").body()).containsPattern(
                    "vrsky_consumer_heartbeats_total\\{slot=\"" + slot + "\"} [1-9]");
        } finally {
            p.destroy();
            p.waitFor();
        }
        // JSON log lines: every line one object with the fields operators filter on
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> lines = new ArrayList<>();
        for (String line : Files.readAllLines(log)) {
            assertThat(line).as("a log line that is not JSON").startsWith("{");
            lines.add(json.readTree(line));
        }
        assertThat(lines).isNotEmpty();
        for (JsonNode line : lines) {
            assertThat(line.path("@timestamp").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
            assertThat(line.path("level").asText()).isIn("TRACE", "DEBUG", "INFO", "WARN", "ERROR");
            assertThat(line.path("logger").asText()).isNotEmpty();
            assertThat(line.has("message")).isTrue();
        }
        assertThat(lines).anySatisfy(l -> {
            assertThat(l.path("message").asText()).contains("streaming from slot");
            assertThat(l.path("slot").asText()).isEqualTo(slot);
        });
    }
}
