package io.vrsky.producer;

import io.nats.client.api.MessageInfo;
import io.vrsky.core.model.Change;
import io.vrsky.core.model.Envelope;
import io.vrsky.core.model.ErrorReport;
import io.vrsky.core.nats.CdcHeaders;
import io.vrsky.core.nats.DeadLetterHeaders;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static io.vrsky.producer.Envelopes.chunk;
import static io.vrsky.producer.Envelopes.insert;
import static io.vrsky.producer.Envelopes.lsn;
import static io.vrsky.producer.Envelopes.message;
import static io.vrsky.producer.Envelopes.oversized;
import static io.vrsky.producer.Envelopes.row;
import static io.vrsky.producer.Envelopes.update;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The unit of isolation and of a dead letter is one source transaction: a message packs several,
 * and one that cannot be applied is dead-lettered alone (an envelope of only its changes) while
 * the others are applied.
 */
@ExtendWith(RealServices.class)
@Timeout(180)
class TransactionIsolationIT {

    private static final String SOURCE = "postgres-consumer/db/slot";

    @Test
    void shouldDeadLetterOnlyThePackedTransactionThatViolatesASinkOnlyCheck(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "packcheck")) {
            h.sql("CREATE TABLE items (id int PRIMARY KEY, qty int CONSTRAINT qty_positive CHECK (qty > 0))");
            h.env("POSTGRES_OUTPUT_TABLES", "items");
            Envelope packed = message(SOURCE,
                    insert("items", lsn(10), row("id", 1, "qty", 1)),
                    insert("items", lsn(10), row("id", 2, "qty", 2)),
                    insert("items", lsn(11), row("id", 3, "qty", 3)),
                    insert("items", lsn(11), row("id", 4, "qty", -4)),
                    insert("items", lsn(12), row("id", 5, "qty", 5)));
            long seq = h.publish(packed);
            h.start();

            await().atMost(Duration.ofSeconds(30)).until(h::allAcked);
            assertThat(h.rows("SELECT id FROM items ORDER BY id")).containsExactly(List.of("1"), List.of("2"), List.of("5"));
            List<MessageInfo> dead = h.deadLetters();
            assertThat(dead).hasSize(1);
            MessageInfo letter = dead.get(0);
            assertThat(letter.getHeaders().getFirst(DeadLetterHeaders.ERROR_CLASS)).isEqualTo("sql");
            assertThat(letter.getHeaders().getFirst(DeadLetterHeaders.SQL_STATE)).isEqualTo("23514");
            assertThat(letter.getHeaders().getFirst(CdcHeaders.TX_ID)).isEqualTo("11");
            assertThat(letter.getHeaders().getFirst(CdcHeaders.COMMIT_LSN)).isEqualTo(lsn(11).toString());
            assertThat(letter.getHeaders().getFirst(DeadLetterHeaders.SOURCE_SEQUENCE)).isEqualTo(Long.toString(seq));
            assertThat(letter.getHeaders().getFirst(CdcHeaders.MSG_ID)).isEqualTo("dlq:" + h.durable + ":" + seq + ":" + lsn(11));
            assertThat(letter.getHeaders().getFirst(DeadLetterHeaders.ERROR)).contains("qty_positive").doesNotContain("-4");

            Envelope body = h.envelopeOf(letter);
            assertThat(body.id()).isNotEqualTo(packed.id());
            assertThat(body.source()).isEqualTo(SOURCE);
            assertThat(body.changes()).extracting(c -> c.after().get("id").intValue()).containsExactly(3, 4);
            assertThat(body.metadata().txId()).isEqualTo(11L);
            assertThat(body.metadata().commitLsn()).isEqualTo(lsn(11));
            assertThat(body.metadata().transactionCount()).isEqualTo(1);
            assertThat(body.metadata().changeCount()).isEqualTo(2);
            ErrorReport error = body.metadata().error();
            assertThat(error.errorClass()).isEqualTo("sql");
            assertThat(error.sqlState()).isEqualTo("23514");
            assertThat(error.constraint()).isEqualTo("qty_positive");
            assertThat(error.table()).isEqualTo("items");
            assertThat(error.message()).doesNotContain("-4");
            assertThat(h.rows("SELECT commit_lsn::text FROM vrsky_applied_position")).containsExactly(List.of(lsn(12).toString()));
        }
    }

    @Test
    void shouldDeadLetterOnlyThePackedTransactionWithATypeError(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "packtype")) {
            h.sql("CREATE TABLE items (id int PRIMARY KEY, qty int)");
            h.env("POSTGRES_OUTPUT_TABLES", "items");
            h.publish(message(SOURCE,
                    insert("items", lsn(10), row("id", 1, "qty", 1)),
                    insert("items", lsn(11), row("id", 2, "qty", "two")),
                    insert("items", lsn(12), row("id", 3, "qty", 3))));
            h.start();

            await().atMost(Duration.ofSeconds(30)).until(h::allAcked);
            assertThat(h.rows("SELECT id FROM items ORDER BY id")).containsExactly(List.of("1"), List.of("3"));
            List<MessageInfo> dead = h.deadLetters();
            assertThat(dead).hasSize(1);
            assertThat(dead.get(0).getHeaders().getFirst(DeadLetterHeaders.SQL_STATE)).isEqualTo("22P02");
            assertThat(dead.get(0).getHeaders().getFirst(CdcHeaders.TX_ID)).isEqualTo("11");
            assertThat(h.envelopeOf(dead.get(0)).changes()).hasSize(1);
        }
    }

    @Test
    void shouldDeadLetterOnlyThePackedTransactionThatFailsValidation(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "packvalid")) {
            h.sql("CREATE TABLE items (id int PRIMARY KEY, qty int)", "CREATE TABLE secret (id int PRIMARY KEY)");
            h.env("POSTGRES_OUTPUT_TABLES", "items");
            h.publish(message(SOURCE,
                    insert("items", lsn(10), row("id", 1, "qty", 1)),
                    insert("secret", lsn(11), row("id", 2)),
                    insert("items", lsn(11), row("id", 2, "qty", 2)),
                    insert("items", lsn(12), row("id", 3, "qty", 3))));
            h.start();

            await().atMost(Duration.ofSeconds(30)).until(h::allAcked);
            assertThat(h.rows("SELECT id FROM items ORDER BY id")).containsExactly(List.of("1"), List.of("3"));
            assertThat(h.count("SELECT count(*) FROM secret")).isZero();
            List<MessageInfo> dead = h.deadLetters();
            assertThat(dead).hasSize(1);
            assertThat(dead.get(0).getHeaders().getFirst(DeadLetterHeaders.ERROR_CLASS)).isEqualTo("validation");
            assertThat(dead.get(0).getHeaders().getFirst(DeadLetterHeaders.ERROR)).contains("public.secret");
            assertThat(h.envelopeOf(dead.get(0)).changes()).hasSize(2);
        }
    }

    @Test
    void shouldIsolateADeferredConstraintThatFailsAtCommitAndKeepRunning(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "deferred")) {
            h.sql("CREATE TABLE accounts (id int PRIMARY KEY, code text, CONSTRAINT code_unique UNIQUE (code) DEFERRABLE INITIALLY DEFERRED)",
                    "INSERT INTO accounts VALUES (1, 'taken')");
            h.env("POSTGRES_OUTPUT_TABLES", "accounts");
            h.publish(message(SOURCE, insert("accounts", lsn(10), row("id", 10, "code", "a"))));
            h.publish(message(SOURCE,
                    insert("accounts", lsn(11), row("id", 11, "code", "b")),
                    insert("accounts", lsn(12), row("id", 12, "code", "taken")),
                    insert("accounts", lsn(13), row("id", 13, "code", "c"))));
            h.publish(message(SOURCE, insert("accounts", lsn(14), row("id", 14, "code", "d"))));
            ProducerService service = h.start();

            await().atMost(Duration.ofSeconds(30)).until(h::allAcked);
            assertThat(h.rows("SELECT id FROM accounts ORDER BY id"))
                    .containsExactly(List.of("1"), List.of("10"), List.of("11"), List.of("13"), List.of("14"));
            List<MessageInfo> dead = h.deadLetters();
            assertThat(dead).hasSize(1);
            assertThat(dead.get(0).getHeaders().getFirst(DeadLetterHeaders.SQL_STATE)).isEqualTo("23505");
            assertThat(dead.get(0).getHeaders().getFirst(CdcHeaders.TX_ID)).isEqualTo("12");
            assertThat(h.envelopeOf(dead.get(0)).metadata().error().constraint()).isEqualTo("code_unique");

            // still running: the next message is applied too
            h.publish(message(SOURCE, insert("accounts", lsn(15), row("id", 15, "code", "e"))));
            await().atMost(Duration.ofSeconds(30)).until(() -> h.count("SELECT count(*) FROM accounts WHERE id = 15") == 1);
            assertThat(service.isClosed()).isFalse();
            assertThat(h.rows("SELECT commit_lsn::text FROM vrsky_applied_position")).containsExactly(List.of(lsn(15).toString()));
        }
    }

    @Test
    void shouldDeadLetterAChunkedTransactionPoisonedInALaterChunkAsOneEnvelopeOfAllItsChanges(PostgresServer pg, NatsServer nats)
            throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "chunkpoison")) {
            h.sql("CREATE TABLE items (id int PRIMARY KEY, qty int CHECK (qty > 0))");
            h.env("POSTGRES_OUTPUT_TABLES", "items");
            h.start();
            long first = h.publish(chunk(SOURCE, lsn(20), 0, false, insert("items", lsn(20), row("id", 1, "qty", 1)),
                    insert("items", lsn(20), row("id", 2, "qty", 2))));
            h.publish(chunk(SOURCE, lsn(20), 1, false, insert("items", lsn(20), row("id", 3, "qty", 3))));
            h.publish(chunk(SOURCE, lsn(20), 2, true, insert("items", lsn(20), row("id", 4, "qty", -4))));
            h.publish(message(SOURCE, insert("items", lsn(21), row("id", 5, "qty", 5))));

            await().atMost(Duration.ofSeconds(30)).until(h::allAcked);
            assertThat(h.rows("SELECT id FROM items ORDER BY id")).containsExactly(List.of("5"));
            List<MessageInfo> dead = h.deadLetters();
            assertThat(dead).hasSize(1);
            Envelope body = h.envelopeOf(dead.get(0));
            assertThat(body.changes()).extracting(c -> c.after().get("id").intValue()).containsExactly(1, 2, 3, 4);
            assertThat(body.metadata().chunk()).isZero();
            assertThat(body.metadata().lastChunk()).isTrue();
            assertThat(dead.get(0).getHeaders().getFirst(DeadLetterHeaders.SOURCE_SEQUENCE)).isEqualTo(Long.toString(first));
            assertThat(dead.get(0).getHeaders().getFirst(CdcHeaders.COMMIT_LSN)).isEqualTo(lsn(20).toString());
        }
    }

    @Test
    void shouldDeadLetterTheWholeTransactionOfAnOversizedPlaceholder(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "oversized")) {
            h.sql("CREATE TABLE docs (id int PRIMARY KEY, body text)");
            h.env("POSTGRES_OUTPUT_TABLES", "docs");
            h.publish(message(SOURCE,
                    insert("docs", lsn(30), row("id", 1, "body", "small")),
                    insert("docs", lsn(31), row("id", 2, "body", "small too")),
                    oversized("docs", lsn(31), row("id", 3), 5_000_000),
                    insert("docs", lsn(32), row("id", 4, "body", "after"))));
            h.start();

            await().atMost(Duration.ofSeconds(30)).until(h::allAcked);
            assertThat(h.rows("SELECT id FROM docs ORDER BY id")).containsExactly(List.of("1"), List.of("4"));
            List<MessageInfo> dead = h.deadLetters();
            assertThat(dead).hasSize(1);
            assertThat(dead.get(0).getHeaders().getFirst(DeadLetterHeaders.ERROR_CLASS)).isEqualTo("publish");
            assertThat(dead.get(0).getHeaders().getFirst(DeadLetterHeaders.ERROR)).contains("public.docs", "\"id\":3",
                    lsn(31).toString());
            List<Change> changes = h.envelopeOf(dead.get(0)).changes();
            assertThat(changes).hasSize(2);
            assertThat(changes.get(1).oversized()).isNotNull();
        }
    }

    @Test
    void shouldDeadLetterASinkErrorWhoseDetailQuotesNonAsciiTextAndKeepRunning(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "nonascii"); LogCapture logs = new LogCapture()) {
            h.sql("CREATE TABLE notes (id int PRIMARY KEY, t text CONSTRAINT no_world CHECK (t <> '世界'))");
            h.env("POSTGRES_OUTPUT_TABLES", "notes");
            ProducerService service = h.start();
            h.publish(message(SOURCE, insert("notes", lsn(40), row("id", 1, "t", "世界"))));
            h.publish(message(SOURCE, insert("notes", lsn(41), row("id", 2, "t", "hello"))));

            await().atMost(Duration.ofSeconds(30)).until(h::allAcked);
            assertThat(h.rows("SELECT id FROM notes")).containsExactly(List.of("2"));
            List<MessageInfo> dead = h.deadLetters();
            assertThat(dead).hasSize(1);
            assertThat(dead.get(0).getHeaders().getFirst(DeadLetterHeaders.ERROR)).contains("no_world").doesNotContain("世界");
            assertThat(service.isClosed()).isFalse();
            assertThat(logs.lines()).filteredOn(l -> l.startsWith("WARN") || l.startsWith("ERROR")).noneMatch(l -> l.contains("世界"));
        }
    }

    @Test
    void shouldBackOffAndSaySoWhenMostTransactionsOfABatchAreDeadLettered(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "storm"); LogCapture logs = new LogCapture()) {
            h.sql("CREATE TABLE items (id int PRIMARY KEY, qty int CHECK (qty > 0))");
            h.env("POSTGRES_OUTPUT_TABLES", "items");
            List<Change> poison = new ArrayList<>();
            for (int i = 1; i <= 20; i++) {
                poison.add(insert("items", lsn(100 + i), row("id", i, "qty", -i)));
            }
            h.publish(message(SOURCE, poison.toArray(Change[]::new)));
            h.start();

            await().atMost(Duration.ofSeconds(30)).until(() -> h.deadLetters().size() == 20);
            await().atMost(Duration.ofSeconds(10)).until(() -> h.metric("vrsky_producer_poison_storm") == 1.0);
            assertThat(logs.count("WARN", "20 of 20")).isEqualTo(1);
            assertThat(logs.lines()).anyMatch(l -> l.startsWith("WARN") && l.contains("slowing down"));
            // the good transaction comes after the back-off, and the storm is over
            h.publish(message(SOURCE, insert("items", lsn(200), row("id", 100, "qty", 1))));
            await().atMost(Duration.ofSeconds(30)).until(() -> h.count("SELECT count(*) FROM items") == 1);
            await().atMost(Duration.ofSeconds(10)).until(() -> h.metric("vrsky_producer_poison_storm") == 0.0);
        }
    }

    @Test
    void shouldApplyLaterTransactionsOfAMessageAfterAnUpdateFailsInAnEarlierOne(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "packorder")) {
            h.sql("CREATE TABLE items (id int PRIMARY KEY, qty int CHECK (qty > 0))", "INSERT INTO items VALUES (1, 1)");
            h.env("POSTGRES_OUTPUT_TABLES", "items");
            h.publish(message(SOURCE,
                    update("items", lsn(10), row("id", 1), row("id", 1, "qty", -1)),
                    update("items", lsn(11), row("id", 1), row("id", 1, "qty", 7))));
            h.start();

            await().atMost(Duration.ofSeconds(30)).until(h::allAcked);
            assertThat(h.rows("SELECT qty FROM items")).containsExactly(List.of("7"));
            assertThat(h.deadLetters()).hasSize(1);
        }
    }

    @Test
    void shouldDeadLetterAChunkedTransactionTooLargeForOneMessageInSeveralParts(PostgresServer pg, NatsServer nats) throws Exception {
        try (ProducerHarness h = new ProducerHarness(pg, nats, "bigpoison")) {
            h.sql("CREATE TABLE docs (id int PRIMARY KEY, body text CHECK (body NOT LIKE 'bad%'))");
            h.env("POSTGRES_OUTPUT_TABLES", "docs");
            String body = "x".repeat(5_000);
            for (int n = 0; n < 3; n++) {
                List<Change> changes = new ArrayList<>();
                for (int i = 0; i < 100; i++) {
                    int id = n * 100 + i;
                    changes.add(insert("docs", lsn(50), row("id", id, "body", n == 2 && i == 99 ? "bad" + body : body)));
                }
                h.publish(chunk(SOURCE, lsn(50), n, n == 2, changes.toArray(Change[]::new)));
            }
            h.publish(message(SOURCE, insert("docs", lsn(51), row("id", 1000, "body", "after"))));
            h.start();

            await().atMost(Duration.ofSeconds(30)).until(h::allAcked);
            assertThat(h.rows("SELECT id FROM docs")).containsExactly(List.of("1000"));
            List<MessageInfo> dead = h.deadLetters();
            assertThat(dead).hasSizeGreaterThan(1);
            List<Integer> ids = new ArrayList<>();
            for (int part = 0; part < dead.size(); part++) {
                MessageInfo letter = dead.get(part);
                Envelope envelope = h.envelopeOf(letter);
                assertThat(envelope.metadata().chunk()).isEqualTo(part);
                assertThat(envelope.metadata().lastChunk()).isEqualTo(part == dead.size() - 1);
                assertThat(letter.getHeaders().getFirst(CdcHeaders.TX_ID)).isEqualTo("50");
                assertThat(letter.getData().length).isLessThan(1024 * 1024);
                envelope.changes().forEach(c -> ids.add(c.after().get("id").intValue()));
            }
            assertThat(dead).extracting(m -> m.getHeaders().getFirst(CdcHeaders.MSG_ID)).doesNotHaveDuplicates();
            assertThat(ids).hasSize(300).isSorted();
        }
    }
}
