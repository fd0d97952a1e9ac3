package io.vrsky.testing;

import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamSubscription;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.PullSubscribeOptions;
import io.nats.client.api.PublishAck;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(RealServices.class)
@Timeout(120)
class RealServicesIT {

    @Test
    void shouldCreateAndReadALogicalReplicationSlot(PostgresServer pg) throws Exception {
        String db = pg.createDatabase("harness");
        try (java.sql.Connection c = pg.connect(db); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SHOW wal_level")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("logical");
            }
            s.execute("CREATE TABLE t (id int PRIMARY KEY, note text)");
            s.execute("CREATE PUBLICATION harness_pub FOR TABLE t");
            s.execute("SELECT pg_create_logical_replication_slot('harness_slot', 'pgoutput')");
            s.execute("INSERT INTO t VALUES (1, 'hello')");
            int inserts = 0;
            try (ResultSet rs = s.executeQuery("SELECT data FROM pg_logical_slot_get_binary_changes('harness_slot', NULL, NULL,"
                    + " 'proto_version', '1', 'publication_names', 'harness_pub')")) {
                while (rs.next()) {
                    if (rs.getBytes(1)[0] == 'I') {
                        inserts++;
                    }
                }
            }
            assertThat(inserts).isEqualTo(1);
            s.execute("SELECT pg_drop_replication_slot('harness_slot')");
        }
    }

    @Test
    void shouldAcknowledgeAndDeliverAJetStreamMessage(NatsServer nats) throws Exception {
        try (Connection nc = Nats.connect(nats.url())) {
            nc.jetStreamManagement().addStream(StreamConfiguration.builder().name("HARNESS").subjects("harness.>")
                    .storageType(StorageType.File).build());
            JetStream js = nc.jetStream();
            PublishAck ack = js.publish("harness.one", "hello".getBytes(StandardCharsets.UTF_8));
            assertThat(ack.getStream()).isEqualTo("HARNESS");
            assertThat(ack.getSeqno()).isEqualTo(1);
            JetStreamSubscription sub = js.subscribe("harness.>", PullSubscribeOptions.builder().durable("harness").build());
            List<Message> messages = sub.fetch(1, Duration.ofSeconds(5));
            assertThat(messages).hasSize(1);
            assertThat(new String(messages.get(0).getData(), StandardCharsets.UTF_8)).isEqualTo("hello");
            messages.get(0).ack();
        }
    }

    @Test
    void shouldKeepJetStreamDataAcrossANatsCrash(NatsServer nats) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(nats.controllable(), "server given by URL");
        try (Connection nc = Nats.connect(nats.url())) {
            nc.jetStreamManagement().addStream(StreamConfiguration.builder().name("HARNESS_CRASH").subjects("crash.>")
                    .storageType(StorageType.File).build());
            nc.jetStream().publish("crash.one", "kept".getBytes(StandardCharsets.UTF_8));
        }
        nats.crash();
        nats.start();
        try (Connection nc = Nats.connect(nats.url())) {
            assertThat(nc.jetStreamManagement().getStreamInfo("HARNESS_CRASH").getStreamState().getMsgCount()).isEqualTo(1);
        }
    }

    @Test
    void shouldComeBackAfterAPostgresCrash(PostgresServer pg) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(pg.controllable(), "server given by URL");
        String db = pg.createDatabase("crash");
        try (java.sql.Connection c = pg.connect(db); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE t (id int)");
            s.execute("INSERT INTO t VALUES (1)");
        }
        pg.crash();
        pg.start();
        try (java.sql.Connection c = pg.connect(db); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM t")) {
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(1);
        }
    }
}
