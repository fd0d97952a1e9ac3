package io.vrsky.producer;

import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;

import static io.vrsky.producer.Envelopes.insert;
import static io.vrsky.producer.Envelopes.lsn;
import static io.vrsky.producer.Envelopes.message;
import static io.vrsky.producer.Envelopes.row;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

@ExtendWith(RealServices.class)
@Timeout(180)
class PostgresRestartIT {

    @Test
    void shouldRetryWhilePostgresIsDownAndCatchUpOnceItIsBack(PostgresServer pg, NatsServer nats) throws Exception {
        Assumptions.assumeTrue(pg.controllable(), "PostgreSQL given by URL cannot be restarted");
        try (ProducerHarness h = new ProducerHarness(pg, nats, "pgrestart")) {
            h.sql("CREATE TABLE journal (tx int)");
            h.env("POSTGRES_OUTPUT_TABLES", "journal");
            h.start();
            for (int n = 1; n <= 20; n++) {
                h.publish(message("src", insert("journal", lsn(n), row("tx", n))));
            }
            await().atMost(Duration.ofSeconds(20)).until(h::allAcked);

            boolean down = false;
            try {
                pg.crash();
                down = true;
                for (int n = 21; n <= 40; n++) {
                    h.publish(message("src", insert("journal", lsn(n), row("tx", n))));
                }
                await().atMost(Duration.ofSeconds(30)).until(() -> h.httpResponse("/health/ready").statusCode() == 503);
                await().atMost(Duration.ofSeconds(30)).until(() -> h.metric("vrsky_producer_retries_total",
                        "operation=\"apply batch\"") >= 1);
                assertThat(h.consumer().getNumAckPending()).isPositive();
                pg.start();
                down = false;
            } finally {
                if (down) {
                    pg.start();
                }
            }

            await().atMost(Duration.ofSeconds(60)).until(h::allAcked);
            assertThat(h.count("SELECT count(*) FROM journal")).isEqualTo(40);
            assertThat(h.count("SELECT count(DISTINCT tx) FROM journal")).isEqualTo(40);
            await().atMost(Duration.ofSeconds(20)).until(() -> h.httpResponse("/health/ready").statusCode() == 200);
        }
    }
}
