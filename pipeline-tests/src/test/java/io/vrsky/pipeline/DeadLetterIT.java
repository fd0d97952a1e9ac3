package io.vrsky.pipeline;

import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.api.MessageInfo;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Bad input goes to the dead-letter stream with its error, and the line keeps moving (invariant 6). */
@ExtendWith(RealServices.class)
class DeadLetterIT {

    private static final String KV = "CREATE TABLE kv (k int PRIMARY KEY, v text NOT NULL)";

    @Test
    @Timeout(120)
    void shouldDeadLetterAnUnparseableMessageAndKeepApplying(PostgresServer pg, NatsServer nats, TestInfo info) throws Exception {
        try (Pipeline p = Pipeline.create(pg, nats, info, KV).start()) {
            p.execSource("INSERT INTO kv VALUES (1, 'before')");
            p.awaitInSync();
            Connection nc = p.natsConnection();
            byte[] garbage = "{this is not an envelope".getBytes(StandardCharsets.UTF_8);
            nc.jetStream().publish(NatsMessage.builder().subject(p.subject).data(garbage).build());

            MessageInfo dead = awaitDeadLetter(nc, p);
            assertThat(dead.getData()).isEqualTo(garbage);
            assertThat(dead.getHeaders().getFirst("Vrsky-Error-Class")).isEqualTo("decode");
            assertThat(dead.getHeaders().getFirst("Vrsky-Error")).isNotBlank();
            assertThat(dead.getHeaders().getFirst("Vrsky-Source-Subject")).isEqualTo(p.subject);

            p.execSource("INSERT INTO kv VALUES (2, 'after')");
            p.awaitInSync();
        }
    }

    @Test
    @Timeout(120)
    void shouldDeadLetterAChangeForATableOutsideTheWhitelist(PostgresServer pg, NatsServer nats, TestInfo info) throws Exception {
        try (Pipeline p = Pipeline.create(pg, nats, info, KV).start()) {
            Connection nc = p.natsConnection();
            String envelope = "{\"id\":\"5d0f4a52-7f7e-4c1e-9d51-000000000001\",\"type\":\"vrsky.cdc.transaction\","
                    + "\"source\":\"another-component\",\"time\":\"2026-02-17T10:00:00Z\","
                    + "\"payload\":{\"changes\":[{\"op\":\"INSERT\",\"schema\":\"public\",\"table\":\"kv; DROP TABLE kv; --\","
                    + "\"after\":{\"k\":9,\"v\":\"x\"}}]}}";
            Headers h = new Headers().put("Nats-Msg-Id", "bad-" + p.id);
            nc.jetStream().publish(NatsMessage.builder().subject(p.subject).headers(h)
                    .data(envelope.getBytes(StandardCharsets.UTF_8)).build());
            MessageInfo dead = awaitDeadLetter(nc, p);
            assertThat(dead.getHeaders().getFirst("Vrsky-Error-Class")).isIn("validation", "decode");

            p.execSource("INSERT INTO kv VALUES (1, 'still flowing')");
            p.awaitInSync();
            assertThat(Pipeline.count(p.sink(), "kv")).isEqualTo(1);
        }
    }

    @Test
    @Timeout(180)
    void shouldApplyTheTransactionsPackedWithOneTheSinkRefusesAndDeadLetterOnlyThatOne(PostgresServer pg, NatsServer nats,
                                                                                        TestInfo info) throws Exception {
        try (Pipeline p = Pipeline.create(pg, nats, info, KV).start()) {
            try (java.sql.Statement sink = p.sink().createStatement()) {
                sink.execute("ALTER TABLE kv ADD CONSTRAINT no_poison CHECK (v <> 'poison')");
            }
            p.execSource("INSERT INTO kv VALUES (1, 'before')");
            p.awaitInSync();

            // a backlog while the consumer is stopped: on restart it packs the transactions into one message
            p.consumer().stop();
            p.execSource("INSERT INTO kv VALUES (2, 'a')");
            p.execSource("INSERT INTO kv VALUES (3, 'poison')");
            p.execSource("INSERT INTO kv VALUES (4, 'b')");
            p.consumer().startAndAwaitReady();

            Connection nc = p.natsConnection();
            MessageInfo dead = awaitDeadLetter(nc, p);
            assertThat(dead.getHeaders().getFirst("Vrsky-Error-Class")).isEqualTo("sql");
            assertThat(dead.getHeaders().getFirst("Vrsky-Sql-State")).isEqualTo("23514");
            assertThat(dead.getHeaders().getFirst("Vrsky-Tx-Id")).isNotBlank();
            String body = new String(dead.getData(), StandardCharsets.UTF_8);
            assertThat(body).contains("\"k\":3", "\"constraint\":\"no_poison\"").doesNotContain("\"k\":2", "\"k\":4");

            // the message that held it packed more than one transaction
            long seq = Long.parseLong(dead.getHeaders().getFirst("Vrsky-Source-Sequence"));
            String packed = new String(nc.jetStreamManagement().getMessage(p.stream, seq).getData(), StandardCharsets.UTF_8);
            java.util.regex.Matcher count = java.util.regex.Pattern.compile("\"transactionCount\":(\\d+)").matcher(packed);
            assertThat(count.find()).isTrue();
            assertThat(Integer.parseInt(count.group(1))).isGreaterThan(1);

            await().atMost(Duration.ofSeconds(30)).until(() -> Pipeline.count(p.sink(), "kv") == 3);
            assertThat(p.rows(p.sink(), "kv")).hasSize(3);
            assertThat(Pipeline.scalar(p.sink(), "SELECT string_agg(k::text, ',' ORDER BY k) FROM kv")).isEqualTo("1,2,4");
        }
    }

    private static MessageInfo awaitDeadLetter(Connection nc, Pipeline p) {
        AtomicReference<MessageInfo> found = new AtomicReference<>();
        await("a dead letter on " + p.dlqSubject).atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> {
                    try {
                        found.set(nc.jetStreamManagement().getLastMessage("VRSKY_DLQ", p.dlqSubject));
                        return true;
                    } catch (JetStreamApiException e) {
                        return false;
                    }
                });
        return found.get();
    }
}
