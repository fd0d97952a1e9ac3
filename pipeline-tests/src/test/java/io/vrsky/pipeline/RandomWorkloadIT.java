package io.vrsky.pipeline;

import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import io.nats.client.Connection;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.api.MessageInfo;
import io.vrsky.core.codec.EnvelopeCodec;
import io.vrsky.core.model.Envelope;
import io.vrsky.core.model.Operation;

import java.sql.Statement;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** Any interleaving of inserts, updates and deletes ends with every table equal (invariant 1). */
@ExtendWith(RealServices.class)
class RandomWorkloadIT {

    @Test
    @Timeout(180)
    void shouldEndWithEveryTableEqualAfterASeededRandomWorkload(PostgresServer pg, NatsServer nats, TestInfo info) throws Exception {
        long seed = Long.getLong("vrsky.seed", 20260217L);
        System.out.println("random workload seed " + seed + " (rerun with -Dvrsky.seed=" + seed + ")");
        try (Pipeline p = Pipeline.create(pg, nats, info, Workload.SCHEMA).consumerEnv("POSTGRES_INPUT_BATCH_SIZE", "37")
                .producerEnv("POSTGRES_OUTPUT_BATCH_SIZE", "50").start()) {
            Workload workload = new Workload(seed);
            // live: the pipeline reads while we write
            workload.run(p.source(), 600, 12);
            // backlog: written while the producer is away, so it meets many transactions per batch
            p.producer().stop();
            workload.run(p.source(), 600, 12);
            p.producer().startAndAwaitReady();
            p.awaitInSync(Duration.ofSeconds(120));
            for (String table : p.tables) {
                assertThat(p.fingerprint(p.sink(), table)).as(table + " (seed " + seed + ")").isEqualTo(p.fingerprint(p.source(), table));
            }
            assertThat(Pipeline.count(p.source(), "items") + Pipeline.count(p.source(), "pairs")).as("workload left rows").isPositive();
        }
    }

    /**
     * The compact envelope layout end to end: existing rows (the initial snapshot), then live and
     * backlog transactions of three tables packed into shared messages; the sink ends equal to the
     * source, and the stream's messages are compact ones (header and payload) that envelope-core
     * reads back into whole changes.
     */
    @Test
    @Timeout(180)
    void shouldEndWithEveryTableEqualWithTheCompactLayout(PostgresServer pg, NatsServer nats, TestInfo info) throws Exception {
        long seed = Long.getLong("vrsky.seed", 20261206L);
        try (Pipeline p = Pipeline.create(pg, nats, info, Workload.SCHEMA).consumerEnv("POSTGRES_INPUT_ENVELOPE_FORMAT", "compact")
                .consumerEnv("POSTGRES_INPUT_BATCH_SIZE", "37").producerEnv("POSTGRES_OUTPUT_BATCH_SIZE", "50")) {
            try (Statement s = p.source().createStatement()) {
                s.execute("INSERT INTO items SELECT g, g % 7, 'existing ' || g, g * 1.25, now() FROM generate_series(1000, 1299) g");
                s.execute("INSERT INTO pairs SELECT g, g + 1, 'existing', g % 2 = 0 FROM generate_series(1000, 1099) g");
            }
            p.start();
            Workload workload = new Workload(seed);
            workload.run(p.source(), 400, 12);
            p.producer().stop();
            workload.run(p.source(), 400, 12);
            try (Connection nc = Nats.connect(nats.url())) {
                JetStreamManagement jsm = nc.jetStreamManagement();
                long last = jsm.getStreamInfo(p.stream).getStreamState().getLastSequence();
                boolean snapshotSeen = false;
                boolean changesSeen = false;
                EnvelopeCodec codec = new EnvelopeCodec();
                for (long seq = 1; seq <= last; seq++) {
                    MessageInfo m = jsm.getMessage(p.stream, seq);
                    if (m.getHeaders() == null || m.getHeaders().getFirst("Nats-Msg-Id") == null) {
                        continue;
                    }
                    assertThat(m.getHeaders().getFirst("Vrsky-Format")).as("header of message " + seq).isEqualTo("compact");
                    assertThat(new String(m.getData(), java.nio.charset.StandardCharsets.UTF_8)).contains("\"format\":\"compact\"");
                    Envelope e = codec.decode(m.getData());
                    assertThat(e.changes()).allSatisfy(c -> {
                        assertThat(c.schema()).isEqualTo("public");
                        assertThat(c.columns()).isNotEmpty();
                        assertThat(c.commitLsn()).isNotNull();
                        assertThat(c.commitTime()).isNotNull();
                    });
                    snapshotSeen |= e.changes().stream().anyMatch(c -> c.op() == Operation.READ);
                    changesSeen |= e.changes().stream().anyMatch(c -> c.op() == Operation.UPDATE);
                }
                assertThat(snapshotSeen).as("snapshot rows in compact messages").isTrue();
                assertThat(changesSeen).as("updates in compact messages").isTrue();
            }
            p.producer().startAndAwaitReady();
            p.awaitInSync(Duration.ofSeconds(120));
            for (String table : p.tables) {
                assertThat(p.fingerprint(p.sink(), table)).as(table + " (seed " + seed + ")").isEqualTo(p.fingerprint(p.source(), table));
            }
        }
    }
}
