package io.vrsky.producer;

import io.nats.client.api.MessageInfo;
import io.vrsky.core.model.Envelope;
import io.vrsky.core.nats.DeadLetterHeaders;
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
import static io.vrsky.producer.Envelopes.update;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

@ExtendWith(RealServices.class)
@Timeout(120)
class PoisonIsolationIT {

    private static final String SOURCE = "postgres-consumer/db/slot";

    @Test
    void shouldRollBackTheBatchIsolateThePoisonAndApplyEveryGoodMessage(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "poison")) {
            h.sql("CREATE TABLE events (id int PRIMARY KEY, name text NOT NULL, qty int CHECK (qty >= 0))");
            h.env("POSTGRES_OUTPUT_TABLES", "events").env("POSTGRES_OUTPUT_FLUSH_INTERVAL", "5s");
            for (int i = 1; i <= 20; i++) {
                h.publish(message(SOURCE, insert("events", lsn(i), row("id", i, "name", "e" + i, "qty", i))));
            }
            // one message, two transactions: the second violates NOT NULL, so that transaction alone is dead
            Envelope poison = message(SOURCE,
                    insert("events", lsn(21), row("id", 100, "name", "would be fine", "qty", 1)),
                    insert("events", lsn(22), row("id", 101, "name", null, "qty", 1)));
            long poisonSeq = h.publish(poison);
            // later messages depend on earlier ones in the same batch
            h.publish(message(SOURCE, update("events", lsn(23), row("id", 1), row("id", 1, "name", "first, updated", "qty", 10))));
            h.publish(message(SOURCE, update("events", lsn(24), row("id", 2), row("id", 2, "name", "negative", "qty", -5))));
            h.publish(message(SOURCE, insert("events", lsn(25), row("id", 30, "name", "last", "qty", 30))));
            h.start();

            await().atMost(Duration.ofSeconds(20)).until(h::allAcked);
            assertThat(h.count("SELECT count(*) FROM events")).isEqualTo(22);
            assertThat(h.rows("SELECT id FROM events WHERE id IN (100, 101)")).containsExactly(List.of("100"));
            assertThat(h.rows("SELECT name, qty FROM events WHERE id IN (1, 2) ORDER BY id"))
                    .containsExactly(List.of("first, updated", "10"), List.of("e2", "2"));
            // one sink transaction for the whole backlog despite the poison
            assertThat(h.metric("vrsky_producer_batch_messages_count")).isEqualTo(1);

            List<MessageInfo> dead = h.deadLetters();
            assertThat(dead).hasSize(2);
            MessageInfo first = dead.get(0);
            assertThat(h.envelopeOf(first).changes()).containsExactly(poison.changes().get(1));
            assertThat(first.getHeaders().getFirst(DeadLetterHeaders.ERROR_CLASS)).isEqualTo("sql");
            assertThat(first.getHeaders().getFirst(DeadLetterHeaders.SQL_STATE)).isEqualTo("23502");
            assertThat(first.getHeaders().getFirst(DeadLetterHeaders.ERROR)).contains("null value in column \"name\"");
            assertThat(first.getHeaders().getFirst(DeadLetterHeaders.SOURCE_SUBJECT)).isEqualTo(h.subject);
            assertThat(first.getHeaders().getFirst(DeadLetterHeaders.SOURCE_SEQUENCE)).isEqualTo(Long.toString(poisonSeq));
            assertThat(dead.get(1).getHeaders().getFirst(DeadLetterHeaders.SQL_STATE)).isEqualTo("23514");
            assertThat(h.metric("vrsky_producer_dead_letters_total", "class=\"sql\"")).isEqualTo(2);
            // the position moved past the dead letters too: a redelivery skips them
            assertThat(h.rows("SELECT commit_lsn::text FROM vrsky_applied_position")).containsExactly(List.of(lsn(25).toString()));
        }
    }
}
