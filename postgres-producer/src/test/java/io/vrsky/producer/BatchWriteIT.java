package io.vrsky.producer;

import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static io.vrsky.producer.Envelopes.delete;
import static io.vrsky.producer.Envelopes.insert;
import static io.vrsky.producer.Envelopes.lsn;
import static io.vrsky.producer.Envelopes.message;
import static io.vrsky.producer.Envelopes.row;
import static io.vrsky.producer.Envelopes.update;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

@ExtendWith(RealServices.class)
@Timeout(120)
class BatchWriteIT {

    private static final String SOURCE = "postgres-consumer/src/slot";

    @Test
    void shouldApplyATruncateInOrderWithTheChangesAroundIt(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "truncate")) {
            h.sql("CREATE TABLE t (id int PRIMARY KEY)", "INSERT INTO t SELECT generate_series(1, 10)");
            h.env("POSTGRES_OUTPUT_TABLES", "t");
            h.publish(message(SOURCE, insert("t", lsn(1), row("id", 11)), Envelopes.truncate("t", lsn(2)),
                    insert("t", lsn(3), row("id", 12))));
            h.start();

            await().atMost(Duration.ofSeconds(20)).until(h::allAcked);
            assertThat(h.rows("SELECT id FROM t")).containsExactly(List.of("12"));
        }
    }

    @Test
    void shouldApplyBatchedInsertsUpdatesAndDeletesInOrder(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "batchwrite")) {
            h.sql("CREATE TABLE orders (id bigint PRIMARY KEY, note text, qty int)");
            h.env("POSTGRES_OUTPUT_TABLES", "orders");
            // publish everything before the producer starts, so it arrives as a backlog and is batched
            long lsn = 100;
            for (int tx = 0; tx < 50; tx++) {
                List<io.vrsky.core.model.Change> changes = new ArrayList<>();
                for (int i = 0; i < 20; i++) {
                    int id = tx * 20 + i;
                    changes.add(insert("orders", lsn(lsn), row("id", id, "note", "n" + id, "qty", i)));
                }
                h.publish(message(SOURCE, changes.toArray(io.vrsky.core.model.Change[]::new)));
                lsn++;
            }
            // updates (one changes the key) and deletes
            h.publish(message(SOURCE,
                    update("orders", lsn(lsn), row("id", 1), row("id", 1, "note", "updated", "qty", 100)),
                    update("orders", lsn(lsn), row("id", 2), row("id", 5000, "note", "moved", "qty", 2)),
                    delete("orders", lsn(lsn), row("id", 3)),
                    delete("orders", lsn(lsn), row("id", 4))));
            lsn++;
            h.publish(message(SOURCE, update("orders", lsn(lsn), null, row("id", 1, "note", "again", "qty", 101))));
            h.start();

            await().atMost(Duration.ofSeconds(30)).until(h::allAcked);
            assertThat(h.count("SELECT count(*) FROM orders")).isEqualTo(1000 - 2);
            assertThat(h.rows("SELECT note, qty FROM orders WHERE id = 1")).containsExactly(List.of("again", "101"));
            assertThat(h.rows("SELECT note FROM orders WHERE id = 5000")).containsExactly(List.of("moved"));
            assertThat(h.count("SELECT count(*) FROM orders WHERE id IN (2, 3, 4)")).isZero();
            assertThat(h.rows("SELECT source, commit_lsn::text FROM vrsky_applied_position"))
                    .containsExactly(List.of(SOURCE, lsn(lsn).toString()));
            assertThat(h.metric("vrsky_producer_rows_written_total", "op=\"INSERT\"", "table=\"public.orders\"")).isEqualTo(1000);
            assertThat(h.metric("vrsky_producer_rows_written_total", "op=\"UPDATE\"")).isEqualTo(3);
            assertThat(h.metric("vrsky_producer_rows_written_total", "op=\"DELETE\"")).isEqualTo(2);
            // 52 messages in far fewer sink transactions
            assertThat(h.metric("vrsky_producer_batch_messages_count")).isLessThan(52);
            assertThat(h.http("/metrics")).contains("vrsky_producer_flush_seconds_bucket", "vrsky_producer_consumer_pending_messages",
                    "vrsky_producer_batch_rows_bucket");
            assertThat(h.httpResponse("/health/ready").statusCode()).isEqualTo(200);
            assertThat(h.deadLetters()).isEmpty();
        }
    }
}
