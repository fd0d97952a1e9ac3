package io.vrsky.admin;

import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.PGReplicationStream;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(RealServices.class)
@Timeout(120)
class TeardownIT {

    @Test
    void shouldListExactlyWhatWouldGoWithoutChangingAnythingThenRemoveItWithYes(PostgresServer pg, NatsServer nats) throws Exception {
        try (World w = new World(pg, nats, "teardown")) {
            pipeline(w);
            String[] expected = {
                    "replication slot " + w.slot + " (PostgreSQL at " + pg.host() + ":" + pg.port() + "/" + w.source + ", retaining ",
                    "publication " + w.publication + " (PostgreSQL at ",
                    "durable " + w.durable + " on stream " + w.stream + " (filter " + w.subject + ", 1 pending)",
                    "stream " + w.stream + " (1 messages, ",
                    "snapshot record " + w.slot + " in VRSKY_SNAPSHOTS"};

            AdminRun dry = AdminRun.run(w.env(), "teardown", "--dry-run");
            assertThat(dry.exit()).as(dry.toString()).isZero();
            assertThat(dry.out()).startsWith("teardown would remove:\n").contains(expected)
                    .contains("left alone:").contains("the dead letters in VRSKY_DLQ");
            assertEverythingExists(w);

            AdminRun unconfirmed = AdminRun.run(w.env(), "teardown");
            assertThat(unconfirmed.exit()).as(unconfirmed.toString()).isEqualTo(1);
            assertThat(unconfirmed.out()).contains("nothing removed: add --yes").contains(expected);
            assertEverythingExists(w);

            AdminRun done = AdminRun.run(w.env(), "teardown", "--yes");
            assertThat(done.exit()).as(done.toString()).isZero();
            assertThat(done.out().lines().filter(l -> l.startsWith("removed "))).hasSize(5);
            assertThat(w.count(w.source, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + w.slot + "'")).isZero();
            assertThat(w.count(w.source, "SELECT count(*) FROM pg_publication WHERE pubname = '" + w.publication + "'")).isZero();
            assertThat(w.streamExists()).isFalse();
            assertThat(w.snapshotBucket().get(w.slot)).isNull();

            AdminRun again = AdminRun.run(w.env(), "teardown", "--yes");
            assertThat(again.exit()).as(again.toString()).isZero();
            assertThat(again.out()).startsWith("nothing to remove");
        }
    }

    @Test
    void shouldRefuseWhileAConsumerReadsTheSlotAndNameItsProcess(PostgresServer pg, NatsServer nats) throws Exception {
        try (World w = new World(pg, nats, "teardownactive")) {
            pipeline(w);
            Properties props = new Properties();
            PGProperty.USER.set(props, pg.user());
            PGProperty.PASSWORD.set(props, pg.password());
            PGProperty.ASSUME_MIN_SERVER_VERSION.set(props, "10");
            PGProperty.REPLICATION.set(props, "database");
            PGProperty.PREFER_QUERY_MODE.set(props, "simple");
            PGProperty.APPLICATION_NAME.set(props, "a-consumer");
            try (Connection c = DriverManager.getConnection(pg.jdbcUrl(w.source), props);
                 PGReplicationStream stream = c.unwrap(PGConnection.class).getReplicationAPI().replicationStream().logical()
                         .withSlotName(w.slot).withSlotOption("proto_version", 1).withSlotOption("publication_names", w.publication)
                         .start()) {
                long pid = w.count(w.source, "SELECT active_pid FROM pg_replication_slots WHERE slot_name = '" + w.slot + "'");
                AdminRun r = AdminRun.run(w.env(), "teardown", "--yes");
                assertThat(r.exit()).as(r.toString()).isEqualTo(1);
                assertThat(r.err().strip()).isEqualTo("replication slot " + w.slot + " is active: process " + pid
                        + " (a-consumer from " + w.text(w.source, "SELECT client_addr::text FROM pg_stat_activity WHERE pid = " + pid)
                        + ") is reading it. Stop the consumer (and its standbys) first");
                assertThat(r.out()).startsWith("nothing removed");
                assertThat(stream.isClosed()).isFalse();
            }
            assertEverythingExists(w);
        }
    }

    @Test
    void shouldPurgeOnlyItsOwnSubjectWhenOtherSourcesShareTheStream(PostgresServer pg, NatsServer nats) throws Exception {
        try (World w = new World(pg, nats, "teardownshared")) {
            w.createStream(Duration.ofMinutes(2), "it." + w.name + ".>");
            w.publishCdc(Journal.envelope("postgres-consumer/a/b", 1, "0/1", 0, true, new Journal.Row(1, 1, "mine")), "0/1", 1, 0, true);
            w.publish("it." + w.name + ".other", "{}".getBytes(StandardCharsets.UTF_8));
            w.nats.jetStreamManagement().addOrUpdateConsumer(w.stream, ConsumerConfiguration.builder().durable(w.durable)
                    .filterSubject("it." + w.name + ".>").ackPolicy(AckPolicy.Explicit).build());

            AdminRun refused = AdminRun.run(w.natsEnv(), "teardown", "--yes");
            assertThat(refused.exit()).as(refused.toString()).isEqualTo(1);
            assertThat(refused.err()).contains("stream " + w.stream + " also holds 1 messages of other sources (it." + w.name + ".other)")
                    .contains("--subject-only");
            assertThat(w.nats.jetStreamManagement().getStreamInfo(w.stream).getStreamState().getMsgCount()).isEqualTo(2);

            AdminRun subjectOnly = AdminRun.run(w.natsEnv(), "teardown", "--subject-only", "--yes");
            assertThat(subjectOnly.exit()).as(subjectOnly.toString()).isZero();
            assertThat(subjectOnly.out()).contains("removed 1 message on " + w.subject + " in stream " + w.stream)
                    .contains("durable " + w.durable + " (its filter it." + w.name + ".> reaches beyond " + w.subject + ")");
            assertThat(w.nats.jetStreamManagement().getStreamInfo(w.stream).getStreamState().getMsgCount()).isEqualTo(1);
            assertThat(w.durableInfo().getName()).isEqualTo(w.durable);
        }
    }

    /** What a running pipeline leaves: slot, publication, stream with a message, durable, snapshot record. */
    private static void pipeline(World w) throws Exception {
        w.sql(w.source, "CREATE TABLE items (id bigint PRIMARY KEY)", "CREATE PUBLICATION " + w.publication + " FOR TABLE items");
        w.createSlot();
        w.createStream(Duration.ofMinutes(2));
        w.publishCdc(Journal.envelope("postgres-consumer/" + w.source + "/" + w.slot, 1, "0/1", 0, true, new Journal.Row(1, 1, "a")),
                "0/1", 1, 0, true);
        w.nats.jetStreamManagement().addOrUpdateConsumer(w.stream, ConsumerConfiguration.builder().durable(w.durable)
                .filterSubject(w.subject).ackPolicy(AckPolicy.Explicit).build());
        w.snapshotBucket().put(w.slot, "{\"known\":[\"public.items\"],\"snapshot\":null,\"queue\":[]}".getBytes(StandardCharsets.UTF_8));
    }

    private static void assertEverythingExists(World w) throws Exception {
        assertThat(w.count(w.source, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + w.slot + "'")).isEqualTo(1);
        assertThat(w.count(w.source, "SELECT count(*) FROM pg_publication WHERE pubname = '" + w.publication + "'")).isEqualTo(1);
        assertThat(w.streamExists()).isTrue();
        assertThat(w.durableInfo().getName()).isEqualTo(w.durable);
        assertThat(w.snapshotBucket().get(w.slot)).isNotNull();
    }
}
