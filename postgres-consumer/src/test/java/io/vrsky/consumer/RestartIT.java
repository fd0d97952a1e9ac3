package io.vrsky.consumer;

import io.vrsky.consumer.ItSupport.StreamReader;
import io.vrsky.consumer.replication.ReplicationLoop;
import io.vrsky.core.model.Lsn;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Restarts, idle slots and lost dependencies, with the consumer in-process. */
@ExtendWith(RealServices.class)
@SuppressWarnings("try") // the service runs while the block runs, though the block never names it
class RestartIT {

    private static final Duration WAIT = Duration.ofSeconds(60);

    private static ConsumerService startStreaming(Map<String, String> env) throws Exception {
        ConsumerService svc = ItSupport.start(env);
        await("streaming").atMost(WAIT).until(() -> svc.state() == ReplicationLoop.State.STREAMING);
        return svc;
    }

    private static List<Long> range(long from, long to) {
        return LongStream.rangeClosed(from, to).boxed().toList();
    }

    @Test
    @Timeout(120)
    void shouldResumeAfterARestartWithNoGapAndNoDuplicate(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("restart");
        String db = pg.createDatabase(name);
        ItSupport.sql(pg, db, "CREATE TABLE t (id int8 PRIMARY KEY)");
        Map<String, String> env = ItSupport.env(pg, nats, db, name);
        env.put("POSTGRES_INPUT_SNAPSHOT_MODE", "never"); // restarts of streaming; snapshots are SnapshotIT\'s
        try (StreamReader reader = new StreamReader(nats, env.get("NATS_STREAM"))) {
            try (ConsumerService svc = startStreaming(env)) {
                ItSupport.insertOnePerTransaction(pg, db, "t", 1, 300);
                await().atMost(WAIT).until(() -> reader.changes().size() >= 300);
            }
            ItSupport.insertOnePerTransaction(pg, db, "t", 301, 600);
            try (ConsumerService svc = startStreaming(env)) {
                ItSupport.insertOnePerTransaction(pg, db, "t", 601, 700);
                await().atMost(WAIT).until(() -> reader.changes().size() >= 700);
                assertThat(ItSupport.insertedIds(reader.changes())).containsExactlyElementsOf(range(1, 700));
            }
        }
    }

    /**
     * A session published chunks 0-3 of a 1,000-row transaction in chunks of 100 and stopped; the
     * next one runs with POSTGRES_INPUT_BATCH_SIZE 30. Its chunks 0-3 get the ids of the stored
     * ones, so JetStream drops them: they must hold the same changes, or changes go missing or come
     * twice. The half-published stream is built by copying the first four chunks of a full run into
     * a second stream, and the slot is put back before the transaction with a copy made earlier.
     */
    @Test
    @Timeout(180)
    void shouldCutAHalfPublishedTransactionAsBeforeWhenTheBatchSizeChanged(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("rechunk");
        String db = pg.createDatabase(name);
        ItSupport.sql(pg, db, "CREATE TABLE t (id int8 PRIMARY KEY)");
        Map<String, String> env = ItSupport.env(pg, nats, db, name);
        env.put("POSTGRES_INPUT_SNAPSHOT_MODE", "never"); // restarts of streaming; snapshots are SnapshotIT\'s
        env.put("POSTGRES_INPUT_BATCH_SIZE", "100");
        String slot = env.get("POSTGRES_INPUT_REPLICATION_SLOT");
        try (ConsumerService svc = startStreaming(env)) {
            assertThat(svc.state()).isEqualTo(ReplicationLoop.State.STREAMING); // slot and publication exist now
        }
        ItSupport.sql(pg, db, "SELECT pg_copy_logical_replication_slot('" + slot + "', '" + slot + "_before')",
                "INSERT INTO t SELECT generate_series(1, 1000)");
        List<ItSupport.Stored> full;
        try (StreamReader reader = new StreamReader(nats, env.get("NATS_STREAM"));
             ConsumerService svc = startStreaming(env)) {
            await().atMost(WAIT).until(() -> reader.changes().size() >= 1000);
            full = reader.all();
        }
        assertThat(full).hasSize(10);

        // what a session that died after chunk 3 leaves: chunks 0-3, with their ids, in a stream of their own
        Map<String, String> next = new java.util.HashMap<>(env);
        next.put("NATS_STREAM", env.get("NATS_STREAM") + "_B");
        next.put("NATS_SUBJECT", env.get("NATS_SUBJECT") + ".b");
        next.put("POSTGRES_INPUT_BATCH_SIZE", "30");
        try (StreamReader reader = new StreamReader(nats, next.get("NATS_STREAM"))) {
            new io.vrsky.core.nats.StreamProvisioner(reader.connection().jetStreamManagement())
                    .ensure(next.get("NATS_STREAM"), next.get("NATS_SUBJECT"), Duration.ofMinutes(2));
            for (ItSupport.Stored stored : full.subList(0, 4)) {
                io.nats.client.impl.Headers headers = new io.nats.client.impl.Headers();
                for (String h : List.of("Nats-Msg-Id", "Vrsky-Commit-Lsn", "Vrsky-Tx-Id", "Vrsky-Chunk", "Vrsky-Last-Chunk")) {
                    headers.put(h, stored.header(h));
                }
                reader.connection().jetStream().publish(io.nats.client.impl.NatsMessage.builder().subject(next.get("NATS_SUBJECT"))
                        .headers(headers).data(stored.body()).build());
            }
            ItSupport.sql(pg, db, "SELECT pg_drop_replication_slot('" + slot + "')",
                    "SELECT pg_copy_logical_replication_slot('" + slot + "_before', '" + slot + "')");

            try (ConsumerService svc = startStreaming(next)) {
                await().atMost(WAIT).until(() -> "true".equals(reader.all().get(reader.all().size() - 1).header("Vrsky-Last-Chunk")));
                assertThat(ItSupport.insertedIds(reader.changes())).containsExactlyElementsOf(range(1, 1000));
                assertThat(reader.all().subList(0, 4)).extracting(m -> m.envelope().changes().size()).containsOnly(100);
                assertThat(reader.all().subList(4, reader.all().size())).extracting(m -> m.envelope().changes().size())
                        .allMatch(n -> n <= 30);
            }
        }
    }

    /**
     * Every message names the commit LSN of the transaction this slot published before it
     * ({@code Vrsky-Prev-Commit-Lsn}), across a clean restart and across a restart from a slot put
     * back behind messages already stored (which are then sent again, packed differently).
     */
    @Test
    @Timeout(180)
    void shouldChainEveryMessageToThePreviousTransactionAcrossRestarts(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("prevlsn");
        String db = pg.createDatabase(name);
        ItSupport.sql(pg, db, "CREATE TABLE t (id int8 PRIMARY KEY)");
        Map<String, String> env = ItSupport.env(pg, nats, db, name);
        env.put("POSTGRES_INPUT_SNAPSHOT_MODE", "never"); // restarts of streaming; snapshots are SnapshotIT\'s
        String slot = env.get("POSTGRES_INPUT_REPLICATION_SLOT");
        try (StreamReader reader = new StreamReader(nats, env.get("NATS_STREAM"))) {
            try (ConsumerService svc = startStreaming(env)) {
                ItSupport.insertOnePerTransaction(pg, db, "t", 1, 50);
                await().atMost(WAIT).until(() -> ItSupport.insertedIds(reader.changes()).contains(50L));
            }
            ItSupport.sql(pg, db, "SELECT pg_copy_logical_replication_slot('" + slot + "', '" + slot + "_mid')");
            try (ConsumerService svc = startStreaming(env)) {
                for (int id = 51; id <= 100; id += 10) {
                    ItSupport.insertOnePerTransaction(pg, db, "t", id, id + 9);
                }
                await().atMost(WAIT).until(() -> ItSupport.insertedIds(reader.changes()).contains(100L));
            }
            ItSupport.sql(pg, db, "SELECT pg_drop_replication_slot('" + slot + "')",
                    "SELECT pg_copy_logical_replication_slot('" + slot + "_mid', '" + slot + "')");
            ItSupport.insertOnePerTransaction(pg, db, "t", 101, 150);
            try (ConsumerService svc = startStreaming(env)) {
                await().atMost(WAIT).until(() -> ItSupport.insertedIds(reader.changes()).contains(150L));
            }

            List<ItSupport.Stored> stored = reader.all();
            assertThat(ItSupport.insertedIds(reader.changes()).stream().distinct().toList()).containsExactlyElementsOf(range(1, 150));
            assertThat(ItSupport.insertedIds(reader.changes())).as("some transactions were sent again").hasSizeGreaterThan(150);
            ItSupport.assertPrevChain(stored);
        }
    }

    /**
     * After a failed publish JetStream may hold a later message and not the failed one. Here the
     * stream holds a message with the id of transactions 2-3 (what a session whose message of
     * transaction 1 failed leaves); the next session reads 1-3 again from the slot. Packed into one
     * message, they would get that same id and JetStream would drop them as a duplicate: transaction
     * 1 would never reach the stream.
     */
    @Test
    @Timeout(180)
    void shouldNotLoseATransactionWhoseRepackedMessageWouldReuseAStoredMessagesId(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("collide");
        String db = pg.createDatabase(name);
        ItSupport.sql(pg, db, "CREATE TABLE t (id int8 PRIMARY KEY)");
        Map<String, String> env = ItSupport.env(pg, nats, db, name);
        env.put("POSTGRES_INPUT_SNAPSHOT_MODE", "never"); // restarts of streaming; snapshots are SnapshotIT\'s
        env.put("POSTGRES_INPUT_BATCH_SIZE", "1");
        String slot = env.get("POSTGRES_INPUT_REPLICATION_SLOT");
        try (ConsumerService svc = startStreaming(env)) {
            assertThat(svc.state()).isEqualTo(ReplicationLoop.State.STREAMING); // slot and publication exist now
        }
        ItSupport.sql(pg, db, "SELECT pg_copy_logical_replication_slot('" + slot + "', '" + slot + "_before')");
        ItSupport.insertOnePerTransaction(pg, db, "t", 1, 3);
        List<ItSupport.Stored> full;
        try (StreamReader reader = new StreamReader(nats, env.get("NATS_STREAM")); ConsumerService svc = startStreaming(env)) {
            await().atMost(WAIT).until(() -> reader.changes().size() >= 3);
            full = reader.all();
        }
        assertThat(full).hasSize(3); // one transaction per message (BATCH_SIZE 1)

        Map<String, String> next = new java.util.HashMap<>(env);
        next.put("NATS_STREAM", env.get("NATS_STREAM") + "_B");
        next.put("NATS_SUBJECT", env.get("NATS_SUBJECT") + ".b");
        next.put("POSTGRES_INPUT_BATCH_SIZE", "100");
        try (StreamReader reader = new StreamReader(nats, next.get("NATS_STREAM"))) {
            new io.vrsky.core.nats.StreamProvisioner(reader.connection().jetStreamManagement())
                    .ensure(next.get("NATS_STREAM"), next.get("NATS_SUBJECT"), Duration.ofMinutes(2));
            // transactions 2 and 3 under the id of 3, as a packed message of them would be
            ItSupport.Stored third = full.get(2);
            io.vrsky.core.codec.EnvelopeCodec codec = new io.vrsky.core.codec.EnvelopeCodec();
            List<io.vrsky.core.model.Change> both = new java.util.ArrayList<>(full.get(1).envelope().changes());
            both.addAll(third.envelope().changes());
            io.vrsky.core.model.Envelope e = third.envelope();
            byte[] body = codec.encode(new io.vrsky.core.model.Envelope(e.id(), e.type(), e.source(), e.time(), e.metadata(), both));
            io.nats.client.impl.Headers headers = new io.nats.client.impl.Headers();
            for (String h : List.of("Nats-Msg-Id", "Vrsky-Commit-Lsn", "Vrsky-Tx-Id", "Vrsky-Chunk", "Vrsky-Last-Chunk")) {
                headers.put(h, third.header(h));
            }
            reader.connection().jetStream().publish(io.nats.client.impl.NatsMessage.builder().subject(next.get("NATS_SUBJECT"))
                    .headers(headers).data(body).build());
            ItSupport.sql(pg, db, "SELECT pg_drop_replication_slot('" + slot + "')",
                    "SELECT pg_copy_logical_replication_slot('" + slot + "_before', '" + slot + "')");

            try (ConsumerService svc = startStreaming(next)) {
                await("transaction 1 in the stream").atMost(WAIT).until(() -> ItSupport.insertedIds(reader.changes()).contains(1L));
                await("caught up").atMost(WAIT).until(() -> ItSupport.confirmedFlush(pg, db, slot)
                        .compareTo(Lsn.parse(third.header("Vrsky-Commit-Lsn"))) > 0);
            }
            assertThat(ItSupport.insertedIds(reader.changes()).stream().distinct().sorted().toList()).containsExactly(1L, 2L, 3L);
        }
    }

    @Test
    @Timeout(120)
    void shouldConfirmWhatJetStreamAcknowledgedWhileStreaming(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("confirm");
        String db = pg.createDatabase(name);
        ItSupport.sql(pg, db, "CREATE TABLE t (id int8 PRIMARY KEY)");
        Map<String, String> env = ItSupport.env(pg, nats, db, name);
        env.put("POSTGRES_INPUT_SNAPSHOT_MODE", "never"); // restarts of streaming; snapshots are SnapshotIT\'s
        String slot = env.get("POSTGRES_INPUT_REPLICATION_SLOT");
        try (ConsumerService svc = startStreaming(env); StreamReader reader = new StreamReader(nats, env.get("NATS_STREAM"))) {
            ItSupport.insertOnePerTransaction(pg, db, "t", 1, 50);
            Lsn afterInserts = Lsn.parse(ItSupport.queryString(pg, db, "SELECT pg_current_wal_lsn()::text"));
            await().atMost(WAIT).until(() -> reader.changes().size() >= 50);
            await("confirmed while still streaming").atMost(WAIT)
                    .until(() -> ItSupport.confirmedFlush(pg, db, slot).compareTo(afterInserts) >= 0);
            assertThat(svc.confirmedLsn().compareTo(afterInserts)).isGreaterThanOrEqualTo(0);
            assertThat(ItSupport.http(svc.healthPort(), "/metrics").body()).contains("vrsky_consumer_confirmed_lsn{slot=\"" + svc.config().slot() + "\"} "
                    + (double) svc.confirmedLsn().value());
        }
    }

    @Test
    @Timeout(120)
    void shouldAdvanceAnIdleSlotWhileOtherTablesAreWritten(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("idle");
        String db = pg.createDatabase(name);
        ItSupport.sql(pg, db, "CREATE TABLE watched (id int PRIMARY KEY)", "CREATE TABLE noise (id int PRIMARY KEY)",
                "CREATE TABLE filtered (id int PRIMARY KEY)");
        Map<String, String> env = ItSupport.env(pg, nats, db, name);
        env.put("POSTGRES_INPUT_SNAPSHOT_MODE", "never"); // restarts of streaming; snapshots are SnapshotIT\'s
        env.put("POSTGRES_INPUT_TABLES", "watched");
        String slot = env.get("POSTGRES_INPUT_REPLICATION_SLOT");
        try (ConsumerService svc = startStreaming(env)) {
            // not in the publication: the server sends nothing but keepalives
            ItSupport.insertOnePerTransaction(pg, db, "noise", 1, 200);
            Lsn afterNoise = Lsn.parse(ItSupport.queryString(pg, db, "SELECT pg_current_wal_lsn()::text"));
            await("confirmed_flush_lsn passes the noise").atMost(WAIT)
                    .until(() -> ItSupport.confirmedFlush(pg, db, slot).compareTo(afterNoise) >= 0);

            // in the publication but filtered out by the consumer: transactions arrive and are passed through
            ItSupport.sql(pg, db, "ALTER PUBLICATION " + env.get("POSTGRES_INPUT_PUBLICATION") + " ADD TABLE filtered");
            ItSupport.insertOnePerTransaction(pg, db, "filtered", 1, 200);
            Lsn afterFiltered = Lsn.parse(ItSupport.queryString(pg, db, "SELECT pg_current_wal_lsn()::text"));
            await("confirmed_flush_lsn passes the filtered writes").atMost(WAIT)
                    .until(() -> ItSupport.confirmedFlush(pg, db, slot).compareTo(afterFiltered) >= 0);
            assertThat(svc.metrics().changesPublished()).isZero();
        }
    }

    @Test
    @Timeout(180)
    void shouldReconnectToNatsAndPostgresAndLoseNothing(PostgresServer pg, NatsServer nats) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(pg.controllable() && nats.controllable(), "servers given by URL");
        String name = ItSupport.unique("reconnect");
        String db = pg.createDatabase(name);
        ItSupport.sql(pg, db, "CREATE TABLE t (id int8 PRIMARY KEY)");
        Map<String, String> env = ItSupport.env(pg, nats, db, name);
        env.put("POSTGRES_INPUT_SNAPSHOT_MODE", "never"); // restarts of streaming; snapshots are SnapshotIT\'s
        boolean natsDown = false;
        boolean pgDown = false;
        try (ConsumerService svc = startStreaming(env)) {
            ItSupport.insertOnePerTransaction(pg, db, "t", 1, 100);
            try (StreamReader reader = new StreamReader(nats, env.get("NATS_STREAM"))) {
                await().atMost(WAIT).until(() -> reader.changes().size() >= 100);
            }

            nats.crash();
            natsDown = true;
            ItSupport.insertOnePerTransaction(pg, db, "t", 101, 200);
            await("not ready while NATS is down").atMost(WAIT)
                    .until(() -> ItSupport.http(svc.healthPort(), "/health/ready").statusCode() == 503);
            nats.start();
            natsDown = false;
            try (StreamReader reader = new StreamReader(nats, env.get("NATS_STREAM"))) {
                await().atMost(WAIT).until(() -> ItSupport.insertedIds(reader.changes()).contains(200L));
                assertThat(ItSupport.insertedIds(reader.changes()).stream().distinct().toList()).containsExactlyElementsOf(range(1, 200));
            }

            pg.crash();
            pgDown = true;
            await("not ready while PostgreSQL is down").atMost(WAIT).until(() -> svc.state() != ReplicationLoop.State.STREAMING);
            pg.start();
            pgDown = false;
            await("streaming again").atMost(WAIT).until(() -> svc.state() == ReplicationLoop.State.STREAMING);
            ItSupport.insertOnePerTransaction(pg, db, "t", 201, 300);
            try (StreamReader reader = new StreamReader(nats, env.get("NATS_STREAM"))) {
                await().atMost(WAIT).until(() -> ItSupport.insertedIds(reader.changes()).contains(300L));
                List<Long> distinct = ItSupport.insertedIds(reader.changes()).stream().distinct().toList();
                assertThat(distinct).containsExactlyElementsOf(range(1, 300));
            }
            assertThat(ItSupport.http(svc.healthPort(), "/metrics").body()).containsPattern(
                    "vrsky_consumer_reconnects_total\\{dependency=\"nats\",slot=\"[a-z0-9_]+\"} [1-9]");
        } finally {
            if (natsDown) {
                nats.start();
            }
            if (pgDown) {
                pg.start();
            }
        }
    }
}
