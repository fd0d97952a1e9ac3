package io.vrsky.producer;

import io.nats.client.api.MessageInfo;
import io.vrsky.core.model.Envelope;
import io.vrsky.core.model.EnvelopeMetadata;
import io.vrsky.core.nats.CdcHeaders;
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

/**
 * A dead letter published back with {@code Vrsky-Replay} is applied although its position was
 * passed, once per replay id. The sink table has no primary key, so a second application would
 * show as a second row.
 */
@ExtendWith(RealServices.class)
@Timeout(180)
class ReplayIT {

    static final String REPLAY = CdcHeaders.REPLAY;
    private static final String SOURCE = "postgres-consumer/db/slot";

    @Test
    void shouldApplyADeadLetterReplayedAfterTheSinkIsFixedOncePerReplayId(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "replay")) {
            h.sql("CREATE TABLE journal (tx int, qty int CONSTRAINT qty_positive CHECK (qty > 0))");
            h.env("POSTGRES_OUTPUT_TABLES", "journal");
            h.start();
            h.publish(message(SOURCE, insert("journal", lsn(10), row("tx", 10, "qty", 1)),
                    insert("journal", lsn(11), row("tx", 11, "qty", -1))));
            h.publish(message(SOURCE, insert("journal", lsn(12), row("tx", 12, "qty", 1))));
            await().atMost(Duration.ofSeconds(30)).until(() -> h.allAcked() && h.deadLetters().size() == 1);
            MessageInfo letter = h.deadLetters().get(0);

            h.sql("ALTER TABLE journal DROP CONSTRAINT qty_positive");
            String replayId = "VRSKY_DLQ-" + letter.getSeq();
            h.publishBytes(letter.getData(), "replay-1", REPLAY, replayId);
            await().atMost(Duration.ofSeconds(30)).until(() -> h.count("SELECT count(*) FROM journal WHERE tx = 11") == 1);

            // the same replay again, and the original message again without the header: both skipped
            h.publishBytes(letter.getData(), "replay-2", REPLAY, replayId);
            h.publishBytes(letter.getData(), "plain-again");
            h.publish(message(SOURCE, insert("journal", lsn(13), row("tx", 13, "qty", -5))));
            await().atMost(Duration.ofSeconds(30)).until(() -> h.allAcked() && h.count("SELECT count(*) FROM journal WHERE tx = 13") == 1);
            assertThat(h.rows("SELECT tx FROM journal ORDER BY tx")).containsExactly(List.of("10"), List.of("11"), List.of("12"),
                    List.of("13"));
            assertThat(h.rows("SELECT source, commit_lsn::text FROM vrsky_applied_position ORDER BY source"))
                    .containsExactly(List.of(SOURCE, lsn(13).toString()), List.of("replay:" + replayId, lsn(11).toString()));
            assertThat(h.deadLetters()).hasSize(1);
        }
    }

    @Test
    void shouldSkipAMessageRepublishedWithoutTheReplayHeader(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "republish")) {
            h.sql("CREATE TABLE journal (tx int, qty int)");
            h.env("POSTGRES_OUTPUT_TABLES", "journal");
            h.start();
            Envelope original = message(SOURCE, insert("journal", lsn(10), row("tx", 10, "qty", 1)));
            h.publish(original);
            await().atMost(Duration.ofSeconds(30)).until(h::allAcked);
            h.publishBytes(h.codec.encode(original), "again");
            h.publish(message(SOURCE, insert("journal", lsn(11), row("tx", 11, "qty", 1))));
            await().atMost(Duration.ofSeconds(30)).until(() -> h.allAcked() && h.count("SELECT count(*) FROM journal WHERE tx = 11") == 1);
            assertThat(h.rows("SELECT tx FROM journal ORDER BY tx")).containsExactly(List.of("10"), List.of("11"));
        }
    }

    @Test
    void shouldApplyAChunkedReplayOncePerReplayId(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "chunkreplay")) {
            h.sql("CREATE TABLE journal (tx int, qty int CONSTRAINT qty_positive CHECK (qty > 0))");
            h.env("POSTGRES_OUTPUT_TABLES", "journal");
            h.start();
            h.publish(chunk(SOURCE, lsn(20), 0, false, insert("journal", lsn(20), row("tx", 1, "qty", 1))));
            h.publish(chunk(SOURCE, lsn(20), 1, true, insert("journal", lsn(20), row("tx", 2, "qty", -1))));
            await().atMost(Duration.ofSeconds(30)).until(() -> h.allAcked() && h.deadLetters().size() == 1);
            Envelope dead = h.envelopeOf(h.deadLetters().get(0));
            assertThat(dead.changes()).hasSize(2);

            h.sql("ALTER TABLE journal DROP CONSTRAINT qty_positive");
            // published back in two parts, as a dead letter too large for one message is
            String replayId = "VRSKY_DLQ-7:part";
            for (int round = 0; round < 2; round++) {
                for (int part = 0; part < 2; part++) {
                    EnvelopeMetadata m = dead.metadata();
                    Envelope piece = new Envelope(dead.id() + part, dead.type(), dead.source(), dead.time(),
                            new EnvelopeMetadata(m.txId(), m.commitLsn(), m.commitTime(), part, part == 1, 1, 1, m.error()),
                            List.of(dead.changes().get(part)));
                    h.publishBytes(h.codec.encode(piece), "replay-" + round + "-" + part, REPLAY, replayId);
                }
            }
            h.publish(message(SOURCE, insert("journal", lsn(21), row("tx", 3, "qty", 1))));
            await().atMost(Duration.ofSeconds(30)).until(() -> h.allAcked() && h.count("SELECT count(*) FROM journal WHERE tx = 3") == 1);
            assertThat(h.rows("SELECT tx FROM journal ORDER BY tx")).containsExactly(List.of("1"), List.of("2"), List.of("3"));
            assertThat(h.deadLetters()).hasSize(1);
        }
    }

    @Test
    void shouldApplyAReplayHeldBackBehindAChunkedTransactionOfItsSource(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "parkedreplay")) {
            h.sql("CREATE TABLE journal (tx int, qty int)");
            h.env("POSTGRES_OUTPUT_TABLES", "journal");
            h.start();
            h.publish(message(SOURCE, insert("journal", lsn(10), row("tx", 10, "qty", 1))));
            await().atMost(Duration.ofSeconds(30)).until(h::allAcked);

            // the replay arrives between the chunks of an open transaction: it is held back and read from the stream later
            h.publish(chunk(SOURCE, lsn(30), 0, false, insert("journal", lsn(30), row("tx", 30, "qty", 1))));
            h.publish(message(SOURCE, insert("journal", lsn(10), row("tx", 99, "qty", 1))), REPLAY, "held-back-1");
            h.publish(chunk(SOURCE, lsn(30), 1, true, insert("journal", lsn(30), row("tx", 31, "qty", 1))));

            await().atMost(Duration.ofSeconds(30)).until(() -> h.allAcked() && h.count("SELECT count(*) FROM journal") >= 4);
            assertThat(h.rows("SELECT tx FROM journal ORDER BY tx")).containsExactly(List.of("10"), List.of("30"), List.of("31"),
                    List.of("99"));
        }
    }
}
