package io.vrsky.consumer;

import io.vrsky.consumer.ItSupport.StreamReader;
import io.vrsky.consumer.replication.ReplicationLoop;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.Map;

import static org.awaitility.Awaitility.await;

/**
 * Not part of the regular run: measures how fast a WAL backlog is published (DESIGN.md "Speed").
 * Run with {@code -Dit.test=ThroughputIT -Dvrsky.perf=true}; it prints rows per second.
 */
@ExtendWith(RealServices.class)
@EnabledIfSystemProperty(named = "vrsky.perf", matches = "true")
class ThroughputIT {

    @Test
    @Timeout(600)
    void backlogOfThousandRowTransactions(PostgresServer pg, NatsServer nats) throws Exception {
        measure(pg, nats, "perf_big", 300_000, 1000);
    }

    @Test
    @Timeout(600)
    void backlogOfSingleRowTransactions(PostgresServer pg, NatsServer nats) throws Exception {
        measure(pg, nats, "perf_small", 100_000, 1);
    }

    private static void measure(PostgresServer pg, NatsServer nats, String prefix, int rows, int perTx) throws Exception {
        String name = ItSupport.unique(prefix);
        String db = pg.createDatabase(name);
        ItSupport.sql(pg, db, "CREATE TABLE t (id int8 PRIMARY KEY, a int4, b text, c timestamptz, d numeric(12,2))");
        Map<String, String> env = ItSupport.env(pg, nats, db, name);
        env.put("POSTGRES_INPUT_BATCH_SIZE", "1000");
        try (ConsumerService svc = ItSupport.start(env)) {
            await().atMost(Duration.ofSeconds(60)).until(() -> svc.state() == ReplicationLoop.State.STREAMING);
        }
        ItSupport.sql(pg, db, "DO $$ BEGIN FOR i IN 0.." + (rows / perTx - 1) + " LOOP INSERT INTO t SELECT g, g % 1000,"
                + " repeat('x', 150), now(), g / 7.0 FROM generate_series(i * " + perTx + " + 1, (i + 1) * " + perTx + ") g; COMMIT;"
                + " END LOOP; END $$");
        long start = System.nanoTime();
        try (ConsumerService svc = ItSupport.start(env); StreamReader reader = new StreamReader(nats, env.get("NATS_STREAM"))) {
            await().atMost(Duration.ofSeconds(600)).pollInterval(Duration.ofMillis(200))
                    .until(() -> svc.metrics().changesPublished() >= rows);
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("THROUGHPUT %s: %d rows in %d-row transactions in %.2f s = %.0f rows/s (%d messages)%n",
                    prefix, rows, perTx, seconds, rows / seconds, reader.count());
        }
    }
}
