package io.vrsky.producer;

import io.nats.client.api.MessageInfo;
import io.vrsky.core.model.Change;
import io.vrsky.core.model.Envelope;
import io.vrsky.core.model.Lsn;
import io.vrsky.core.nats.DeadLetterHeaders;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;

import static io.vrsky.producer.Envelopes.chunk;
import static io.vrsky.producer.Envelopes.insert;
import static io.vrsky.producer.Envelopes.lsn;
import static io.vrsky.producer.Envelopes.message;
import static io.vrsky.producer.Envelopes.row;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

@ExtendWith(RealServices.class)
@Timeout(180)
class ChunkedTransactionIT {

    private static final String SOURCE = "postgres-consumer/db/slot";

    /** Chunk {@code n} of the transaction at {@code commitLsn}: rows n*size .. n*size+size-1. */
    private static Envelope part(Lsn commitLsn, int n, boolean last, int size) {
        Change[] changes = new Change[size];
        for (int i = 0; i < size; i++) {
            int id = n * size + i;
            changes[i] = insert("big", commitLsn, row("id", id, "payload", "row " + id));
        }
        return chunk(SOURCE, commitLsn, n, last, changes);
    }

    /** The producer holds an open sink transaction (applied chunks, not committed). */
    private static boolean openTransaction(ProducerHarness h) throws Exception {
        return h.count("SELECT count(*) FROM pg_stat_activity WHERE datname = '" + h.database
                + "' AND application_name = 'postgres-producer' AND state = 'idle in transaction'") == 1;
    }

    /**
     * Two databases publish to the stream: the chunks of one's transaction arrive with the other's
     * messages (and an undecodable body) in between. Those wait until the transaction is closed,
     * then go through in stream order; nothing is dead-lettered but the bad body.
     */
    @Test
    void otherSourcesMessagesBetweenChunksShouldWaitForTheTransaction(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "chunksmixed")) {
            h.sql("CREATE TABLE big (id int PRIMARY KEY, payload text)");
            h.env("POSTGRES_OUTPUT_TABLES", "big");
            String other = "postgres-consumer/otherdb/slot";
            h.publish(part(lsn(100), 0, false, 50));
            h.publish(message(other, insert("big", lsn(7), row("id", 1000, "payload", "other 1"))));
            h.publish(part(lsn(100), 1, false, 50));
            long bad = h.publishBytes("{not json".getBytes(java.nio.charset.StandardCharsets.UTF_8), "bad");
            h.publish(message(other, insert("big", lsn(8), row("id", 1000, "payload", "other 2")),
                    insert("big", lsn(8), row("id", 1001, "payload", "other 3"))));
            h.publish(part(lsn(100), 2, true, 50));
            h.publish(message(other, Envelopes.delete("big", lsn(9), row("id", 1001))));
            h.start();

            await().atMost(Duration.ofSeconds(30)).until(h::allAcked);
            assertThat(h.count("SELECT count(*) FROM big WHERE id < 150")).isEqualTo(150);
            // the other source's changes applied in its own order: upsert 1000 twice, insert then delete 1001
            assertThat(h.rows("SELECT id, payload FROM big WHERE id >= 150 ORDER BY id")).containsExactly(List.of("1000", "other 2"));
            List<MessageInfo> dead = h.deadLetters();
            assertThat(dead).singleElement().satisfies(m ->
                    assertThat(m.getHeaders().getFirst(DeadLetterHeaders.SOURCE_SEQUENCE)).isEqualTo(Long.toString(bad)));
        }
    }

    @Test
    void shouldNotShowATransactionBeforeItsLastChunk(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "chunks")) {
            h.sql("CREATE TABLE big (id int PRIMARY KEY, payload text)");
            h.env("POSTGRES_OUTPUT_TABLES", "big");
            h.start();
            for (int n = 0; n < 3; n++) {
                h.publish(part(lsn(100), n, false, 50));
            }

            await().atMost(Duration.ofSeconds(20)).until(() -> openTransaction(h) && h.consumer().getNumAckPending() == 3);
            assertThat(h.count("SELECT count(*) FROM big")).isZero();

            h.publish(part(lsn(100), 3, true, 50));
            await().atMost(Duration.ofSeconds(20)).until(h::allAcked);
            assertThat(h.count("SELECT count(*) FROM big")).isEqualTo(200);
            assertThat(h.rows("SELECT commit_lsn::text, chunk FROM vrsky_applied_position"))
                    .containsExactly(List.of(lsn(100).toString(), "3"));
            assertThat(h.deadLetters()).isEmpty();
        }
    }

    @Test
    void shouldApplyATransactionOnceWhenTheSourceSendsItAgainFromChunkZero(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "rechunk")) {
            h.sql("CREATE TABLE big (id int PRIMARY KEY, payload text)");
            h.env("POSTGRES_OUTPUT_TABLES", "big").env("POSTGRES_OUTPUT_CONFLICT_STRATEGY", "INSERT");
            h.publish(part(lsn(100), 0, false, 10));
            h.publish(part(lsn(100), 1, false, 10));
            h.publish(part(lsn(100), 0, false, 10));
            h.publish(part(lsn(100), 1, false, 10));
            h.publish(part(lsn(100), 1, false, 10));
            h.publish(part(lsn(100), 2, true, 10));
            h.publish(part(lsn(100), 2, true, 10));
            h.publish(message(SOURCE, insert("big", lsn(101), row("id", 1000, "payload", "after"))));
            h.start();

            await().atMost(Duration.ofSeconds(20)).until(h::allAcked);
            assertThat(h.count("SELECT count(*) FROM big")).isEqualTo(31);
            assertThat(h.deadLetters()).isEmpty();
        }
    }

    @Test
    void shouldDeadLetterATransactionThatFailsInAChunkWholeAndGoOn(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "badchunk")) {
            h.sql("CREATE TABLE big (id int PRIMARY KEY, payload text NOT NULL)");
            h.env("POSTGRES_OUTPUT_TABLES", "big");
            long first = h.publish(part(lsn(100), 0, false, 10));
            h.publish(chunk(SOURCE, lsn(100), 1, false, insert("big", lsn(100), row("id", 500, "payload", null))));
            h.publish(part(lsn(100), 2, true, 10));
            h.publish(message(SOURCE, insert("big", lsn(101), row("id", 1000, "payload", "after"))));
            h.start();

            await().atMost(Duration.ofSeconds(20)).until(h::allAcked);
            assertThat(h.rows("SELECT id FROM big")).containsExactly(List.of("1000"));
            // one dead letter holding the whole transaction (every chunk's changes)
            List<MessageInfo> dead = h.deadLetters();
            assertThat(dead).hasSize(1);
            assertThat(h.envelopeOf(dead.get(0)).changes()).hasSize(21);
            assertThat(dead.get(0).getHeaders().getFirst(DeadLetterHeaders.SOURCE_SEQUENCE)).isEqualTo(Long.toString(first));
            assertThat(dead).allSatisfy(m -> {
                assertThat(m.getHeaders().getFirst(DeadLetterHeaders.ERROR_CLASS)).isEqualTo("sql");
                assertThat(m.getHeaders().getFirst(DeadLetterHeaders.SQL_STATE)).isEqualTo("23502");
            });
            assertThat(h.rows("SELECT commit_lsn::text FROM vrsky_applied_position")).containsExactly(List.of(lsn(101).toString()));
        }
    }

    @Test
    void shouldLeaveNothingHalfAppliedWhenKilledMidTransactionAndFinishItAfterARestart(PostgresServer pg, NatsServer nats)
            throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "chunkkill")) {
            h.sql("CREATE TABLE big (id int PRIMARY KEY, payload text)");
            h.env("POSTGRES_OUTPUT_TABLES", "big").env("POSTGRES_OUTPUT_CONFLICT_STRATEGY", "INSERT");
            try (ProducerProcess process = ProducerProcess.start(h.env(), h.name)) {
                for (int n = 0; n < 3; n++) {
                    h.publish(part(lsn(200), n, false, 100));
                }
                await().atMost(Duration.ofSeconds(20)).until(() -> openTransaction(h) && h.consumer().getNumAckPending() == 3);
                assertThat(h.count("SELECT count(*) FROM big")).isZero();

                process.kill();
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> !openTransaction(h));
            assertThat(h.count("SELECT count(*) FROM big")).isZero();

            h.publish(part(lsn(200), 3, true, 100));
            h.publish(message(SOURCE, insert("big", lsn(201), row("id", 1000, "payload", "after"))));
            h.start();

            await().atMost(Duration.ofSeconds(30)).until(h::allAcked);
            assertThat(h.count("SELECT count(*) FROM big")).isEqualTo(401);
            assertThat(h.deadLetters()).isEmpty();
            assertThat(h.rows("SELECT commit_lsn::text FROM vrsky_applied_position")).containsExactly(List.of(lsn(201).toString()));
        }
    }

    @Test
    void shouldStreamALargeChunkedTransactionThroughASmallHeap(PostgresServer pg, NatsServer nats) throws Exception {
        int chunks = 400;
        int rows = 1000;
        try (ProducerHarness h = new ProducerHarness(pg, nats, "bigtx")) {
            h.sql("CREATE TABLE big (id int PRIMARY KEY, payload text)");
            h.env("POSTGRES_OUTPUT_TABLES", "big");
            String filler = "x".repeat(150);
            for (int n = 0; n < chunks; n++) {
                Change[] changes = new Change[rows];
                for (int i = 0; i < rows; i++) {
                    int id = n * rows + i;
                    changes[i] = insert("big", lsn(300), row("id", id, "payload", filler + id));
                }
                h.publish(chunk(SOURCE, lsn(300), n, n == chunks - 1, changes));
            }
            // 400,000 rows, ~85 MB of envelopes: more than the whole heap
            try (ProducerProcess process = ProducerProcess.start(h.env(), h.name, "-Xmx64m", "-XX:+ExitOnOutOfMemoryError")) {
                await().atMost(Duration.ofSeconds(120)).until(() -> h.allAcked() || !process.isAlive());
                assertThat(process.isAlive()).as("producer still running").isTrue();
                assertThat(h.count("SELECT count(*) FROM big")).isEqualTo((long) chunks * rows);
                assertThat(process.terminate()).isZero();
            }
        }
    }
}
