package io.vrsky.pipeline;

import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/** Source transactions arrive whole: multi-row, multi-table, and larger than any batch or chunk. */
@ExtendWith(RealServices.class)
class TransactionIT {

    private static final String ACCOUNTS = "CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL, balance numeric NOT NULL)";
    private static final String LEDGER = "CREATE TABLE ledger (id bigint PRIMARY KEY, account int NOT NULL, delta numeric NOT NULL,"
            + " note text)";

    @Test
    @Timeout(120)
    void shouldApplyAMultiRowTransactionWithMixedOperations(PostgresServer pg, NatsServer nats, TestInfo info) throws Exception {
        try (Pipeline p = Pipeline.create(pg, nats, info, ACCOUNTS).start()) {
            p.execSource("INSERT INTO accounts SELECT g, 'o' || g, 100 FROM generate_series(1, 10) g");
            p.sourceTx(
                    "INSERT INTO accounts SELECT g, 'o' || g, 0 FROM generate_series(11, 60) g",
                    "UPDATE accounts SET balance = balance - 10 WHERE id <= 5",
                    "UPDATE accounts SET balance = balance + 1 WHERE id <= 5",
                    "DELETE FROM accounts WHERE id BETWEEN 6 AND 8",
                    "INSERT INTO accounts VALUES (7, 'again', 7)",
                    "UPDATE accounts SET owner = 'renamed' WHERE id = 7");
            p.awaitInSync();
            assertThat(Pipeline.count(p.sink(), "accounts")).isEqualTo(58);
            assertThat(Pipeline.scalar(p.sink(), "SELECT owner || balance FROM accounts WHERE id = 7")).isEqualTo("renamed7");
        }
    }

    @Test
    @Timeout(120)
    void shouldMakeAMultiTableTransactionVisibleAllAtOnce(PostgresServer pg, NatsServer nats, TestInfo info) throws Exception {
        try (Pipeline p = Pipeline.create(pg, nats, info, ACCOUNTS, LEDGER).start()) {
            p.execSource("INSERT INTO accounts SELECT g, 'o' || g, 1000 FROM generate_series(1, 100) g");
            p.awaitInSync();
            // 50 transfers, each moving money between two accounts and writing two ledger rows: in the
            // sink, the sum of balances must stay 100,000 and ledger rows must come in pairs whenever we look.
            Set<String> violations = new ConcurrentSkipListSet<>();
            AtomicBoolean writing = new AtomicBoolean(true);
            ExecutorService sampler = Executors.newSingleThreadExecutor();
            Future<?> sampling = sampler.submit(() -> sampleInvariant(p, writing, violations));
            try {
                for (int i = 0; i < 50; i++) {
                    int from = 1 + (i * 7) % 100;
                    int to = 1 + (i * 13 + 5) % 100;
                    p.sourceTx(
                            "UPDATE accounts SET balance = balance - " + (i + 1) + " WHERE id = " + from,
                            "INSERT INTO ledger VALUES (" + (2 * i) + ", " + from + ", " + -(i + 1) + ", 'transfer " + i + "')",
                            "UPDATE accounts SET balance = balance + " + (i + 1) + " WHERE id = " + to,
                            "INSERT INTO ledger VALUES (" + (2 * i + 1) + ", " + to + ", " + (i + 1) + ", 'transfer " + i + "')");
                }
                p.awaitInSync();
            } finally {
                writing.set(false);
                sampling.get();
                sampler.shutdown();
            }
            assertThat(violations).as("states of the sink that no source transaction produced").isEmpty();
            assertThat(Pipeline.count(p.sink(), "ledger")).isEqualTo(100);
        }
    }

    private static Void sampleInvariant(Pipeline p, AtomicBoolean writing, Set<String> violations) throws Exception {
        try (Connection c = p.pg.connect(p.sinkDb)) {
            c.setAutoCommit(false);
            c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            while (writing.get()) {
                try (Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT (SELECT sum(balance) FROM accounts), (SELECT count(*) FROM ledger),"
                             + " (SELECT coalesce(sum(delta), 0) FROM ledger)")) {
                    rs.next();
                    if (rs.getLong(1) != 100_000 || rs.getLong(2) % 2 != 0 || rs.getLong(3) != 0) {
                        violations.add("balance sum " + rs.getLong(1) + ", ledger rows " + rs.getLong(2) + ", ledger sum " + rs.getLong(3));
                    }
                }
                c.commit();
            }
        }
        return null;
    }

    @Test
    @Timeout(180)
    void shouldApplyA20000RowTransactionAtomically(PostgresServer pg, NatsServer nats, TestInfo info) throws Exception {
        int rows = 20_000;
        try (Pipeline p = Pipeline.create(pg, nats, info, LEDGER).start()) {
            Set<Long> seen = new ConcurrentSkipListSet<>();
            AtomicBoolean watching = new AtomicBoolean(true);
            ExecutorService sampler = Executors.newSingleThreadExecutor();
            Future<?> sampling = sampler.submit(() -> {
                try (Connection c = p.pg.connect(p.sinkDb)) {
                    while (watching.get()) {
                        seen.add(Pipeline.count(c, "ledger"));
                    }
                }
                return null;
            });
            try {
                p.execSource("INSERT INTO ledger SELECT g, g % 97, g * 0.01, repeat('x', 150) || g FROM generate_series(1, " + rows + ") g");
                p.awaitInSync(Duration.ofSeconds(120));
                p.execSource("UPDATE ledger SET note = 'touched' WHERE id % 3 = 0");
                p.execSource("DELETE FROM ledger WHERE id % 5 = 0");
                p.awaitInSync(Duration.ofSeconds(120));
            } finally {
                watching.set(false);
                sampling.get();
                sampler.shutdown();
            }
            assertThat(seen).as("row counts the sink showed while the big transaction arrived")
                    .allMatch(n -> n == 0 || n == rows || n == rows - rows / 5);
            assertThat(Pipeline.count(p.sink(), "ledger")).isEqualTo(rows - rows / 5);
        }
    }
}
