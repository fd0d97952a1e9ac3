package io.vrsky.producer;

import io.vrsky.core.model.Change;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

import java.io.StringReader;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.Properties;

import static io.vrsky.producer.Envelopes.insert;
import static io.vrsky.producer.Envelopes.lsn;
import static io.vrsky.producer.Envelopes.message;
import static io.vrsky.producer.Envelopes.row;
import static org.awaitility.Awaitility.await;

/**
 * Not part of the build: measures the sink statement forms against each other and the producer
 * end to end, on the local PostgreSQL and NATS. Run with
 * {@code mvn -pl postgres-producer verify -Dit.test=SinkThroughputBenchmark -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false}
 * and read the numbers in target/failsafe-reports.
 */
@ExtendWith(RealServices.class)
@Timeout(900)
class SinkThroughputBenchmark {

    private static final int ROWS = 200_000;
    private static final String FILLER = "x".repeat(140);

    private static String text(int i) {
        return FILLER + i;
    }

    private static final String TS = "2026-02-17T10:00:00.123456Z";

    @Test
    void compareStatementForms(PostgresServer pg) throws Exception {
        String db = pg.createDatabase("bench");
        for (int batch : new int[] {1_000, 10_000}) {
            try (Connection c = connect(pg, db, false)) {
                reset(c);
                report("unnest INSERT ON CONFLICT", batch, run(c, batch, this::unnest));
                reset(c);
                report("COPY to staging + INSERT SELECT ON CONFLICT", batch, run(c, batch, this::copyStaging));
                reset(c);
                if (batch <= 1_000) {
                    report("multi-row VALUES ON CONFLICT", batch, run(c, batch, this::values));
                    reset(c);
                }
                report("plain COPY (no conflict handling)", batch, run(c, batch, this::plainCopy));
            }
            try (Connection c = connect(pg, db, true)) {
                reset(c);
                report("JDBC batch reWriteBatchedInserts ON CONFLICT", batch, run(c, batch, this::jdbcBatch));
            }
        }
        try (Connection c = connect(pg, db, false)) {
            reset(c);
            report("per-row INSERT ON CONFLICT", 1_000, run(c, 1_000, this::perRow, 20_000));
        }
    }

    @Test
    void unnestStatementSize(PostgresServer pg) throws Exception {
        String db = pg.createDatabase("benchsize");
        try (Connection c = connect(pg, db, false)) {
            for (int round = 0; round < 2; round++) {
                for (int batch : new int[] {250, 500, 1_000, 2_000, 5_000, 10_000}) {
                    reset(c);
                    report("unnest INSERT ON CONFLICT (round " + round + ")", batch, run(c, batch, this::unnest));
                }
            }
        }
    }

    @Test
    void producerEndToEnd(PostgresServer pg, NatsServer nats) throws Exception {
        endToEnd(pg, nats, 100, 100, 20_000, false);
        for (int[] shape : new int[][] {{100, 100}, {1000, 100}, {100, 1000}, {1000, 1}}) {
            double best = 0;
            for (int attempt = 0; attempt < 3; attempt++) {
                best = Math.max(best, endToEnd(pg, nats, shape[0], shape[1], shape[1] == 1 ? 50_000 : ROWS, false));
            }
            System.out.printf("RESULT producer end-to-end, batch %4d messages x %4d rows: best of 3 %.0f rows/s%n", shape[0],
                    shape[1], best);
        }
    }

    private double endToEnd(PostgresServer pg, NatsServer nats, int batch, int perMessage, int rows, boolean print)
            throws Exception {
        int messages = Math.max(1, rows / perMessage);
        try (ProducerHarness h = new ProducerHarness(pg, nats, "e2e")) {
            h.sql("CREATE TABLE bench (id bigint PRIMARY KEY, a text, b int, c timestamptz, d numeric)");
            h.env("POSTGRES_OUTPUT_TABLES", "bench").env("POSTGRES_OUTPUT_BATCH_SIZE", Integer.toString(batch));
            int id = 0;
            for (int m = 0; m < messages; m++) {
                Change[] changes = new Change[perMessage];
                for (int i = 0; i < perMessage; i++) {
                    changes[i] = insert("bench", lsn(1 + m), row("id", id, "a", text(id), "b", id, "c", TS, "d", "1234.5678"));
                    id++;
                }
                h.publish(message("src", changes));
            }
            Instant start = Instant.now();
            h.start();
            await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(10)).until(h::allAcked);
            Duration took = Duration.between(start, Instant.now());
            return id * 1000.0 / took.toMillis();
        }
    }

    @FunctionalInterface
    interface Form {
        void write(Connection c, int from, int count) throws Exception;
    }

    private static Connection connect(PostgresServer pg, String db, boolean rewrite) throws Exception {
        Properties p = new Properties();
        p.setProperty("user", pg.user());
        p.setProperty("password", pg.password());
        p.setProperty("reWriteBatchedInserts", Boolean.toString(rewrite));
        Connection c = DriverManager.getConnection(pg.jdbcUrl(db), p);
        c.setAutoCommit(false);
        return c;
    }

    private static void reset(Connection c) throws Exception {
        try (Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS bench");
            s.execute("CREATE TABLE bench (id bigint PRIMARY KEY, a text, b int, c timestamptz, d numeric)");
            s.execute("CHECKPOINT");
        }
        c.commit();
    }

    private static long run(Connection c, int batch, Form form) throws Exception {
        return run(c, batch, form, ROWS);
    }

    private static long run(Connection c, int batch, Form form, int rows) throws Exception {
        long start = System.nanoTime();
        for (int from = 0; from < rows; from += batch) {
            form.write(c, from, Math.min(batch, rows - from));
            c.commit();
        }
        return (System.nanoTime() - start) / 1_000_000 * ROWS / rows;
    }

    private static void report(String form, int batch, long millis) {
        System.out.printf("RESULT %-45s batch %5d: %7.0f rows/s%n", form, batch, ROWS * 1000.0 / millis);
    }

    private void unnest(Connection c, int from, int count) throws Exception {
        String[] id = new String[count];
        String[] a = new String[count];
        String[] b = new String[count];
        String[] ts = new String[count];
        String[] d = new String[count];
        for (int i = 0; i < count; i++) {
            id[i] = Integer.toString(from + i);
            a[i] = text(from + i);
            b[i] = id[i];
            ts[i] = TS;
            d[i] = "1234.5678";
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO bench (id, a, b, c, d) SELECT v.c1::pg_catalog.int8, "
                + "v.c2::pg_catalog.text, v.c3::pg_catalog.int4, v.c4::pg_catalog.timestamptz, v.c5::pg_catalog.\"numeric\" "
                + "FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[]) AS v(c1, c2, c3, c4, c5) "
                + "ON CONFLICT (id) DO UPDATE SET a = EXCLUDED.a, b = EXCLUDED.b, c = EXCLUDED.c, d = EXCLUDED.d")) {
            ps.setArray(1, c.createArrayOf("text", id));
            ps.setArray(2, c.createArrayOf("text", a));
            ps.setArray(3, c.createArrayOf("text", b));
            ps.setArray(4, c.createArrayOf("text", ts));
            ps.setArray(5, c.createArrayOf("text", d));
            ps.executeUpdate();
        }
    }

    private String copyText(int from, int count) {
        StringBuilder sb = new StringBuilder(count * 220);
        for (int i = 0; i < count; i++) {
            int id = from + i;
            sb.append(id).append('\t').append(text(id)).append('\t').append(id).append('\t').append(TS).append('\t')
                    .append("1234.5678").append('\n');
        }
        return sb.toString();
    }

    private void copyStaging(Connection c, int from, int count) throws Exception {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TEMP TABLE IF NOT EXISTS bench_stage (LIKE bench) ON COMMIT DELETE ROWS");
        }
        CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
        copy.copyIn("COPY bench_stage (id, a, b, c, d) FROM STDIN", new StringReader(copyText(from, count)));
        try (Statement s = c.createStatement()) {
            s.execute("INSERT INTO bench SELECT * FROM bench_stage ON CONFLICT (id) DO UPDATE SET a = EXCLUDED.a, "
                    + "b = EXCLUDED.b, c = EXCLUDED.c, d = EXCLUDED.d");
        }
    }

    private void plainCopy(Connection c, int from, int count) throws Exception {
        c.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY bench (id, a, b, c, d) FROM STDIN",
                new StringReader(copyText(from, count)));
    }

    private void values(Connection c, int from, int count) throws Exception {
        StringBuilder sql = new StringBuilder("INSERT INTO bench (id, a, b, c, d) VALUES ");
        for (int i = 0; i < count; i++) {
            sql.append(i == 0 ? "" : ", ").append("(?::int8, ?, ?::int4, ?::timestamptz, ?::numeric)");
        }
        sql.append(" ON CONFLICT (id) DO UPDATE SET a = EXCLUDED.a, b = EXCLUDED.b, c = EXCLUDED.c, d = EXCLUDED.d");
        try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
            int p = 1;
            for (int i = 0; i < count; i++) {
                int id = from + i;
                ps.setString(p++, Integer.toString(id));
                ps.setString(p++, text(id));
                ps.setString(p++, Integer.toString(id));
                ps.setString(p++, TS);
                ps.setString(p++, "1234.5678");
            }
            ps.executeUpdate();
        }
    }

    private void jdbcBatch(Connection c, int from, int count) throws Exception {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO bench (id, a, b, c, d) VALUES (?::int8, ?, ?::int4, "
                + "?::timestamptz, ?::numeric) ON CONFLICT (id) DO UPDATE SET a = EXCLUDED.a, b = EXCLUDED.b, c = EXCLUDED.c, "
                + "d = EXCLUDED.d")) {
            for (int i = 0; i < count; i++) {
                int id = from + i;
                ps.setString(1, Integer.toString(id));
                ps.setString(2, text(id));
                ps.setString(3, Integer.toString(id));
                ps.setString(4, TS);
                ps.setString(5, "1234.5678");
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    private void perRow(Connection c, int from, int count) throws Exception {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO bench (id, a, b, c, d) VALUES (?::int8, ?, ?::int4, "
                + "?::timestamptz, ?::numeric) ON CONFLICT (id) DO UPDATE SET a = EXCLUDED.a")) {
            for (int i = 0; i < count; i++) {
                int id = from + i;
                ps.setString(1, Integer.toString(id));
                ps.setString(2, text(id));
                ps.setString(3, Integer.toString(id));
                ps.setString(4, TS);
                ps.setString(5, "1234.5678");
                ps.executeUpdate();
            }
        }
    }
}
