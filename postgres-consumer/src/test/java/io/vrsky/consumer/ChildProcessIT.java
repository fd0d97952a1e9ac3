package io.vrsky.consumer;

import io.nats.client.JetStreamManagement;
import io.nats.client.api.MessageInfo;
import io.vrsky.consumer.ItSupport.StreamReader;
import io.vrsky.consumer.pgoutput.PgOutputDecoder;
import io.vrsky.consumer.pgoutput.PgOutputMessage;
import io.vrsky.consumer.pgoutput.TupleValue;
import io.vrsky.consumer.replication.ReplicationLoop;
import io.vrsky.core.codec.EnvelopeCodec;
import io.vrsky.core.model.Change;
import io.vrsky.core.model.Envelope;
import io.vrsky.core.nats.CdcHeaders;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.ByteBuffer;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The shaded jar as a child process: bounded memory, kill -9, SIGTERM, standby takeover. */
@ExtendWith(RealServices.class)
class ChildProcessIT {

    private static final Duration WAIT = Duration.ofSeconds(60);

    private static void stop(Process p) throws InterruptedException {
        if (p != null && p.isAlive()) {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private static List<Long> range(long from, long to) {
        return LongStream.rangeClosed(from, to).boxed().toList();
    }

    /** Ids in stream order with repeats dropped; a crash may re-send, but never reorders or loses. */
    private static List<Long> firstOccurrences(List<Long> ids) {
        Set<Long> seen = new HashSet<>();
        List<Long> result = new ArrayList<>();
        for (Long id : ids) {
            if (seen.add(id)) {
                result.add(id);
            }
        }
        return result;
    }

    @Test
    @Timeout(300)
    void shouldStreamAMillionRowTransactionInChunksWithA256MegabyteHeap(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("million");
        String db = pg.createDatabase(name);
        ItSupport.sql(pg, db, "CREATE TABLE big (id int8 PRIMARY KEY, v int4, note text)");
        Map<String, String> env = ItSupport.env(pg, nats, db, name);
        String slot = env.get("POSTGRES_INPUT_REPLICATION_SLOT");
        int rows = 1_000_000;
        int batch = 100;
        Process child = ItSupport.startJar(env, "256m", ItSupport.logFile(name));
        try (StreamReader reader = new StreamReader(nats, env.get("NATS_STREAM"))) {
            await("child streaming").atMost(WAIT).until(() -> ItSupport.slotActive(pg, db, slot));
            ItSupport.sql(pg, db, "INSERT INTO big SELECT g, g % 1000, 'row ' || g FROM generate_series(1, " + rows + ") g");
            int messages = rows / batch;
            await("all chunks published").atMost(Duration.ofSeconds(240)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> !child.isAlive() || reader.count() >= messages);
            assertThat(child.isAlive()).as("the child is still running (no OutOfMemoryError)").isTrue();

            JetStreamManagement jsm = reader.connection().jetStreamManagement();
            EnvelopeCodec codec = new EnvelopeCodec();
            long nextId = 1;
            Long txId = null;
            Set<String> msgIds = new HashSet<>();
            for (long seq = 1; seq <= messages; seq++) {
                MessageInfo mi = jsm.getMessage(env.get("NATS_STREAM"), seq);
                Envelope e = codec.decode(mi.getData());
                int chunk = (int) (seq - 1);
                assertThat(mi.getHeaders().getFirst(CdcHeaders.CHUNK)).isEqualTo(Integer.toString(chunk));
                assertThat(mi.getHeaders().getFirst(CdcHeaders.LAST_CHUNK)).isEqualTo(Boolean.toString(seq == messages));
                assertThat(e.metadata().chunk()).isEqualTo(chunk);
                assertThat(e.metadata().lastChunk()).isEqualTo(seq == messages);
                assertThat(e.changes()).hasSize(batch);
                assertThat(msgIds.add(mi.getHeaders().getFirst(CdcHeaders.MSG_ID))).isTrue();
                for (Change c : e.changes()) {
                    assertThat(c.after().get("id").longValue()).isEqualTo(nextId++);
                    if (txId == null) {
                        txId = c.txId();
                    }
                    assertThat(c.txId()).isEqualTo(txId);
                }
            }
            assertThat(nextId - 1).isEqualTo(rows);
            assertThat(reader.count()).isEqualTo(messages);
            child.destroy();
            assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(child.exitValue()).isZero();
        } finally {
            stop(child);
        }
    }

    @Test
    @Timeout(180)
    void shouldLoseNothingWhenKilledMidStream(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("kill");
        String db = pg.createDatabase(name);
        ItSupport.sql(pg, db, "CREATE TABLE t (id int8 PRIMARY KEY)");
        Map<String, String> env = ItSupport.env(pg, nats, db, name);
        env.put("POSTGRES_INPUT_BATCH_SIZE", "20");
        String slot = env.get("POSTGRES_INPUT_REPLICATION_SLOT");
        int rows = 6000;
        Process first = ItSupport.startJar(env, "256m", ItSupport.logFile(name + "_first"));
        Process second = null;
        try (StreamReader reader = new StreamReader(nats, env.get("NATS_STREAM"))) {
            await("first streaming").atMost(WAIT).until(() -> ItSupport.slotActive(pg, db, slot));
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> ItSupport.unchecked(() -> {
                ItSupport.insertOnePerTransaction(pg, db, "t", 1, rows);
                return null;
            }));
            await("some published").atMost(WAIT).until(() -> reader.count() >= 20);
            first.destroyForcibly();
            first.waitFor(30, TimeUnit.SECONDS);
            second = ItSupport.startJar(env, "256m", ItSupport.logFile(name + "_second"));
            writer.get(120, TimeUnit.SECONDS);
            await("everything published").atMost(Duration.ofSeconds(120))
                    .until(() -> ItSupport.insertedIds(reader.changes()).contains((long) rows));

            List<Long> ids = ItSupport.insertedIds(reader.changes());
            assertThat(firstOccurrences(ids)).containsExactlyElementsOf(range(1, rows));
            ItSupport.assertPrevChain(reader.all()); // exact across the kill, re-sent messages included
        } finally {
            stop(first);
            stop(second);
        }
    }

    @Test
    @Timeout(180)
    void shouldPublishAndConfirmWhatWasReadOnSigtermAndExitZero(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("sigterm");
        String db = pg.createDatabase(name);
        ItSupport.sql(pg, db, "CREATE TABLE t (id int8 PRIMARY KEY)");
        Map<String, String> env = ItSupport.env(pg, nats, db, name);
        String slot = env.get("POSTGRES_INPUT_REPLICATION_SLOT");
        int rows = 5000;
        Process child = ItSupport.startJar(env, "256m", ItSupport.logFile(name));
        try (StreamReader reader = new StreamReader(nats, env.get("NATS_STREAM"))) {
            await("child streaming").atMost(WAIT).until(() -> ItSupport.slotActive(pg, db, slot));
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> ItSupport.unchecked(() -> {
                ItSupport.insertOnePerTransaction(pg, db, "t", 1, rows);
                return null;
            }));
            await("some published").atMost(WAIT).until(() -> reader.count() >= 10);

            child.destroy(); // SIGTERM
            assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(child.exitValue()).isZero();
            writer.get(120, TimeUnit.SECONDS);
            await("slot released").atMost(WAIT).until(() -> !ItSupport.slotActive(pg, db, slot));

            List<Long> published = ItSupport.insertedIds(reader.changes());
            List<Long> remaining = pendingInserts(pg, db, slot, env.get("POSTGRES_INPUT_PUBLICATION"));
            assertThat(published).as("published: a prefix with no repeat").containsExactlyElementsOf(range(1, published.size()));
            assertThat(remaining).as("what the slot still holds starts right after the last published row")
                    .containsExactlyElementsOf(range(published.size() + 1, rows));
        } finally {
            stop(child);
        }
    }

    /** The ids the slot would still send, read with pg_logical_slot_peek_binary_changes. */
    private static List<Long> pendingInserts(PostgresServer pg, String db, String slot, String publication) throws Exception {
        List<Long> ids = new ArrayList<>();
        PgOutputDecoder decoder = new PgOutputDecoder();
        try (java.sql.Connection c = pg.connect(db); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT data FROM pg_logical_slot_peek_binary_changes('" + slot + "', NULL, NULL,"
                     + " 'proto_version', '1', 'publication_names', '" + publication + "')")) {
            while (rs.next()) {
                PgOutputMessage m = decoder.decode(ByteBuffer.wrap(rs.getBytes(1)));
                if (m instanceof PgOutputMessage.Insert insert) {
                    ids.add(Long.parseLong(((TupleValue.Text) insert.newTuple().get(0)).text()));
                }
            }
        }
        return ids;
    }

    @Test
    @Timeout(180)
    void shouldWaitOnStandbyAndTakeOverWhenTheActiveInstanceDies(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("standby");
        String db = pg.createDatabase(name);
        ItSupport.sql(pg, db, "CREATE TABLE t (id int8 PRIMARY KEY)");
        Map<String, String> env = ItSupport.env(pg, nats, db, name);
        String slot = env.get("POSTGRES_INPUT_REPLICATION_SLOT");
        Process active = ItSupport.startJar(env, "256m", ItSupport.logFile(name + "_active"));
        try (StreamReader reader = new StreamReader(nats, env.get("NATS_STREAM"))) {
            await("active streaming").atMost(WAIT).until(() -> ItSupport.slotActive(pg, db, slot));
            try (ConsumerService standby = ItSupport.start(env)) {
                await("on standby").atMost(WAIT).until(() -> standby.state() == ReplicationLoop.State.STANDBY);
                var ready = ItSupport.http(standby.healthPort(), "/health/ready");
                assertThat(ready.statusCode()).isEqualTo(503);
                assertThat(ready.body()).contains("standby");
                assertThat(ItSupport.http(standby.healthPort(), "/metrics").body()).containsPattern("vrsky_consumer_standby\\{slot=\"[a-z0-9_]+\"} 1.0");

                ItSupport.insertOnePerTransaction(pg, db, "t", 1, 100);
                await("published by the active instance").atMost(WAIT).until(() -> reader.changes().size() >= 100);
                assertThat(standby.metrics().changesPublished()).isZero();

                active.destroyForcibly();
                active.waitFor(30, TimeUnit.SECONDS);
                await("standby takes over").atMost(WAIT).until(() -> standby.state() == ReplicationLoop.State.STREAMING);
                ItSupport.insertOnePerTransaction(pg, db, "t", 101, 200);
                await("published by the new instance").atMost(WAIT)
                        .until(() -> ItSupport.insertedIds(reader.changes()).contains(200L));
                assertThat(firstOccurrences(ItSupport.insertedIds(reader.changes()))).containsExactlyElementsOf(range(1, 200));
                assertThat(standby.metrics().changesPublished()).isGreaterThanOrEqualTo(100);
                assertThat(ItSupport.http(standby.healthPort(), "/health/ready").statusCode()).isEqualTo(200);
            }
        } finally {
            stop(active);
        }
    }

    @Test
    @Timeout(60)
    void shouldExitWithCodeTwoAndOneLinePerProblemOnABadConfiguration() throws Exception {
        Map<String, String> env = new java.util.HashMap<>();
        env.put("POSTGRES_INPUT_HOST", "localhost");
        env.put("POSTGRES_INPUT_PASSWORD", "do-not-print-me");
        env.put("POSTGRES_INPUT_BATCH_SIZE", "lots");
        env.put("NATS_URL", "http://nats");
        java.nio.file.Path log = ItSupport.logFile(ItSupport.unique("badconfig"));
        Process child = ItSupport.startJar(env, "64m", log);
        try {
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(child.exitValue()).isEqualTo(2);
            List<String> lines = java.nio.file.Files.readAllLines(log).stream().filter(l -> !l.isBlank()).toList();
            assertThat(lines).hasSize(4);
            assertThat(lines).anyMatch(l -> l.startsWith("POSTGRES_INPUT_USER"))
                    .anyMatch(l -> l.startsWith("POSTGRES_INPUT_DATABASE"))
                    .anyMatch(l -> l.startsWith("POSTGRES_INPUT_BATCH_SIZE=lots"))
                    .anyMatch(l -> l.startsWith("NATS_URL=http://nats"));
            assertThat(lines).noneMatch(l -> l.contains("do-not-print-me"));
        } finally {
            stop(child);
        }
    }
}
