package io.vrsky.producer;

import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static io.vrsky.producer.Envelopes.lsn;
import static io.vrsky.producer.Envelopes.message;
import static io.vrsky.producer.Envelopes.row;
import static io.vrsky.producer.Envelopes.update;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

@ExtendWith(RealServices.class)
@Timeout(120)
class DeadlockRetryIT {

    @Test
    void shouldRetryABatchThatLostADeadlock(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "deadlock")) {
            h.sql("CREATE TABLE a (id int PRIMARY KEY, v text)", "CREATE TABLE b (id int PRIMARY KEY, v text)",
                    "INSERT INTO a VALUES (1, 'start')", "INSERT INTO b VALUES (1, 'start')",
                    // the producer's sessions detect the deadlock (1 s); the test's session would wait 30 s
                    "ALTER DATABASE " + h.database + " SET deadlock_timeout = '1s'");
            h.env("POSTGRES_OUTPUT_TABLES", "a,b");
            h.start();
            try (Connection other = pg.connect(h.database); Statement s = other.createStatement()) {
                s.execute("SET deadlock_timeout = '30s'");
                other.setAutoCommit(false);
                s.execute("UPDATE b SET v = 'other' WHERE id = 1");

                // the producer locks a, then waits for b
                h.publish(message("src", update("a", lsn(1), row("id", 1), row("id", 1, "v", "producer")),
                        update("b", lsn(1), row("id", 1), row("id", 1, "v", "producer"))));
                await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(20)).until(() ->
                        h.count("SELECT count(*) FROM pg_stat_activity WHERE datname = '" + h.database
                                + "' AND application_name = 'postgres-producer' AND wait_event_type = 'Lock'") == 1);
                // ... and the other session closes the cycle: the producer's backend finds it and loses
                CompletableFuture<Void> closing = CompletableFuture.runAsync(() -> {
                    try {
                        s.execute("UPDATE a SET v = 'other' WHERE id = 1");
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                closing.get();
                other.commit();
            }

            await().atMost(Duration.ofSeconds(20)).until(h::allAcked);
            assertThat(h.rows("SELECT v FROM a UNION ALL SELECT v FROM b")).containsExactly(List.of("producer"), List.of("producer"));
            assertThat(h.metric("vrsky_producer_retries_total", "operation=\"apply batch\"")).isGreaterThanOrEqualTo(1);
            assertThat(h.deadLetters()).isEmpty();
        }
    }
}
