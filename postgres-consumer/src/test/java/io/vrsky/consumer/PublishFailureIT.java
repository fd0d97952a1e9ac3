package io.vrsky.consumer;

import io.nats.client.Connection;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.api.DiscardPolicy;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
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
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** A publish JetStream refuses: the session ends, nothing past the refused message is confirmed, readiness names the cause. */
@ExtendWith(RealServices.class)
class PublishFailureIT {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    @Timeout(120)
    void shouldSayTheStreamIsFullAndNeverConfirmPastTheRefusedMessage(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("full");
        String db = pg.createDatabase(name);
        ItSupport.sql(pg, db, "CREATE TABLE t (id int8 PRIMARY KEY)");
        Map<String, String> env = ItSupport.env(pg, nats, db, name);
        String stream = env.get("NATS_STREAM");
        String slot = env.get("POSTGRES_INPUT_REPLICATION_SLOT");
        try (Connection nc = Nats.connect(nats.url())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(StreamConfiguration.builder().name(stream).subjects(env.get("NATS_SUBJECT")).storageType(StorageType.File)
                    .maxMessages(3).discardPolicy(DiscardPolicy.New).duplicateWindow(Duration.ofMinutes(2)).build());
        }
        try (ConsumerService svc = ItSupport.start(env); StreamReader reader = new StreamReader(nats, stream)) {
            await("streaming").atMost(WAIT).until(() -> svc.state() == ReplicationLoop.State.STREAMING);
            for (int id = 1; id <= 3; id++) {
                ItSupport.sql(pg, db, "INSERT INTO t VALUES (" + id + ")");
                long want = id;
                await().atMost(WAIT).until(() -> reader.count() >= want);
            }
            Lsn beforeRefused = Lsn.parse(ItSupport.queryString(pg, db, "SELECT pg_current_wal_lsn()::text"));
            ItSupport.sql(pg, db, "INSERT INTO t VALUES (4)", "INSERT INTO t VALUES (5)");

            await("readiness names the full stream").atMost(WAIT).until(() -> {
                var ready = ItSupport.http(svc.healthPort(), "/health/ready");
                return ready.statusCode() == 503 && ready.body().contains("stream " + stream + " is full");
            });
            String body = ItSupport.http(svc.healthPort(), "/health/ready").body();
            assertThat(body).contains("max messages 3").doesNotContain("not connected");
            assertThat(reader.count()).isEqualTo(3);
            assertThat(ItSupport.confirmedFlush(pg, db, slot)).isLessThanOrEqualTo(beforeRefused);
            assertThat(svc.confirmedLsn()).isLessThanOrEqualTo(beforeRefused);
        }
    }
}
