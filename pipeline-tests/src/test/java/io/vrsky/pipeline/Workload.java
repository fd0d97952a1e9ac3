package io.vrsky.pipeline;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A seeded random mix of inserts, updates (of values and of keys) and deletes on a small, overlapping
 * key space over three tables: one with a single-column key, one with a composite key, one with
 * {@code REPLICA IDENTITY FULL}. The same seed gives the same statements.
 */
final class Workload {

    static final String[] SCHEMA = {
        "CREATE TABLE items (id int PRIMARY KEY, qty int NOT NULL, note text, price numeric(10,2), seen timestamptz)",
        "CREATE TABLE pairs (a int, b int, val text, flag bool, PRIMARY KEY (a, b))",
        "CREATE TABLE wide (id int PRIMARY KEY, payload text, tags text[], doc jsonb)",
        "ALTER TABLE wide REPLICA IDENTITY FULL",
    };

    private static final int KEYS = 120;

    private final Random random;
    private final AtomicLong committed = new AtomicLong();

    Workload(long seed) {
        this.random = new Random(seed);
    }

    long committed() {
        return committed.get();
    }

    /** Runs {@code transactions} random transactions of 1 to {@code maxOps} statements each. */
    void run(Connection c, int transactions, int maxOps) throws SQLException {
        for (int i = 0; i < transactions; i++) {
            Pipeline.inTransaction(c, nextTransaction(maxOps));
            committed.incrementAndGet();
        }
    }

    /** The next transaction's statements. */
    synchronized List<String> nextTransaction(int maxOps) {
        int ops = 1 + random.nextInt(maxOps);
        String[] statements = new String[ops];
        for (int i = 0; i < ops; i++) {
            statements[i] = nextStatement();
        }
        return List.of(statements);
    }

    private String nextStatement() {
        int k = random.nextInt(KEYS);
        int k2 = random.nextInt(KEYS);
        int r = random.nextInt(100);
        int table = random.nextInt(3);
        String text = "'v" + random.nextInt(1_000_000) + (random.nextInt(10) == 0 ? " with ''quote'' and ✓" : "") + "'";
        return switch (table) {
            case 0 -> r < 40
                    ? "INSERT INTO items VALUES (" + k + ", " + random.nextInt(1000) + ", " + text + ", " + random.nextInt(100_000) / 100.0
                        + ", clock_timestamp()) ON CONFLICT (id) DO UPDATE SET qty = items.qty + 1, note = EXCLUDED.note"
                    : r < 70 ? "UPDATE items SET qty = (qty * 2 + 1) % 1000003, seen = clock_timestamp() WHERE id BETWEEN " + k + " AND " + (k + 3)
                    : r < 80 ? "UPDATE items SET id = " + (KEYS + k2) + " WHERE id = " + k + " AND NOT EXISTS (SELECT 1 FROM items WHERE id = "
                        + (KEYS + k2) + ")"
                    : r < 85 ? "UPDATE items SET id = id - " + KEYS + " WHERE id >= " + KEYS + " AND id - " + KEYS + " NOT IN (SELECT id FROM items)"
                    : "DELETE FROM items WHERE id = " + k + " OR id = " + (KEYS + k2);
            case 1 -> r < 45
                    ? "INSERT INTO pairs VALUES (" + (k % 12) + ", " + (k2 % 12) + ", " + text + ", " + random.nextBoolean()
                        + ") ON CONFLICT (a, b) DO UPDATE SET val = EXCLUDED.val, flag = NOT pairs.flag"
                    : r < 75 ? "UPDATE pairs SET val = val || 'x', flag = " + (r % 2 == 0) + " WHERE a = " + (k % 12)
                    : "DELETE FROM pairs WHERE b = " + (k2 % 12) + " AND a <= " + (k % 12);
            default -> r < 45
                    ? "INSERT INTO wide VALUES (" + k + ", repeat(" + text + ", " + (1 + random.nextInt(20)) + "), ARRAY[" + text + ", 'b'],"
                        + " jsonb_build_object('k', " + k + ", 'r', " + random.nextInt(9) + ")) ON CONFLICT (id) DO NOTHING"
                    : r < 75 ? "UPDATE wide SET doc = doc || jsonb_build_object('u', " + random.nextInt(99) + "), tags = array_append(tags, " + text + ")"
                        + " WHERE id % 7 = " + (k % 7)
                    : "DELETE FROM wide WHERE id = " + k;
        };
    }

    /**
     * Writes transactions on a background thread until {@link Background#stop()}, reconnecting and
     * carrying on when the source goes away (a transaction whose commit was lost simply is not counted).
     */
    Background inBackground(Pipeline p, int maxOps) {
        AtomicBoolean running = new AtomicBoolean(true);
        ExecutorService executor = Executors.newSingleThreadExecutor(r -> new Thread(r, "workload"));
        Future<?> done = executor.submit(() -> {
            while (running.get()) {
                List<String> tx = nextTransaction(maxOps);
                try {
                    Pipeline.inTransaction(p.source(), tx);
                    committed.incrementAndGet();
                } catch (SQLException e) {
                    // the server is restarting: carry on with the next transaction once it answers again
                    awaitSource(p, running);
                }
            }
            return null;
        });
        return new Background(running, executor, done);
    }

    private static void awaitSource(Pipeline p, AtomicBoolean running) {
        org.awaitility.Awaitility.await("source reachable again").atMost(java.time.Duration.ofSeconds(120))
                .pollInterval(java.time.Duration.ofMillis(100)).ignoreExceptions()
                .until(() -> !running.get() || p.source().isValid(1));
    }

    record Background(AtomicBoolean running, ExecutorService executor, Future<?> done) implements AutoCloseable {
        void stop() throws Exception {
            running.set(false);
            done.get();
            executor.shutdown();
        }

        @Override
        public void close() throws Exception {
            if (running.get()) {
                stop();
            }
        }
    }

    static void statement(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }
}
