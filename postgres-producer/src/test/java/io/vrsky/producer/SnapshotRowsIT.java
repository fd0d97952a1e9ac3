package io.vrsky.producer;

import io.vrsky.core.model.Change;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static io.vrsky.producer.Envelopes.insert;
import static io.vrsky.producer.Envelopes.lsn;
import static io.vrsky.producer.Envelopes.message;
import static io.vrsky.producer.Envelopes.read;
import static io.vrsky.producer.Envelopes.row;
import static io.vrsky.producer.Envelopes.snapshotChunk;
import static io.vrsky.producer.Envelopes.update;
import static io.vrsky.producer.Envelopes.withColumns;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Snapshot rows (op READ): upserts whatever the strategy, exactly once per (source, snapshot, table) by chunk number. */
@ExtendWith(RealServices.class)
@Timeout(120)
class SnapshotRowsIT {

    private static final String SOURCE = "postgres-consumer/db/slot";

    @Test
    void shouldUpsertSnapshotRowsEvenUnderTheInsertStrategy(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "snapupsert")) {
            h.sql("CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)", "INSERT INTO items VALUES (1, 'stale')");
            h.env("POSTGRES_OUTPUT_TABLES", "items").env("POSTGRES_OUTPUT_CONFLICT_STRATEGY", "INSERT");
            h.publish(snapshotChunk(SOURCE, "s1", "public.items", 0, true,
                    read("public.items", lsn(100), row("id", 1, "name", "fresh")), read("public.items", lsn(100), row("id", 2, "name", "two"))));
            h.start();

            await().atMost(Duration.ofSeconds(20)).until(h::allAcked);
            assertThat(h.rows("SELECT id, name FROM items ORDER BY id")).containsExactly(List.of("1", "fresh"), List.of("2", "two"));
            assertThat(h.deadLetters()).isEmpty();
            assertThat(h.rows("SELECT source, commit_lsn::text, chunk FROM vrsky_applied_position ORDER BY source"))
                    .containsExactly(List.of(SOURCE + "#snap:s1:public.items", "0/0", "0"));
        }
    }

    @Test
    void shouldSkipAChunkAppliedBeforeWhateverTheSourcesStreamPosition(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "snapskip")) {
            h.sql("CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)");
            h.env("POSTGRES_OUTPUT_TABLES", "items");
            // chunk 0 and 1 of the snapshot, then a change streamed after it, then chunk 1 sent again (a resent message)
            h.publish(snapshotChunk(SOURCE, "s1", "public.items", 0, false, read("public.items", lsn(100), row("id", 1, "name", "one"))));
            h.publish(snapshotChunk(SOURCE, "s1", "public.items", 1, false, read("public.items", lsn(100), row("id", 2, "name", "two"))));
            h.publish(message(SOURCE, update("items", lsn(200), row("id", 2), row("id", 2, "name", "changed later"))));
            h.publish(snapshotChunk(SOURCE, "s1", "public.items", 1, false, read("public.items", lsn(100), row("id", 2, "name", "two"))));
            // numbers may jump (a resume continues after what may have been sent); a read below the stream position is applied
            h.publish(snapshotChunk(SOURCE, "s1", "public.items", 1000, true, read("public.items", lsn(100), row("id", 3, "name", "three"))));
            // another table of the same snapshot has its own numbering
            h.sql("CREATE TABLE other (id int PRIMARY KEY)");
            h.env("POSTGRES_OUTPUT_TABLES", "items,other");
            h.publish(snapshotChunk(SOURCE, "s1", "public.other", 0, true, read("public.other", lsn(100), row("id", 7))));
            h.start();

            await().atMost(Duration.ofSeconds(20)).until(h::allAcked);
            assertThat(h.rows("SELECT id, name FROM items ORDER BY id")).containsExactly(
                    List.of("1", "one"), List.of("2", "changed later"), List.of("3", "three"));
            assertThat(h.count("SELECT count(*) FROM other")).isEqualTo(1);
            assertThat(h.rows("SELECT source, commit_lsn::text, chunk FROM vrsky_applied_position ORDER BY source")).containsExactly(
                    List.of(SOURCE, "0/C8", "0"), List.of(SOURCE + "#snap:s1:public.items", "0/0", "1000"),
                    List.of(SOURCE + "#snap:s1:public.other", "0/0", "0"));
        }
    }

    @Test
    void shouldApplyLargeSnapshotChunksThroughCopyAndFallBackToUpsertsForExistingRows(PostgresServer pg, NatsServer nats)
            throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "snapcopy")) {
            h.sql("CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)", "INSERT INTO items VALUES (150, 'stale')");
            h.env("POSTGRES_OUTPUT_TABLES", "items");
            for (int chunk = 0; chunk < 3; chunk++) {
                List<Change> rows = new ArrayList<>();
                for (int i = 0; i < 100; i++) {
                    int id = chunk * 100 + i;
                    rows.add(withColumns(read("public.items", lsn(100), row("id", id, "name", "row " + id)), "id", "int4", "name", "text"));
                }
                h.publish(snapshotChunk(SOURCE, "s2", "public.items", chunk, chunk == 2, rows.toArray(Change[]::new)));
            }
            h.publish(message(SOURCE, insert("items", lsn(300), row("id", 1000, "name", "streamed"))));
            h.start();

            await().atMost(Duration.ofSeconds(20)).until(h::allAcked);
            assertThat(h.count("SELECT count(*) FROM items")).isEqualTo(301);
            assertThat(h.rows("SELECT name FROM items WHERE id = 150")).containsExactly(List.of("row 150"));
            assertThat(h.deadLetters()).isEmpty();
        }
    }

    @Test
    void shouldPauseOnASnapshotRowForATableMissingInTheSink(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "snappause")) {
            h.sql("CREATE TABLE items (id int PRIMARY KEY)");
            h.env("POSTGRES_OUTPUT_TABLES", "items,later");
            h.publish(snapshotChunk(SOURCE, "s3", "public.later", 0, true,
                    withColumns(read("public.later", lsn(100), row("id", 1, "note", "x")), "id", "int4", "note", "text")));
            h.start();

            await().atMost(Duration.ofSeconds(30)).until(() -> h.httpResponse("/health/ready").statusCode() == 503
                    && h.http("/health/ready").contains("later"));
            assertThat(h.deadLetters()).isEmpty();

            h.sql("CREATE TABLE later (id int PRIMARY KEY, note text)");
            await().atMost(Duration.ofSeconds(60)).until(h::allAcked);
            assertThat(h.rows("SELECT id, note FROM later")).containsExactly(List.of("1", "x"));
        }
    }
}
