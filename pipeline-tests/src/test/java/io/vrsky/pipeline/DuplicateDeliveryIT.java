package io.vrsky.pipeline;

import io.nats.client.Connection;
import io.nats.client.JetStreamManagement;
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

import java.time.Duration;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** A message delivered again is not applied again (invariant 2). */
@ExtendWith(RealServices.class)
class DuplicateDeliveryIT {

    private static final String KV = "CREATE TABLE kv (k int PRIMARY KEY, v text NOT NULL)";

    @Test
    @Timeout(120)
    void shouldSkipAnOldTransactionRepublishedPastTheDuplicateWindow(PostgresServer pg, NatsServer nats, TestInfo info) throws Exception {
        try (Pipeline p = Pipeline.create(pg, nats, info, KV).start()) {
            p.execSource("INSERT INTO kv VALUES (1, 'first'), (2, 'first')");
            p.awaitInSync();
            p.execSource("UPDATE kv SET v = 'second' WHERE k = 1");
            p.execSource("DELETE FROM kv WHERE k = 2");
            p.awaitInSync();

            Connection nc = p.natsConnection();
            JetStreamManagement jsm = nc.jetStreamManagement();
            long messages = jsm.getStreamInfo(p.stream).getStreamState().getMsgCount();
            assertThat(messages).as("messages in the CDC stream").isGreaterThanOrEqualTo(2);
            // Every message again, in order, as a consumer restarted from an old position would send them,
            for (long seq = 1; seq <= messages; seq++) {
                republish(nc, p, jsm.getMessage(p.stream, seq));
            }
            // then the first one (the INSERT) once more, last. Under a new Nats-Msg-Id JetStream cannot
            // spot the copies: only the producer's applied-position check stands between them and a
            // sink that goes back to 'first' and resurrects k = 2.
            republish(nc, p, jsm.getMessage(p.stream, 1));
            long replayedUpTo = jsm.getStreamInfo(p.stream).getStreamState().getLastSequence();

            p.execSource("INSERT INTO kv VALUES (3, 'after the replay')");
            await("producer past the replayed messages").atMost(Duration.ofSeconds(60))
                    .until(() -> Pipeline.count(p.sink(), "kv WHERE k = 3") == 1);
            p.awaitInSync();
            assertThat(p.rows(p.sink(), "kv")).containsExactly("(1,second)", "(3,\"after the replay\")");
            assertThat(jsm.getStreamInfo(p.stream).getStreamState().getLastSequence()).isGreaterThan(replayedUpTo);
        }
    }

    private static void republish(Connection nc, Pipeline p, MessageInfo m) throws Exception {
        Headers h = new Headers();
        m.getHeaders().entrySet().forEach(e -> h.put(e.getKey(), e.getValue()));
        h.put("Nats-Msg-Id", "replay-" + UUID.randomUUID());
        nc.jetStream().publish(NatsMessage.builder().subject(p.subject).headers(h).data(m.getData()).build());
    }

    @Test
    @Timeout(120)
    void shouldIgnoreTheSameMessageIdWithinTheDuplicateWindow(PostgresServer pg, NatsServer nats, TestInfo info) throws Exception {
        try (Pipeline p = Pipeline.create(pg, nats, info, KV).start()) {
            p.execSource("INSERT INTO kv VALUES (1, 'one')");
            p.awaitInSync();
            Connection nc = p.natsConnection();
            JetStreamManagement jsm = nc.jetStreamManagement();
            MessageInfo first = jsm.getMessage(p.stream, 1);
            assertThat(first.getHeaders().getFirst("Nats-Msg-Id")).as("Nats-Msg-Id <slot>:<commit_lsn>:<chunk>")
                    .startsWith(p.slot + ":").endsWith(":0");
            assertThat(first.getHeaders().getFirst("Vrsky-Last-Chunk")).isEqualTo("true");
            var ack = nc.jetStream().publish(NatsMessage.builder().subject(p.subject).headers(first.getHeaders()).data(first.getData()).build());
            assertThat(ack.isDuplicate()).isTrue();
            p.execSource("UPDATE kv SET v = 'two'");
            p.awaitInSync();
        }
    }
}
