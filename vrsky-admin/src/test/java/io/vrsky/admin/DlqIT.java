package io.vrsky.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nats.client.api.ConsumerInfo;
import io.vrsky.core.nats.DeadLetterPublisher.ErrorClass;
import io.vrsky.testing.JarProcess;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Dead letters made by the real producer (its shaded jar), listed, shown, replayed into it and
 * purged with vrsky-admin.
 */
@ExtendWith(RealServices.class)
@Timeout(240)
class DlqIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SOURCE = "postgres-consumer/shop/vrsky_shop";

    @Test
    void shouldListAndShowADeadLetterWithANonAsciiErrorAndApplyItsReplayExactlyOnce(PostgresServer pg, NatsServer nats)
            throws Exception {
        try (World w = new World(pg, nats, "dlqreplay")) {
            w.createStream(Duration.ofMinutes(2));
            w.sql(w.sink, Journal.CREATE, "ALTER TABLE journal ADD CONSTRAINT prüfung_qty CHECK (qty > 0)");
            try (JarProcess producer = startProducer(w)) {
                // a duplicate window of one second (the producer raised it at start): a second replay is stored, and only the
                // producer's replay check stops it
                w.duplicateWindow(Duration.ofSeconds(1));
                w.publishCdc(Journal.envelope(SOURCE, 10, "0/10", 0, true, new Journal.Row(10, 1, "ok")), "0/10", 10, 0, true);
                w.publishCdc(Journal.envelope(SOURCE, 11, "0/11", 0, true, new Journal.Row(11, -1, "größer als null")), "0/11", 11, 0, true);
                w.publishCdc(Journal.envelope(SOURCE, 12, "0/12", 0, true, new Journal.Row(12, 1, "ok")), "0/12", 12, 0, true);
                await().atMost(Duration.ofSeconds(60)).until(() -> w.deadLetterSeqs().size() == 1 && allAcked(w, 3));
                long seq = w.deadLetterSeqs().get(0);

                AdminRun list = AdminRun.run(w.natsEnv(), "dlq", "list");
                assertThat(list.exit()).as(list.toString()).isZero();
                assertThat(list.out()).containsPattern("(?m)^" + seq + "\\s+\\S+Z\\s+" + w.dlqSubject.replace(".", "\\.")
                        + "\\s+sql\\s+23514\\s+11\\s+0/11\\s+new row for relation \"journal\" violates check constraint \"prüfung_qty\"$");
                JsonNode listed = JSON.readTree(AdminRun.run(w.natsEnv(), "dlq", "list", "--json").out());
                assertThat(listed.path("total").asLong()).isEqualTo(1);
                assertThat(listed.path("deadLetters").get(0).path("error").asText()).contains("\"prüfung_qty\"");
                assertThat(listed.path("deadLetters").get(0).path("sourceSubject").asText()).isEqualTo(w.subject);

                AdminRun show = AdminRun.run(w.natsEnv(), "dlq", "show", Long.toString(seq));
                assertThat(show.exit()).as(show.toString()).isZero();
                assertThat(show.out()).contains("Vrsky-Error: new row for relation \"journal\" violates check constraint \"prüfung_qty\"")
                        .contains("Vrsky-Sql-State: 23514").contains("Vrsky-Tx-Id: 11").contains("Vrsky-Source-Subject: " + w.subject)
                        .contains("an envelope of 1 change").contains("\"note\" : \"größer als null\"")
                        .contains("\"constraint\" : \"prüfung_qty\"");
                JsonNode shown = JSON.readTree(AdminRun.run(w.natsEnv(), "dlq", "show", "--json", Long.toString(seq)).out());
                assertThat(shown.path("headers").path("Vrsky-Error").get(0).asText()).contains("pr\\u00fcfung_qty");
                assertThat(shown.path("body").path("payload").path("changes").get(0).path("after").path("qty").asInt()).isEqualTo(-1);
                AdminRun missing = AdminRun.run(w.natsEnv(), "dlq", "show", "999999999");
                assertThat(missing.exit()).isEqualTo(4);
                assertThat(missing.err().strip()).isEqualTo("no dead letter 999999999 in VRSKY_DLQ");

                w.sql(w.sink, "ALTER TABLE journal DROP CONSTRAINT prüfung_qty");
                AdminRun replay = AdminRun.run(w.natsEnv(), "dlq", "replay", Long.toString(seq));
                assertThat(replay.exit()).as(replay.toString()).isZero();
                assertThat(replay.out().strip()).isEqualTo("replayed dead letter " + seq + " as VRSKY_DLQ-" + seq + " to " + w.subject
                        + " (stream sequence 4)");
                await().atMost(Duration.ofSeconds(30)).until(() -> w.count(w.sink, "SELECT count(*) FROM journal WHERE tx = 11") == 1
                        && allAcked(w, 4));

                // the same replay again, once the stream's duplicate window has passed: stored, and skipped by the producer
                await().atMost(Duration.ofSeconds(30)).until(() -> AdminRun.run(w.natsEnv(), "dlq", "replay", Long.toString(seq)).out()
                        .startsWith("replayed dead letter " + seq));
                await().atMost(Duration.ofSeconds(30)).until(() -> allAcked(w, w.nats.jetStreamManagement().getStreamInfo(w.stream)
                        .getStreamState().getLastSequence()));
                assertThat(w.count(w.sink, "SELECT count(*) FROM journal WHERE tx = 11")).isEqualTo(1);
                assertThat(w.count(w.sink, "SELECT count(*) FROM journal")).isEqualTo(3);
                assertThat(w.count(w.sink, "SELECT count(*) FROM vrsky_applied_position WHERE source = 'replay:VRSKY_DLQ-" + seq + "'"))
                        .isEqualTo(1);
                assertThat(w.deadLetterSeqs()).containsExactly(seq);

                // with the sink configured, vrsky-admin sees that the producer would skip it and says so
                AdminRun again = AdminRun.run(World.with(w.natsEnv(), "POSTGRES_OUTPUT_HOST", pg.host(), "POSTGRES_OUTPUT_PORT",
                        Integer.toString(pg.port()), "POSTGRES_OUTPUT_USER", pg.user(), "POSTGRES_OUTPUT_PASSWORD", pg.password(),
                        "POSTGRES_OUTPUT_DATABASE", w.sink, "POSTGRES_OUTPUT_SSLMODE", "disable"), "dlq", "replay", Long.toString(seq));
                assertThat(again.exit()).as(again.toString()).isEqualTo(1);
                assertThat(again.err()).startsWith("dead letter " + seq + " was replayed as VRSKY_DLQ-" + seq + " already")
                        .contains("nothing replayed");
                assertThat(producer.isAlive()).isTrue();
            }
        }
    }

    @Test
    void shouldReplayTheParsOfATransactionDeadLetteredInSeveralMessagesTogetherInOrder(PostgresServer pg, NatsServer nats)
            throws Exception {
        try (World w = new World(pg, nats, "dlqparts")) {
            w.createStream(Duration.ofMinutes(2));
            w.sql(w.sink, Journal.CREATE, "ALTER TABLE journal ADD CONSTRAINT qty_positive CHECK (qty > 0)");
            try (JarProcess producer = startProducer(w)) {
                // a chunked source transaction of 4 chunks of ~400 KB: its dead letter does not fit one message
                String big = "x".repeat(100_000);
                for (int chunk = 0; chunk < 4; chunk++) {
                    Journal.Row[] rows = new Journal.Row[4];
                    for (int i = 0; i < 4; i++) {
                        int tx = chunk * 4 + i;
                        rows[i] = new Journal.Row(tx, tx == 14 ? -1 : 1, big);
                    }
                    w.publishCdc(Journal.envelope(SOURCE, 20, "0/20", chunk, chunk == 3, rows), "0/20", 20, chunk, chunk == 3);
                }
                await().atMost(Duration.ofSeconds(60)).until(() -> allAcked(w, 4) && w.deadLetterSeqs().size() >= 2);
                List<Long> parts = w.deadLetterSeqs();
                assertThat(parts).hasSize(2);

                w.sql(w.sink, "ALTER TABLE journal DROP CONSTRAINT qty_positive");
                // naming the second part replays the whole transaction, from its first part
                AdminRun replay = AdminRun.run(w.natsEnv(), "dlq", "replay", Long.toString(parts.get(1)));
                assertThat(replay.exit()).as(replay.toString()).isZero();
                assertThat(replay.out().strip()).isEqualTo("replayed dead letter " + parts.get(0) + " (2 parts: " + parts.get(0) + ", "
                        + parts.get(1) + ") as VRSKY_DLQ-" + parts.get(0) + " to " + w.subject + " (stream sequences 5, 6)");
                await().atMost(Duration.ofSeconds(60)).until(() -> w.count(w.sink, "SELECT count(*) FROM journal") == 16 && allAcked(w, 6));
                assertThat(w.count(w.sink, "SELECT count(DISTINCT tx) FROM journal")).isEqualTo(16);
                assertThat(w.text(w.sink, "SELECT chunk FROM vrsky_applied_position WHERE source = 'replay:VRSKY_DLQ-" + parts.get(0) + "'"))
                        .isEqualTo("1");
                assertThat(producer.isAlive()).isTrue();
            }
        }
    }

    @Test
    void shouldRefuseToReplayADeadLetterThatHoldsNoEnvelopeAndShowItsBytes(PostgresServer pg, NatsServer nats) throws Exception {
        try (World w = new World(pg, nats, "dlqraw")) {
            w.createStream(Duration.ofMinutes(2));
            long raw = w.deadLetter(new byte[] {'I', 0, 0, 0x40, 0x01, (byte) 0xff}, "cannot convert column note (text)",
                    ErrorClass.DECODE, null);
            AdminRun replay = AdminRun.run(w.natsEnv(), "dlq", "replay", Long.toString(raw));
            assertThat(replay.exit()).as(replay.toString()).isEqualTo(1);
            assertThat(replay.err()).contains("dead letter " + raw + " (class decode) holds no envelope").contains("nothing replayed");
            assertThat(w.nats.jetStreamManagement().getStreamInfo(w.stream).getStreamState().getMsgCount()).isZero();
            AdminRun show = AdminRun.run(w.natsEnv(), "dlq", "show", Long.toString(raw));
            assertThat(show.out()).contains("body (6 bytes, binary, hex):").contains("49000040 01ff".replace(" ", ""));
        }
    }

    @Test
    void shouldReplayAnEditedCopyAsAReplayOfItsOwn(PostgresServer pg, NatsServer nats) throws Exception {
        try (World w = new World(pg, nats, "dlqedit")) {
            w.createStream(Duration.ofMinutes(2));
            w.sql(w.sink, Journal.CREATE, "ALTER TABLE journal ADD CONSTRAINT qty_positive CHECK (qty > 0)");
            try (JarProcess producer = startProducer(w)) {
                w.publishCdc(Journal.envelope(SOURCE, 30, "0/30", 0, true, new Journal.Row(30, -3, "negative")), "0/30", 30, 0, true);
                await().atMost(Duration.ofSeconds(60)).until(() -> w.deadLetterSeqs().size() == 1 && allAcked(w, 1));
                long seq = w.deadLetterSeqs().get(0);
                String body = AdminRun.run(w.natsEnv(), "dlq", "show", "--body", Long.toString(seq)).out();
                Path edited = Files.createTempFile("dead-letter-", ".json");
                Files.writeString(edited, body.replace("\"qty\" : -3", "\"qty\" : 3"), StandardCharsets.UTF_8);
                Path broken = Files.createTempFile("dead-letter-", ".json");
                Files.writeString(broken, "{\"payload\": 1}", StandardCharsets.UTF_8);
                try {
                    AdminRun bad = AdminRun.run(w.natsEnv(), "dlq", "replay", Long.toString(seq), "--edit", broken.toString());
                    assertThat(bad.exit()).as(bad.toString()).isEqualTo(2);
                    assertThat(bad.err()).contains("is not an envelope the producer can read");

                    AdminRun replay = AdminRun.run(w.natsEnv(), "dlq", "replay", Long.toString(seq), "--edit", edited.toString());
                    assertThat(replay.exit()).as(replay.toString()).isZero();
                    assertThat(replay.out()).containsPattern("replayed dead letter " + seq + " as VRSKY_DLQ-" + seq + "\\.edit-[0-9a-f]{12} to ");
                    await().atMost(Duration.ofSeconds(30)).until(() -> w.count(w.sink, "SELECT count(*) FROM journal WHERE tx = 30 AND qty = 3") == 1
                            && allAcked(w, 2));
                } finally {
                    Files.deleteIfExists(edited);
                    Files.deleteIfExists(broken);
                }
                assertThat(producer.isAlive()).isTrue();
            }
        }
    }

    @Test
    void shouldPurgeOnlyWithYesAndListWhatWouldGoWithoutIt(PostgresServer pg, NatsServer nats) throws Exception {
        try (World w = new World(pg, nats, "dlqpurge")) {
            byte[] body = Journal.envelope(SOURCE, 40, "0/40", 0, true, new Journal.Row(40, -1, "x")).getBytes(StandardCharsets.UTF_8);
            long first = w.deadLetter(body, "violates check constraint \"größe\"", ErrorClass.SQL, "23514");
            long second = w.deadLetter(body, "another", ErrorClass.VALIDATION, null);

            AdminRun dry = AdminRun.run(w.natsEnv(), "dlq", "purge", Long.toString(first));
            assertThat(dry.exit()).as(dry.toString()).isEqualTo(1);
            assertThat(dry.out()).contains("violates check constraint \"größe\"")
                    .contains("would delete 1 dead letter from VRSKY_DLQ; nothing deleted: add --yes to delete");
            assertThat(w.deadLetterSeqs()).containsExactly(first, second);

            AdminRun one = AdminRun.run(w.natsEnv(), "dlq", "purge", Long.toString(first), "--yes");
            assertThat(one.exit()).as(one.toString()).isZero();
            assertThat(w.deadLetterSeqs()).containsExactly(second);
            assertThat(AdminRun.run(w.natsEnv(), "dlq", "purge", Long.toString(first), "--yes").exit()).isEqualTo(4);

            AdminRun allDry = AdminRun.run(w.natsEnv(), "dlq", "purge", "--all");
            assertThat(allDry.exit()).isEqualTo(1);
            assertThat(allDry.out()).contains("another").contains("would delete 1 dead letter");
            assertThat(w.deadLetterSeqs()).containsExactly(second);

            AdminRun all = AdminRun.run(w.natsEnv(), "dlq", "purge", "--all", "--yes");
            assertThat(all.exit()).as(all.toString()).isZero();
            assertThat(all.out().strip()).isEqualTo("deleted 1 dead letter on " + w.dlqSubject + " from VRSKY_DLQ");
            assertThat(w.deadLetterSeqs()).isEmpty();
            assertThat(AdminRun.run(w.natsEnv(), "dlq", "list").out().strip()).isEqualTo("no dead letters on " + w.dlqSubject);
        }
    }

    private static JarProcess startProducer(World w) throws Exception {
        Path jar = Path.of(System.getProperty("basedir", System.getProperty("user.dir")))
                .resolve("../postgres-producer/target/postgres-producer.jar").normalize();
        assertThat(jar).as("the producer jar (built before this module by the reactor)").isRegularFile();
        JarProcess producer = JarProcess.start(jar, w.producerEnv("public.journal"), "producer-" + w.name, "-Xmx256m");
        await().atMost(Duration.ofSeconds(60)).until(() -> producer.http("/health/ready").map(r -> r.statusCode() == 200)
                .orElse(false));
        return producer;
    }

    private static boolean allAcked(World w, long lastSeq) throws Exception {
        ConsumerInfo info = w.durableInfo();
        return info.getNumPending() == 0 && info.getNumAckPending() == 0 && info.getAckFloor().getStreamSequence() >= lastSeq;
    }
}
