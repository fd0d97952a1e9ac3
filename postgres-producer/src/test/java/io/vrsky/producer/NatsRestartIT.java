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
class NatsRestartIT {

    @Test
    void shouldResumeConsumingAfterNatsRestarts(PostgresServer pg, NatsServer nats) throws Exception {
        Assumptions.assumeTrue(nats.controllable(), "NATS given by URL cannot be restarted");
        try (ProducerHarness h = new ProducerHarness(pg, nats, "natsrestart")) {
            h.sql("CREATE TABLE journal (tx int)");
            // nats-server 2.9 may lose its last unsynced writes (acks, stream tail) when killed: a short ack wait
            // lets JetStream redeliver what it forgot quickly
            h.env("POSTGRES_OUTPUT_TABLES", "journal").env("NATS_ACK_WAIT", "3s");
            h.start();
            for (int n = 1; n <= 10; n++) {
                h.publish(message("src", insert("journal", lsn(n), row("tx", n))));
            }
            await().atMost(Duration.ofSeconds(20)).until(h::allAcked);

            boolean down = false;
            try {
                nats.crash();
                down = true;
                await().atMost(Duration.ofSeconds(30)).until(() -> h.httpResponse("/health/ready").statusCode() == 503);
                nats.start();
                down = false;
            } finally {
                if (down) {
                    nats.start();
                }
            }
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
                h.publish(message("src", insert("journal", lsn(11), row("tx", 11))));
                return true;
            });
            for (int n = 12; n <= 20; n++) {
                h.publish(message("src", insert("journal", lsn(n), row("tx", n))));
            }
            await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(h::allAcked);
            assertThat(h.count("SELECT count(DISTINCT tx) FROM journal")).isEqualTo(20);
            await().atMost(Duration.ofSeconds(20)).until(() -> h.httpResponse("/health/ready").statusCode() == 200);
        }
    }
}
