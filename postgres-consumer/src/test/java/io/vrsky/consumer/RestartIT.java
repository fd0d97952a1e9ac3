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

    @Test
    @Timeout(120)
    void shouldConfirmWhatJetStreamAcknowledgedWhileStreaming(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("confirm");
        String db = pg.createDatabase(name);
        ItSupport.sql(pg, db, "CREATE TABLE t (id int8 PRIMARY KEY)");
        Map<String, String> env = ItSupport.env(pg, nats, db, name);
        String slot = env.get("POSTGRES_INPUT_REPLICATION_SLOT");
        try (ConsumerService svc = startStreaming(env); StreamReader reader = new StreamReader(nats, env.get("NATS_STREAM"))) {
            ItSupport.insertOnePerTransaction(pg, db, "t", 1, 50);
            Lsn afterInserts = Lsn.parse(ItSupport.queryString(pg, db, "SELECT pg_current_wal_lsn()::text"));
            await().atMost(WAIT).until(() -> reader.changes().size() >= 50);
            await("confirmed while still streaming").atMost(WAIT)
                    .until(() -> ItSupport.confirmedFlush(pg, db, slot).compareTo(afterInserts) >= 0);
            assertThat(svc.confirmedLsn().compareTo(afterInserts)).isGreaterThanOrEqualTo(0);
            assertThat(ItSupport.http(svc.healthPort(), "/metrics").body()).contains("vrsky_consumer_confirmed_lsn " + (double) svc.confirmedLsn().value());
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
                    "vrsky_consumer_reconnects_total\\{dependency=\"nats\"} [1-9]");
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
