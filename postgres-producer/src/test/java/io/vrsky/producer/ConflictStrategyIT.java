package io.vrsky.producer;

import io.nats.client.api.MessageInfo;
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
class ConflictStrategyIT {

    private static final String SOURCE = "postgres-consumer/db/slot";

    private static void prepare(ProducerHarness h, String strategy) throws Exception {
        h.sql("CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, qty int, big text)",
                "INSERT INTO items VALUES (1, 'existing', 1, 'toasted')");
        h.env("POSTGRES_OUTPUT_TABLES", "items").env("POSTGRES_OUTPUT_CONFLICT_STRATEGY", strategy);
    }

    @Test
    void upsertShouldOverwriteExistingKeysAndInsertRowsAnUpdateMissed(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "upsert")) {
            prepare(h, "UPSERT");
            h.publish(message(SOURCE, insert("items", lsn(10), row("id", 1, "name", "overwritten", "qty", 2, "big", "b"))));
            h.publish(message(SOURCE, update("items", lsn(11), row("id", 5), row("id", 5, "name", "was missing", "qty", 5, "big", "x"))));
            h.publish(message(SOURCE, update("items", lsn(12), row("id", 6), row("id", 6, "name", "half", "qty", 6), "big")));
            h.start();

            await().atMost(Duration.ofSeconds(20)).until(h::allAcked);
            assertThat(h.rows("SELECT id, name, qty, big FROM items ORDER BY id")).containsExactly(
                    List.of("1", "overwritten", "2", "b"), List.of("5", "was missing", "5", "x"));
            assertThat(h.metric("vrsky_producer_missing_rows_total", "op=\"UPDATE\"")).isEqualTo(1);
            assertThat(h.deadLetters()).isEmpty();
        }
    }

    @Test
    void insertShouldDeadLetterAConflictAndApplyTheRest(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "insertonly")) {
            prepare(h, "INSERT");
            h.publish(message(SOURCE, insert("items", lsn(10), row("id", 2, "name", "two"))));
            long conflict = h.publish(message(SOURCE, insert("items", lsn(11), row("id", 1, "name", "duplicate"))));
            h.publish(message(SOURCE, insert("items", lsn(12), row("id", 3, "name", "three"))));
            h.publish(message(SOURCE, update("items", lsn(13), row("id", 9), row("id", 9, "name", "nowhere"))));
            h.start();

            await().atMost(Duration.ofSeconds(20)).until(h::allAcked);
            assertThat(h.rows("SELECT id, name FROM items ORDER BY id")).containsExactly(
                    List.of("1", "existing"), List.of("2", "two"), List.of("3", "three"));
            List<MessageInfo> dead = h.deadLetters();
            assertThat(dead).hasSize(1);
            assertThat(dead.get(0).getHeaders().getFirst(DeadLetterHeaders.SQL_STATE)).isEqualTo("23505");
            assertThat(dead.get(0).getHeaders().getFirst(DeadLetterHeaders.ERROR_CLASS)).isEqualTo("sql");
            assertThat(dead.get(0).getHeaders().getFirst(DeadLetterHeaders.SOURCE_SEQUENCE)).isEqualTo(Long.toString(conflict));
        }
    }

    @Test
    void updateShouldUpdateByInsertAndDeadLetterAMissingRow(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "updateonly")) {
            prepare(h, "UPDATE");
            h.publish(message(SOURCE, insert("items", lsn(10), row("id", 1, "name", "updated by insert", "qty", 9))));
            h.publish(message(SOURCE, insert("items", lsn(11), row("id", 2, "name", "not there"))));
            h.publish(message(SOURCE, update("items", lsn(12), row("id", 1), row("id", 1, "name", "then updated"), "big")));
            h.start();

            await().atMost(Duration.ofSeconds(20)).until(h::allAcked);
            assertThat(h.rows("SELECT id, name, qty, big FROM items ORDER BY id"))
                    .containsExactly(List.of("1", "then updated", "9", "toasted"));
            List<MessageInfo> dead = h.deadLetters();
            assertThat(dead).hasSize(1);
            assertThat(dead.get(0).getHeaders().getFirst(DeadLetterHeaders.SQL_STATE)).isEqualTo("02000");
            assertThat(new String(dead.get(0).getData())).contains("not there");
        }
    }
}
