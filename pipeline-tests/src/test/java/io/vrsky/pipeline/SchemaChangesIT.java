package io.vrsky.pipeline;

import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Source DDL while streaming, with a writer running: both jars, the producer in its default
 * {@code additive} mode (or {@code none}); afterwards the sink holds every row of the source with
 * every column the source has now, old rows included. What the producer cannot follow by itself
 * pauses it, readiness names table and column, and it resumes once the sink is fixed by hand.
 */
@ExtendWith(RealServices.class)
@Timeout(300)
class SchemaChangesIT {

    private static final String ITEMS = "CREATE TABLE items (id int PRIMARY KEY, qty int NOT NULL, note text, name varchar(10),"
            + " n int)";
    private static final Duration SYNC = Duration.ofSeconds(90);

    @Test
    void shouldAddColumnsWithAndWithoutDefaultsFillingTheOldRows(PostgresServer pg, NatsServer nats, TestInfo info) throws Exception {
        try (Pipeline p = Pipeline.create(pg, nats, info, ITEMS).start(); Writer writer = new Writer(p, "items")) {
            writer.awaitMore(30);
            p.execSource("ALTER TABLE items ADD COLUMN vip bool NOT NULL DEFAULT false");
            p.execSource("ALTER TABLE items ADD COLUMN since timestamptz DEFAULT now()");
            p.execSource("ALTER TABLE items ADD COLUMN plain text");
            p.execSource("ALTER TABLE items ADD COLUMN tags int4[] DEFAULT '{1,2}'");
            writer.awaitMore(30);
            p.execSource("UPDATE items SET vip = true, plain = 'p' || id WHERE id % 3 = 0");
            writer.awaitMore(30);
            writer.stop();

            awaitSame(p, "items");
            assertThat(sinkType(p, "vip")).isEqualTo("boolean not null");
            assertThat(sinkType(p, "tags")).isEqualTo("integer[]");
            assertThat(Pipeline.count(p.sink(), "items WHERE since IS NULL")).isZero();
            assertThat(p.producer().metrics()).containsPattern("vrsky_producer_schema_changes_total\\{durable=\"[^\"]+\",kind=\"add_column\",table=\"public.items\"} 4.0");
        }
    }

    @Test
    void shouldWidenInt4ToInt8AndVarcharWhileWritesGoOn(PostgresServer pg, NatsServer nats, TestInfo info) throws Exception {
        try (Pipeline p = Pipeline.create(pg, nats, info, ITEMS).start(); Writer writer = new Writer(p, "items")) {
            writer.awaitMore(30);
            p.execSource("ALTER TABLE items ALTER COLUMN n TYPE int8, ALTER COLUMN name TYPE varchar(50)");
            p.execSource("UPDATE items SET n = 3000000000 + id, name = 'a name longer than ten: ' || id WHERE id % 2 = 0");
            writer.awaitMore(30);
            p.execSource("INSERT INTO items (id, qty, n, name) VALUES (-1, 1, 9223372036854775807, repeat('x', 50))");
            writer.stop();

            awaitSame(p, "items");
            assertThat(sinkType(p, "n")).isEqualTo("bigint");
            assertThat(sinkType(p, "name")).isEqualTo("character varying(50)");
            assertThat(Pipeline.count(p.sink(), "items WHERE n > 2147483647")).isPositive();
        }
    }

    @Test
    void shouldKeepADroppedNotNullColumnAndGoOnInserting(PostgresServer pg, NatsServer nats, TestInfo info) throws Exception {
        try (Pipeline p = Pipeline.create(pg, nats, info, "CREATE TABLE items (id int PRIMARY KEY, qty int, code text NOT NULL DEFAULT 'c')")) {
            // in the sink the column is NOT NULL without a default: a row without it would fail there
            p.execSink("ALTER TABLE items ALTER COLUMN code DROP DEFAULT");
            p.start();
            try (Writer writer = new Writer(p, "items")) {
                writer.awaitMore(30);
                p.execSource("ALTER TABLE items DROP COLUMN code");
                writer.awaitMore(30);
                writer.stop();

            }
            awaitSame(p, "items");
            assertThat(sinkType(p, "code")).isEqualTo("text");
            assertThat(Pipeline.count(p.sink(), "items WHERE code IS NULL")).isPositive();
            assertThat(Pipeline.count(p.sink(), "items WHERE code = 'c'")).isPositive();
        }
    }

    @Test
    void shouldFollowARenameAndDdlWithDmlInOneSourceTransaction(PostgresServer pg, NatsServer nats, TestInfo info) throws Exception {
        try (Pipeline p = Pipeline.create(pg, nats, info, ITEMS).start(); Writer writer = new Writer(p, "items")) {
            writer.awaitMore(30);
            p.execSource("UPDATE items SET note = 'note ' || id");
            p.execSource("ALTER TABLE items RENAME COLUMN note TO remark");
            writer.awaitMore(20);
            // the consumer looks the catalog up when it reads the change after a DDL: the next DDL waits until it did
            await("renamed in the sink").atMost(SYNC).until(() -> sinkType(p, "remark") != null);
            p.sourceTx("INSERT INTO items (id, qty, remark) VALUES (-1, 1, 'before')",
                    "ALTER TABLE items RENAME COLUMN remark TO comment",
                    "ALTER TABLE items ADD COLUMN colour text DEFAULT 'red'",
                    "INSERT INTO items (id, qty, comment, colour) VALUES (-2, 2, 'after', 'blue')",
                    "UPDATE items SET comment = comment || '!' WHERE id = -1");
            writer.awaitMore(20);
            writer.stop();

            awaitSame(p, "items");
            assertThat(sinkType(p, "note")).isNull();
            assertThat(sinkType(p, "remark")).isNull();
            assertThat(Pipeline.scalar(p.sink(), "SELECT comment || '/' || colour FROM items WHERE id = -1")).isEqualTo("before!/red");
            assertThat(p.producer().metrics()).contains("kind=\"rename_column\"");
        }
    }

    @Test
    void shouldPauseOnANarrowedColumnNameItAndResumeAfterTheSinkIsFixed(PostgresServer pg, NatsServer nats, TestInfo info)
            throws Exception {
        try (Pipeline p = Pipeline.create(pg, nats, info, "CREATE TABLE items (id int PRIMARY KEY, qty int, name varchar(50))").start();
             Writer writer = new Writer(p, "items")) {
            writer.awaitMore(20);
            p.execSource("ALTER TABLE items ALTER COLUMN name TYPE varchar(10)");
            writer.awaitMore(20);
            writer.stop();

            await("paused").atMost(Duration.ofSeconds(60)).until(() -> p.producer().readyStatus() == 503);
            assertThat(p.producer().readyBody()).contains("public.items", "\\\"name\\\"", "character varying(10)");
            assertThat(p.producer().metrics()).containsPattern("vrsky_producer_paused\\{durable=\"[^\"]+\"} 1.0");

            p.execSink("ALTER TABLE items ALTER COLUMN name TYPE varchar(10)");
            awaitSame(p, "items");
            await("resumed").atMost(Duration.ofSeconds(60)).until(() -> p.producer().readyStatus() == 200);
            assertThat(Pipeline.count(p.sink(), "items")).isEqualTo(Pipeline.count(p.source(), "items"));
        }
    }

    @Test
    void shouldPauseOnAnAddedColumnInNoneModeUntilItIsAddedByHand(PostgresServer pg, NatsServer nats, TestInfo info) throws Exception {
        try (Pipeline p = Pipeline.create(pg, nats, info, ITEMS).producerEnv("POSTGRES_OUTPUT_SCHEMA_EVOLUTION", "none").start();
             Writer writer = new Writer(p, "items")) {
            writer.awaitMore(20);
            p.execSource("ALTER TABLE items ADD COLUMN vip bool DEFAULT false");
            writer.awaitMore(20);
            writer.stop();

            await("paused").atMost(Duration.ofSeconds(60)).until(() -> p.producer().readyStatus() == 503);
            assertThat(p.producer().readyBody()).contains("public.items", "vip", "none");
            assertThat(sinkType(p, "vip")).isNull();

            p.execSink("ALTER TABLE items ADD COLUMN vip bool DEFAULT false");
            awaitSame(p, "items");
        }
    }

    @Test
    void shouldApplyTheDdlAndTheNextChangeOnceAfterAKill9InBetween(PostgresServer pg, NatsServer nats, TestInfo info) throws Exception {
        try (Pipeline p = Pipeline.create(pg, nats, info, ITEMS).start(); Writer writer = new Writer(p, "items")) {
            writer.awaitMore(30);
            p.execSource("ALTER TABLE items ADD COLUMN colour text DEFAULT 'red'");
            p.producer().kill();
            writer.awaitMore(30);
            p.producer().startAndAwaitReady();
            writer.awaitMore(20);
            p.producer().kill();
            p.execSource("ALTER TABLE items ALTER COLUMN n TYPE int8");
            p.execSource("UPDATE items SET n = 5000000000 WHERE id % 5 = 0");
            p.producer().startAndAwaitReady();
            writer.awaitMore(20);
            writer.stop();

            awaitSame(p, "items");
            assertThat(Pipeline.count(p.sink(), "items WHERE colour = 'red'")).isPositive();
            assertThat(sinkType(p, "n")).isEqualTo("bigint");
        }
    }

    // ---------------------------------------------------------------------------------------------

    /** {@code format_type} of a sink column of items, with " not null"; null when it does not exist. */
    private static String sinkType(Pipeline p, String column) throws SQLException {
        try (var s = p.sink().createStatement(); var rs = s.executeQuery("SELECT format_type(atttypid, atttypmod)"
                + " || CASE WHEN attnotnull THEN ' not null' ELSE '' END FROM pg_attribute WHERE attrelid = 'items'::regclass"
                + " AND attname = '" + column + "' AND NOT attisdropped")) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    /** count:md5 of the rows of {@code table} in the source's columns as they are now, ordered by id. */
    private static String fingerprint(Connection c, String table, String columns) throws SQLException {
        return Pipeline.scalar(c, "SELECT count(*) || ':' || md5(coalesce(string_agg(ROW(" + columns + ")::text, E'\\n' ORDER BY id), ''))"
                + " FROM " + table);
    }

    private static String sourceColumns(Pipeline p, String table) throws SQLException {
        return Pipeline.scalar(p.source(), "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute"
                + " WHERE attrelid = '" + table + "'::regclass AND attnum > 0 AND NOT attisdropped");
    }

    private static boolean same(Pipeline p, String table) {
        try {
            String columns = sourceColumns(p, table);
            return fingerprint(p.source(), table, columns).equals(fingerprint(p.sink(), table, columns));
        } catch (SQLException e) {
            return false; // the sink lacks a column yet
        }
    }

    /** Waits until the sink holds the source's rows in every column the source has now (a dropped source column is ignored). */
    private static void awaitSame(Pipeline p, String table) {
        try {
            await("sink equal to source in every column").atMost(SYNC).pollInterval(Duration.ofMillis(250)).until(() -> same(p, table));
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError(e.getMessage() + "\n--- producer ready: " + p.producer().readyBody() + "\n--- producer log\n"
                    + p.producer().logTail() + "\n--- consumer log\n" + p.consumer().logTail(), e);
        }
    }

    /**
     * Writes on its own source connection until stopped: each transaction inserts a row (id and qty
     * only, so it works whatever else the table has) and updates an earlier one.
     */
    static final class Writer implements AutoCloseable {
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final AtomicLong committed = new AtomicLong();
        private final ExecutorService executor = Executors.newSingleThreadExecutor(r -> new Thread(r, "schema-writer"));
        private final Future<?> done;

        Writer(Pipeline p, String table) throws SQLException {
            Connection c = p.pg.connect(p.sourceDb);
            Random random = new Random(7);
            done = executor.submit(() -> {
                try (c) {
                    int id = 1;
                    while (running.get()) {
                        Pipeline.inTransaction(c, java.util.List.of(
                                "INSERT INTO " + table + " (id, qty) VALUES (" + id + ", " + random.nextInt(100) + ")",
                                "UPDATE " + table + " SET qty = qty + 1 WHERE id = " + (1 + random.nextInt(id))));
                        id++;
                        committed.incrementAndGet();
                    }
                }
                return null;
            });
        }

        /** Waits until {@code n} more transactions committed. */
        void awaitMore(long n) {
            long target = committed.get() + n;
            await("writer").atMost(Duration.ofSeconds(60)).until(() -> committed.get() >= target || done.isDone());
            if (done.isDone()) {
                stop();
            }
        }

        void stop() {
            running.set(false);
            try {
                done.get();
            } catch (Exception e) {
                throw new AssertionError("the writer failed: " + e, e);
            } finally {
                executor.shutdown();
            }
        }

        @Override
        public void close() {
            if (running.get()) {
                stop();
            }
        }
    }
}
