package io.vrsky.producer;

import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.vrsky.producer.Envelopes.insert;
import static io.vrsky.producer.Envelopes.lsn;
import static io.vrsky.producer.Envelopes.message;
import static io.vrsky.producer.Envelopes.row;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** NATS that stays unreachable while the producer runs is waited for DEPENDENCY_RETRY_TIMEOUT, then the producer exits 3. */
@ExtendWith(RealServices.class)
@Timeout(180)
class NatsOutageIT {

    @Test
    void shouldGiveUpWithExit3WhenNatsStaysDownPastTheRetryTimeout(PostgresServer pg, NatsServer nats) throws Exception {
        Assumptions.assumeTrue(nats.controllable(), "NATS given by URL cannot be stopped");
        try (ProducerHarness h = new ProducerHarness(pg, nats, "natsdown"); LogCapture logs = new LogCapture()) {
            h.sql("CREATE TABLE journal (tx int)");
            h.env("POSTGRES_OUTPUT_TABLES", "journal").env("DEPENDENCY_RETRY_TIMEOUT", "10s");
            ProducerService service = h.start();
            h.publish(message("src", insert("journal", lsn(1), row("tx", 1))));
            await().atMost(Duration.ofSeconds(20)).until(h::allAcked);

            CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> {
                try {
                    return service.awaitExit();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return -1;
                }
            });
            try {
                nats.crash();
                await().atMost(Duration.ofSeconds(30)).until(() -> h.httpResponse("/health/ready").statusCode() == 503);
                assertThat(h.httpResponse("/health/ready").body()).contains("NATS at nats://");
                assertThat(exit.get(60, TimeUnit.SECONDS)).isEqualTo(3);
            } finally {
                nats.start();
            }
            assertThat(logs.lines()).filteredOn(l -> l.startsWith("WARN") && l.contains("NATS")).hasSizeLessThan(6);
        }
    }
}
