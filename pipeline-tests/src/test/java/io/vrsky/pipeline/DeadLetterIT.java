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
