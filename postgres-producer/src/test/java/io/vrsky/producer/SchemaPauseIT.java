package io.vrsky.producer;

import io.nats.client.api.MessageInfo;
import io.vrsky.core.nats.DeadLetterHeaders;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import static io.vrsky.producer.Envelopes.chunk;
import static io.vrsky.producer.Envelopes.insert;
import static io.vrsky.producer.Envelopes.lsn;
import static io.vrsky.producer.Envelopes.message;
import static io.vrsky.producer.Envelopes.plain;
import static io.vrsky.producer.Envelopes.row;
import static io.vrsky.producer.Envelopes.withColumns;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A change that carries its column list and names a table or column the sink lacks is a schema
 * mismatch, not bad data: with schema evolution off ({@code POSTGRES_OUTPUT_SCHEMA_EVOLUTION=none};
 * a missing table pauses in every mode) the producer pauses (applies nothing from there on,
 * acknowledges nothing after it), says so on /health/ready and in the metrics, and resumes by
 * itself once the sink is fixed. Nothing is lost or dead-lettered.
 */
@ExtendWith(RealServices.class)
@Timeout(180)
class SchemaPauseIT {

    private static final String SOURCE = "postgres-consumer/db/slot";

    @Test
    void shouldPauseOnAColumnTheSinkLacksAndResumeAfterItIsAdded(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "addcolumn"); LogCapture logs = new LogCapture()) {
            h.env("POSTGRES_OUTPUT_SCHEMA_EVOLUTION", "none");
            h.sql("CREATE TABLE items (id int PRIMARY KEY, qty int)");
            h.env("POSTGRES_OUTPUT_TABLES", "items");
            h.start();
            h.publish(message(SOURCE, withColumns(insert("items", lsn(10), row("id", 1, "qty", 1)), "id", "int4", "qty", "int4")));
            await().atMost(Duration.ofSeconds(20)).until(() -> h.count("SELECT count(*) FROM items") == 1);

            // the source added a column: a message whose first transaction is fine, then the new column, then more
            h.publish(message(SOURCE,
                    withColumns(insert("items", lsn(11), row("id", 2, "qty", 2)), "id", "int4", "qty", "int4"),
                    withColumns(insert("items", lsn(12), row("id", 3, "qty", 3, "colour", "red")), "id", "int4", "qty", "int4",
                            "colour", "text")));
            h.publish(message(SOURCE, withColumns(insert("items", lsn(13), row("id", 4, "qty", 4, "colour", "blue")), "id", "int4",
                    "qty", "int4", "colour", "text")));

            await().atMost(Duration.ofSeconds(30)).until(() -> h.httpResponse("/health/ready").statusCode() == 503);
            HttpResponse<String> ready = h.httpResponse("/health/ready");
            assertThat(ready.body()).contains("public.items", "colour");
            assertThat(h.metric("vrsky_producer_paused")).isEqualTo(1.0);
            assertThat(h.metric("vrsky_producer_schema_pauses_total")).isEqualTo(1.0);
            // what came before the mismatch is applied, nothing after it
            assertThat(h.rows("SELECT id FROM items ORDER BY id")).containsExactly(List.of("1"), List.of("2"));
            assertThat(h.consumer().getNumAckPending()).isEqualTo(2);
            assertThat(h.deadLetters()).isEmpty();

            h.sql("ALTER TABLE items ADD COLUMN colour text");
            await().atMost(Duration.ofSeconds(40)).until(h::allAcked);
            assertThat(h.rows("SELECT id, colour FROM items ORDER BY id")).containsExactly(Arrays.asList("1", null), Arrays.asList("2", null),
                    List.of("3", "red"), List.of("4", "blue"));
            assertThat(h.deadLetters()).isEmpty();
            assertThat(h.httpResponse("/health/ready").statusCode()).isEqualTo(200);
            assertThat(h.metric("vrsky_producer_paused")).isZero();
            assertThat(h.metric("vrsky_producer_schema_pauses_total")).isEqualTo(1.0);
            assertThat(logs.lines()).filteredOn(l -> l.contains("colour") && (l.startsWith("WARN") || l.startsWith("ERROR")))
                    .hasSizeBetween(1, 2);
        }
    }

    @Test
    void shouldPauseOnAWhitelistedTableMissingInTheSinkUntilItIsCreated(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "notable")) {
            h.env("POSTGRES_OUTPUT_TABLES", "items");
            h.start();
            h.publish(message(SOURCE, withColumns(insert("items", lsn(10), row("id", 1, "qty", 1)), "id", "int4", "qty", "int4")));

            await().atMost(Duration.ofSeconds(30)).until(() -> h.httpResponse("/health/ready").statusCode() == 503);
            assertThat(h.httpResponse("/health/ready").body()).contains("public.items");
            assertThat(h.deadLetters()).isEmpty();

            h.sql("CREATE TABLE items (id int PRIMARY KEY, qty int)");
            await().atMost(Duration.ofSeconds(40)).until(h::allAcked);
            assertThat(h.rows("SELECT id, qty FROM items")).containsExactly(List.of("1", "1"));
            assertThat(h.deadLetters()).isEmpty();
        }
    }

    @Test
    void shouldDeadLetterAMinimalEnvelopeNamingAnUnknownColumn(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "minimalcol")) {
            h.sql("CREATE TABLE items (id int PRIMARY KEY, qty int)");
            h.env("POSTGRES_OUTPUT_TABLES", "items");
            h.start();
            h.publish(plain(insert("items", null, row("id", 1, "qty", 1, "colour", "red"))));
            h.publish(plain(insert("items", null, row("id", 2, "qty", 2))));

            await().atMost(Duration.ofSeconds(30)).until(h::allAcked);
            assertThat(h.rows("SELECT id FROM items")).containsExactly(List.of("2"));
            List<MessageInfo> dead = h.deadLetters();
            assertThat(dead).hasSize(1);
            assertThat(dead.get(0).getHeaders().getFirst(DeadLetterHeaders.ERROR_CLASS)).isEqualTo("validation");
            assertThat(dead.get(0).getHeaders().getFirst(DeadLetterHeaders.ERROR)).contains("colour");
            assertThat(h.httpResponse("/health/ready").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void shouldPauseInsideAChunkedTransactionAndApplyItWholeOnceFixed(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "chunkpause")) {
            h.env("POSTGRES_OUTPUT_SCHEMA_EVOLUTION", "none");
            h.sql("CREATE TABLE items (id int PRIMARY KEY, qty int)");
            h.env("POSTGRES_OUTPUT_TABLES", "items");
            h.start();
            h.publish(chunk(SOURCE, lsn(20), 0, false, withColumns(insert("items", lsn(20), row("id", 1, "qty", 1)), "id", "int4",
                    "qty", "int4")));
            h.publish(chunk(SOURCE, lsn(20), 1, false, withColumns(insert("items", lsn(20), row("id", 2, "qty", 2, "colour", "red")),
                    "id", "int4", "qty", "int4", "colour", "text")));
            h.publish(chunk(SOURCE, lsn(20), 2, true, withColumns(insert("items", lsn(20), row("id", 3, "qty", 3)), "id", "int4",
                    "qty", "int4")));

            await().atMost(Duration.ofSeconds(30)).until(() -> h.httpResponse("/health/ready").statusCode() == 503);
            assertThat(h.httpResponse("/health/ready").body()).contains("public.items", "colour");
            assertThat(h.count("SELECT count(*) FROM items")).isZero();

            h.sql("ALTER TABLE items ADD COLUMN colour text");
            await().atMost(Duration.ofSeconds(40)).until(h::allAcked);
            assertThat(h.rows("SELECT id, colour FROM items ORDER BY id")).containsExactly(Arrays.asList("1", null), List.of("2", "red"),
                    Arrays.asList("3", null));
            assertThat(h.deadLetters()).isEmpty();
        }
    }

    @Test
    void shouldStopCleanlyWhilePausedAndApplyEverythingAfterARestart(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "pausestop")) {
            h.env("POSTGRES_OUTPUT_SCHEMA_EVOLUTION", "none");
            h.sql("CREATE TABLE items (id int PRIMARY KEY, qty int)");
            h.env("POSTGRES_OUTPUT_TABLES", "items");
            h.start();
            h.publish(message(SOURCE, withColumns(insert("items", lsn(11), row("id", 1, "qty", 1, "colour", "red")), "id", "int4",
                    "qty", "int4", "colour", "text")));
            h.publish(message(SOURCE, withColumns(insert("items", lsn(12), row("id", 2, "qty", 2)), "id", "int4", "qty", "int4")));
            await().atMost(Duration.ofSeconds(30)).until(() -> h.httpResponse("/health/ready").statusCode() == 503);

            assertThat(h.stop()).isZero();
            h.sql("ALTER TABLE items ADD COLUMN colour text");
            h.start();
            await().atMost(Duration.ofSeconds(40)).until(h::allAcked);
            assertThat(h.rows("SELECT id, colour FROM items ORDER BY id")).containsExactly(List.of("1", "red"), Arrays.asList("2", null));
            assertThat(h.deadLetters()).isEmpty();
        }
    }
}
