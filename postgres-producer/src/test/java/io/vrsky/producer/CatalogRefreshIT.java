package io.vrsky.producer;

import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;

import static io.vrsky.producer.Envelopes.insert;
import static io.vrsky.producer.Envelopes.lsn;
import static io.vrsky.producer.Envelopes.message;
import static io.vrsky.producer.Envelopes.row;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** A sink table changed by hand while the producer runs is seen before anything is dead-lettered. */
@ExtendWith(RealServices.class)
@Timeout(120)
class CatalogRefreshIT {

    private static final String SOURCE = "postgres-consumer/db/slot";

    @Test
    void shouldApplyAValueThatOnlyFitsAColumnWidenedByHand(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "widened")) {
            h.sql("CREATE TABLE counters (id int PRIMARY KEY, v int4)");
            h.env("POSTGRES_OUTPUT_TABLES", "counters");
            h.start();
            h.publish(message(SOURCE, insert("counters", lsn(10), row("id", 1, "v", 1))));
            await().atMost(Duration.ofSeconds(20)).until(() -> h.count("SELECT count(*) FROM counters") == 1);

            h.sql("ALTER TABLE counters ALTER COLUMN v TYPE int8");
            h.publish(message(SOURCE, insert("counters", lsn(11), row("id", 2, "v", 3_000_000_000L))));

            await().atMost(Duration.ofSeconds(20)).until(h::allAcked);
            assertThat(h.rows("SELECT v FROM counters ORDER BY id")).containsExactly(List.of("1"), List.of("3000000000"));
            assertThat(h.deadLetters()).isEmpty();
        }
    }
}
