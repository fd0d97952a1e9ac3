package io.vrsky.pipeline;

import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import org.junit.jupiter.api.TestInfo;

import java.io.IOException;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.awaitility.Awaitility.await;

/**
 * One test's pipeline: a source database and a sink database (both on the shared test server), the
 * same tables created in both, and a consumer and a producer wired through NATS with names of their
 * own (slot, publication, stream, subject, durable, dead-letter subject), so that tests never see
 * each other's data even though they share PostgreSQL and nats-server.
 */
final class Pipeline implements AutoCloseable {

    private static final AtomicInteger COUNTER = new AtomicInteger();

    final PostgresServer pg;
    final NatsServer nats;
    final String id;
    final String sourceDb;
    final String sinkDb;
    final String slot;
    final String publication;
    final String stream;
    final String subject;
    final String durable;
    final String dlqSubject;
    final List<String> tables;
    final Path logDir;

    private final Map<String, String> consumerExtra = new HashMap<>();
    private final Map<String, String> producerExtra = new HashMap<>();
    private final Map<String, String> keys = new LinkedHashMap<>();
    private final Map<String, String> projections = new LinkedHashMap<>();
    private ServiceProcess consumer;
    private ServiceProcess producer;
    private java.sql.Connection source;
    private java.sql.Connection sink;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    private Pipeline(PostgresServer pg, NatsServer nats, TestInfo info, List<String> ddl) throws SQLException {
        this.pg = pg;
        this.nats = nats;
        String method = info.getTestMethod().map(m -> m.getName()).orElse("test");
        String clazz = info.getTestClass().map(Class::getSimpleName).orElse("IT");
        this.id = "p" + COUNTER.incrementAndGet() + "_" + ProcessHandle.current().pid();
        this.sourceDb = pg.createDatabase("src_" + id);
        this.sinkDb = pg.createDatabase("snk_" + id);
        this.slot = "slot_" + id;
        this.publication = "pub_" + id;
        this.stream = "IT_" + id.toUpperCase();
        this.subject = "it." + id + ".cdc";
        this.durable = "dur_" + id;
        this.dlqSubject = "vrsky.dlq." + id;
        this.logDir = Path.of(System.getProperty("vrsky.logs.dir", "target/pipeline-logs"), clazz + "." + method + "-" + id);
        try (Statement s = source().createStatement(); Statement t = sink().createStatement()) {
            for (String statement : ddl) {
                s.execute(statement);
                t.execute(statement);
            }
        }
        this.tables = new ArrayList<>();
        try (Statement s = source().createStatement();
             ResultSet rs = s.executeQuery("SELECT c.relname, (SELECT string_agg(quote_ident(a.attname), ',' ORDER BY k.n)"
                     + " FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)"
                     + " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum"
                     + " WHERE i.indrelid = c.oid AND i.indisprimary),"
                     // json travels as its text, so every column, json included, compares as itself
                     + " (SELECT string_agg(quote_ident(a.attname),"
                     + " ', ' ORDER BY a.attnum) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)"
                     + " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                     + " WHERE n.nspname = 'public' AND (c.relkind = 'p' OR (c.relkind = 'r' AND NOT c.relispartition))"
                     + " ORDER BY c.relname")) {
            while (rs.next()) {
                tables.add(rs.getString(1));
                keys.put(rs.getString(1), rs.getString(2) == null ? "row_text" : rs.getString(2));
                projections.put(rs.getString(1), "ROW(" + rs.getString(3) + ")::text");
            }
        }
    }

    /** Creates both databases and runs every DDL statement in each. */
    static Pipeline create(PostgresServer pg, NatsServer nats, TestInfo info, String... ddl) throws SQLException {
        return new Pipeline(pg, nats, info, List.of(ddl));
    }

    Pipeline consumerEnv(String name, String value) {
        consumerExtra.put(name, value);
        return this;
    }

    Pipeline producerEnv(String name, String value) {
        producerExtra.put(name, value);
        return this;
    }

    Map<String, String> consumerEnvironment() {
        Map<String, String> env = new HashMap<>(pg.envFor("INPUT", sourceDb));
        env.put("POSTGRES_INPUT_REPLICATION_SLOT", slot);
        env.put("POSTGRES_INPUT_PUBLICATION", publication);
        env.put("POSTGRES_INPUT_BATCH_TIMEOUT", "200ms");
        env.putAll(natsEnv());
        env.putAll(consumerExtra);
        return env;
    }

    Map<String, String> producerEnvironment() {
        Map<String, String> env = new HashMap<>(pg.envFor("OUTPUT", sinkDb));
        env.put("POSTGRES_OUTPUT_TABLES", String.join(",", tables.stream().map(t -> "public." + t).toList()));
        env.put("POSTGRES_OUTPUT_FLUSH_INTERVAL", "200ms");
        env.put("NATS_DURABLE", durable);
        env.putAll(natsEnv());
        env.putAll(producerExtra);
        return env;
    }

    private Map<String, String> natsEnv() {
        return Map.of("NATS_URL", nats.url(), "NATS_STREAM", stream, "NATS_SUBJECT", subject,
                "NATS_DLQ_SUBJECT", dlqSubject, "LOG_LEVEL", "INFO");
    }

    ServiceProcess consumer() {
        if (consumer == null) {
            consumer = ServiceProcess.consumer(consumerEnvironment(), logDir);
        }
        return consumer;
    }

    ServiceProcess producer() {
        if (producer == null) {
            producer = ServiceProcess.producer(producerEnvironment(), logDir);
        }
        return producer;
    }

    /** Starts the consumer (which creates the slot) and the producer, and waits until both are ready. */
    Pipeline start() {
        consumer().startAndAwaitReady();
        producer().startAndAwaitReady();
        return this;
    }

    /** An open autocommit connection to the source database, reopened after a server restart. */
    synchronized java.sql.Connection source() throws SQLException {
        source = reopen(source, sourceDb);
        return source;
    }

    synchronized java.sql.Connection sink() throws SQLException {
        sink = reopen(sink, sinkDb);
        return sink;
    }

    private java.sql.Connection reopen(java.sql.Connection c, String db) throws SQLException {
        if (c != null && c.isValid(2)) {
            return c;
        }
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // it is broken already
            }
        }
        return pg.connect(db);
    }

    /** Runs statements on the source in one transaction. */
    void sourceTx(String... statements) throws SQLException {
        inTransaction(source(), List.of(statements));
    }

    static void inTransaction(java.sql.Connection c, List<String> statements) throws SQLException {
        c.setAutoCommit(false);
        try (Statement s = c.createStatement()) {
            for (String statement : statements) {
                s.execute(statement);
            }
            c.commit();
        } catch (SQLException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    void execSource(String sql) throws SQLException {
        try (Statement s = source().createStatement()) {
            s.execute(sql);
        }
    }

    void execSink(String sql) throws SQLException {
        try (Statement s = sink().createStatement()) {
            s.execute(sql);
        }
    }

    static long count(java.sql.Connection c, String table) throws SQLException {
        return scalarLong(c, "SELECT count(*) FROM " + table);
    }

    static long scalarLong(java.sql.Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static String scalar(java.sql.Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** {@code count:md5} of every row's text form, ordered by the primary key. */
    String fingerprint(java.sql.Connection c, String table) throws SQLException {
        return scalar(c, "SELECT count(*) || ':' || md5(coalesce(string_agg(row_text, E'\\n' ORDER BY " + keys.get(table)
                + "), '')) FROM (SELECT *, " + projections.get(table) + " AS row_text FROM " + table + ") t");
    }

    /** Each row of {@code table} as text, ordered by the primary key. */
    List<String> rows(java.sql.Connection c, String table) throws SQLException {
        List<String> rows = new ArrayList<>();
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT row_text FROM (SELECT *, " + projections.get(table) + " AS row_text FROM "
                     + table + ") t ORDER BY " + keys.get(table))) {
            while (rs.next()) {
                rows.add(rs.getString(1));
            }
        }
        return rows;
    }

    /** Whether every table holds the same rows on both sides, with at least {@code minRows} in the first. */
    boolean inSync() {
        try {
            for (String table : tables) {
                if (!fingerprint(source(), table).equals(fingerprint(sink(), table))) {
                    return false;
                }
            }
            return true;
        } catch (SQLException e) {
            return false; // a server is restarting
        }
    }

    /** Waits until every table in the sink equals the source; fails with the differences and both logs. */
    void awaitInSync(Duration atMost) {
        try {
            await("sink equal to source (" + id + ")").atMost(atMost).pollInterval(Duration.ofMillis(200)).until(this::inSync);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError(e.getMessage() + "\n" + differences() + "\n--- consumer log\n" + consumer().logTail()
                    + "\n--- producer log\n" + producer().logTail(), e);
        }
    }

    void awaitInSync() {
        awaitInSync(Duration.ofSeconds(60));
    }

    /**
     * Waits until every table holds as many rows in the sink as in the source: after inserts only,
     * everything has arrived, and the caller can compare values and see the differences at once.
     */
    void awaitSameCounts() {
        await("sink row counts equal to source (" + id + ")").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                .ignoreExceptions().until(() -> {
                    for (String table : tables) {
                        if (count(source(), table) != count(sink(), table)) {
                            return false;
                        }
                    }
                    return true;
                });
    }

    /** A short description of how the tables differ, for failure messages. */
    String differences() {
        StringBuilder out = new StringBuilder();
        try {
            for (String table : tables) {
                List<String> a = rows(source(), table);
                List<String> b = rows(sink(), table);
                if (a.equals(b)) {
                    continue;
                }
                List<String> missing = new ArrayList<>(a);
                missing.removeAll(b);
                List<String> extra = new ArrayList<>(b);
                extra.removeAll(a);
                out.append(table).append(": source ").append(a.size()).append(" rows, sink ").append(b.size())
                        .append("; only in source ").append(missing.subList(0, Math.min(5, missing.size())))
                        .append("; only in sink ").append(extra.subList(0, Math.min(5, extra.size()))).append('\n');
            }
        } catch (SQLException e) {
            out.append("cannot compare: ").append(e.getMessage());
        }
        return out.toString();
    }

    /** A plain NATS connection for the test's own publishing and reading; closed with the pipeline. */
    Connection natsConnection() throws IOException, InterruptedException {
        Connection c = Nats.connect(new Options.Builder().server(nats.url()).connectionTimeout(Duration.ofSeconds(5)).build());
        closeables.add(c);
        return c;
    }

    @Override
    public void close() throws Exception {
        List<Throwable> problems = new ArrayList<>();
        for (ServiceProcess p : new ServiceProcess[] {producer, consumer}) {
            if (p != null) {
                try {
                    p.close();
                } catch (RuntimeException e) {
                    problems.add(e);
                }
            }
        }
        try (java.sql.Connection c = pg.connect(sourceDb); Statement s = c.createStatement()) {
            s.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '" + slot
                    + "' AND NOT active");
        } catch (SQLException e) {
            problems.add(e);
        }
        try (Connection c = Nats.connect(nats.url())) {
            c.jetStreamManagement().deleteStream(stream);
        } catch (IOException | JetStreamApiException | RuntimeException e) {
            // the stream may never have been created
        }
        for (AutoCloseable c : closeables) {
            c.close();
        }
        for (java.sql.Connection c : new java.sql.Connection[] {source, sink}) {
            if (c != null) {
                c.close();
            }
        }
        if (!problems.isEmpty()) {
            problems.forEach(p -> System.err.println("pipeline " + id + " cleanup: " + p));
        }
    }
}
