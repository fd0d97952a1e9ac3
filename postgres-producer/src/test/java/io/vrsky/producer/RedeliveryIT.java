package io.vrsky.producer;

import io.vrsky.core.model.Change;
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

/**
 * Nothing is applied twice: the sink table has no primary key, so a second application of any
 * transaction would show as a duplicate row.
 */
@ExtendWith(RealServices.class)
@Timeout(120)
class RedeliveryIT {

    private static final String SOURCE = "postgres-consumer/db/slot";

    private static Change tx(int n) {
        return insert("journal", lsn(1000 + n), row("tx", n));
    }

    @Test
    void shouldSkipTransactionsThatComeAgainPackedDifferently(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "repack")) {
            h.sql("CREATE TABLE journal (tx int)");
            h.env("POSTGRES_OUTPUT_TABLES", "journal");
            h.start();
            h.publish(message(SOURCE, tx(1), tx(2)));
            h.publish(message(SOURCE, tx(3)));
            await().atMost(Duration.ofSeconds(20)).until(() -> h.count("SELECT count(*) FROM journal") == 3);

            // the consumer restarted and packs differently: partly applied messages, and an old one
            h.publish(message(SOURCE, tx(2), tx(3), tx(4)));
            h.publish(message(SOURCE, tx(1)));
            h.publish(message(SOURCE, tx(4), tx(5)));

            await().atMost(Duration.ofSeconds(20)).until(h::allAcked);
            assertThat(h.rows("SELECT tx FROM journal ORDER BY tx"))
                    .containsExactly(List.of("1"), List.of("2"), List.of("3"), List.of("4"), List.of("5"));
            assertThat(h.metric("vrsky_producer_skipped_changes_total")).isEqualTo(4);
        }
    }

    @Test
    void shouldApplyNothingTwiceWhenCommittedMessagesAreDeliveredAgain(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "redeliver")) {
            h.sql("CREATE TABLE journal (tx int)");
            h.env("POSTGRES_OUTPUT_TABLES", "journal");
            for (int n = 1; n <= 30; n++) {
                h.publish(message(SOURCE, tx(n)));
            }
            h.start();
            await().atMost(Duration.ofSeconds(20)).until(h::allAcked);
            h.stop();

            // a fresh durable delivers the whole stream again: exactly what a crash between commit and ack looks like
            h.env("NATS_DURABLE", h.durable + "-again");
            for (int n = 31; n <= 35; n++) {
                h.publish(message(SOURCE, tx(n)));
            }
            h.start();

            await().atMost(Duration.ofSeconds(20)).until(() -> h.nats.jetStreamManagement()
                    .getConsumerInfo(h.stream, h.durable + "-again").getNumAckPending() == 0
                    && h.count("SELECT count(*) FROM journal") >= 35);
            assertThat(h.count("SELECT count(*) FROM journal")).isEqualTo(35);
            assertThat(h.count("SELECT count(DISTINCT tx) FROM journal")).isEqualTo(35);
            assertThat(h.rows("SELECT commit_lsn::text FROM vrsky_applied_position")).containsExactly(List.of(lsn(1035).toString()));
        }
    }
}
