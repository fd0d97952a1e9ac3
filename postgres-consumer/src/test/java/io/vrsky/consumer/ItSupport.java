package io.vrsky.consumer;

import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.api.MessageInfo;
import io.nats.client.impl.Headers;
import io.vrsky.core.codec.EnvelopeCodec;
import io.vrsky.core.model.Change;
import io.vrsky.core.model.Envelope;
import io.vrsky.testing.JavaCommand;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/** Helpers for the integration tests: unique names, env maps, reading the stream back, child processes. */
public final class ItSupport {

    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final EnvelopeCodec CODEC = new EnvelopeCodec();

    private ItSupport() {
    }

    /** A name no other test in any JVM of this run uses: lower case letters, digits, _. */
    public static String unique(String prefix) {
        return prefix + "_" + COUNTER.incrementAndGet() + "_" + ProcessHandle.current().pid();
    }

    /** Everything a consumer needs to watch {@code db}, with its own slot, publication, stream and subject. */
    public static Map<String, String> env(PostgresServer pg, NatsServer nats, String db, String name) {
        Map<String, String> env = new HashMap<>(pg.envFor("INPUT", db));
        env.put("POSTGRES_INPUT_REPLICATION_SLOT", "slot_" + name);
        env.put("POSTGRES_INPUT_PUBLICATION", "pub_" + name);
        env.put("POSTGRES_INPUT_BATCH_TIMEOUT", "200ms");
        env.put("NATS_URL", nats.url());
        env.put("NATS_STREAM", "IT_" + name.toUpperCase());
        env.put("NATS_SUBJECT", "it." + name + ".cdc");
        env.put("NATS_DLQ_SUBJECT", "vrsky.dlq." + name);
        env.put("HEALTH_PORT", "0");
        return env;
    }

    public static ConsumerService start(Map<String, String> env) throws Exception {
        return ConsumerService.start(ConsumerConfig.fromEnv(env));
    }

    public static void sql(PostgresServer pg, String db, String... statements) throws SQLException {
        try (java.sql.Connection c = pg.connect(db); Statement s = c.createStatement()) {
            for (String statement : statements) {
                s.execute(statement);
            }
        }
    }

    public static String queryString(PostgresServer pg, String db, String query) throws SQLException {
        try (java.sql.Connection c = pg.connect(db); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(query)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    /** One stored message: its subject, headers and body. */
    public record Stored(long seq, String subject, Headers headers, byte[] body) {
        public String header(String name) {
            return headers == null ? null : headers.getFirst(name);
        }

        /** The body decoded as an envelope. */
        public Envelope envelope() {
            return CODEC.decode(body);
        }
    }

    /** A body as a JSON tree, to look at fields the envelope model does not hold. */
    public static com.fasterxml.jackson.databind.JsonNode json(byte[] body) throws IOException {
        return new com.fasterxml.jackson.databind.ObjectMapper().readTree(body);
    }

    /** Reads a stream's messages back in order. */
    public static final class StreamReader implements AutoCloseable {
        private final Connection nc;
        private final JetStreamManagement jsm;
        private final String stream;
        private long next = 1;
        private final List<Stored> read = new ArrayList<>();

        public StreamReader(NatsServer nats, String stream) throws IOException, InterruptedException {
            this.nc = Nats.connect(nats.url());
            this.jsm = nc.jetStreamManagement();
            this.stream = stream;
        }

        public long count() throws IOException, JetStreamApiException {
            try {
                return jsm.getStreamInfo(stream).getStreamState().getLastSequence();
            } catch (JetStreamApiException e) {
                if (e.getApiErrorCode() == 10059) {
                    return 0;
                }
                throw e;
            }
        }

        /** Every message stored so far (read once, then cached). */
        public List<Stored> all() throws IOException, JetStreamApiException {
            long last = count();
            while (next <= last) {
                MessageInfo mi = jsm.getMessage(stream, next);
                read.add(new Stored(next, mi.getSubject(), mi.getHeaders(), mi.getData()));
                next++;
            }
            return read;
        }

        public List<Change> changes() throws IOException, JetStreamApiException {
            List<Change> changes = new ArrayList<>();
            for (Stored s : all()) {
                changes.addAll(s.envelope().changes());
            }
            return changes;
        }

        public Connection connection() {
            return nc;
        }

        @Override
        public void close() {
            try {
                nc.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Checks {@code Vrsky-Prev-Commit-Lsn} of every message (in stream order, one slot's messages):
     * it names the highest commit LSN stored earlier that is below the commit LSN of the message's
     * first transaction, and is absent when there is none. (Messages sent again after a restart
     * repeat transactions stored earlier; their header still names the transaction before them.)
     */
    public static void assertPrevChain(List<Stored> stored) {
        io.vrsky.core.model.Lsn[] seen = new io.vrsky.core.model.Lsn[stored.size()];
        for (int i = 0; i < stored.size(); i++) {
            Stored m = stored.get(i);
            io.vrsky.core.model.Lsn first = m.envelope().changes().get(0).commitLsn();
            io.vrsky.core.model.Lsn expected = null;
            for (int j = 0; j < i; j++) {
                if (seen[j].compareTo(first) < 0 && (expected == null || seen[j].compareTo(expected) > 0)) {
                    expected = seen[j];
                }
            }
            org.assertj.core.api.Assertions.assertThat(m.header("Vrsky-Prev-Commit-Lsn"))
                    .as("Vrsky-Prev-Commit-Lsn of message %d (%s)", m.seq(), m.header("Nats-Msg-Id"))
                    .isEqualTo(expected == null ? null : expected.toString());
            seen[i] = io.vrsky.core.model.Lsn.parse(m.header("Vrsky-Commit-Lsn"));
        }
    }

    /** The ids (column {@code id}) of the INSERTs in a stream's changes, in stream order. */
    public static List<Long> insertedIds(List<Change> changes) {
        List<Long> ids = new ArrayList<>();
        for (Change c : changes) {
            if (c.op() == io.vrsky.core.model.Operation.INSERT) {
                ids.add(c.after().get("id").longValue());
            }
        }
        return ids;
    }

    /** Whether the slot is held by a walsender right now. */
    public static boolean slotActive(PostgresServer pg, String db, String slot) throws SQLException {
        return "true".equals(queryString(pg, db, "SELECT active::text FROM pg_replication_slots WHERE slot_name = '" + slot + "'"));
    }

    public static io.vrsky.core.model.Lsn confirmedFlush(PostgresServer pg, String db, String slot) throws SQLException {
        String lsn = queryString(pg, db, "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = '" + slot + "'");
        return lsn == null ? io.vrsky.core.model.Lsn.ZERO : io.vrsky.core.model.Lsn.parse(lsn);
    }

    /** Inserts ids {@code from..to} into {@code table}, one transaction per row, in one server round trip. */
    public static void insertOnePerTransaction(PostgresServer pg, String db, String table, int from, int to) throws SQLException {
        sql(pg, db, "DO $$ BEGIN FOR i IN " + from + ".." + to + " LOOP INSERT INTO " + table + " (id) VALUES (i); COMMIT; END LOOP; END $$");
    }

    /** Calls something that throws checked exceptions, for use in lambdas and returns. */
    public static <T> T unchecked(java.util.concurrent.Callable<T> call) {
        try {
            return call.call();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The value of the first /metrics line starting with {@code prefix} (name and labels), or 0 when there is none. */
    public static double metric(ConsumerService svc, String prefix) throws IOException, InterruptedException {
        for (String line : http(svc.healthPort(), "/metrics").body().split("\n")) {
            if (line.startsWith(prefix)) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return 0;
    }

    public static HttpResponse<String> http(int port, String path) throws IOException, InterruptedException {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Starts the shaded jar as a child process with {@code env}; output goes to {@code log}. */
    public static Process startJar(Map<String, String> env, String maxHeap, Path log) throws IOException {
        return startJar(Path.of("target", "postgres-consumer.jar"), env, List.of("-Xmx" + maxHeap, "-XX:+ExitOnOutOfMemoryError"), log);
    }

    /** Starts a consumer jar as a child process with {@code env} and JVM options {@code jvmArgs}; output goes to {@code log}. */
    public static Process startJar(Path jarPath, Map<String, String> env, List<String> jvmArgs, Path log) throws IOException {
        Path jar = jarPath.toAbsolutePath();
        if (!Files.exists(jar)) {
            throw new IllegalStateException(jar + " is missing: run the package phase first (mvn verify does)");
        }
        ProcessBuilder pb = new ProcessBuilder(JavaCommand.forJar(jar, jvmArgs));
        pb.environment().putAll(env);
        pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        return pb.start();
    }

    public static Path logFile(String name) throws IOException {
        Path dir = Path.of("target", "it-logs");
        Files.createDirectories(dir);
        return dir.resolve(name + ".log");
    }
}
