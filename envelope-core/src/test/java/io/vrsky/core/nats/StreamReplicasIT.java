package io.vrsky.core.nats;

import ch.qos.logback.classic.Level;
import io.nats.client.Connection;
import io.nats.client.JetStreamManagement;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.vrsky.core.LogCapture;
import io.vrsky.core.config.Env;
import io.vrsky.core.config.NatsSettings;
import io.vrsky.testing.NatsCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** NATS_STREAM_REPLICAS on a three-node cluster: new streams get the replicas, an existing R1 stream is reported. */
@Timeout(120)
class StreamReplicasIT {

    private static NatsCluster cluster;

    @BeforeAll
    static void startCluster() {
        Assumptions.assumeTrue(NatsCluster.available(), "no nats-server binary");
        cluster = NatsCluster.start(3);
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void shouldCreateTheCdcAndDeadLetterStreamsWithThreeReplicasOverACommaListOfServers() throws Exception {
        NatsSettings settings = NatsSettings.read(new Env(Map.of("NATS_URL", cluster.url(), "NATS_STREAM", "REPL_CDC",
                "NATS_STREAM_REPLICAS", "3", "NATS_DLQ_SUBJECT", "vrsky.dlq.repl")), "repl.cdc", "it");
        try (Connection nc = new NatsConnector(settings, "it").connect()) {
            JetStreamSetup.provision(nc, settings, "repl.cdc");
        }
        assertThat(cluster.replicas("REPL_CDC")).isEqualTo(3);
        assertThat(cluster.replicas(NatsSettings.DLQ_STREAM)).isEqualTo(3);
        assertThat(cluster.awaitStreamLeader("REPL_CDC", Duration.ofSeconds(30))).isBetween(1, 3);
    }

    @Test
    void shouldWarnAboutAnExistingStreamWithFewerReplicasAndLeaveItAlone() throws Exception {
        LogCapture log = new LogCapture();
        try (Connection nc = io.nats.client.Nats.connect(cluster.url(1))) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(StreamConfiguration.builder().name("REPL_OLD").subjects("repl.old").storageType(StorageType.File)
                    .replicas(1).build());
            NatsSettings settings = NatsSettings.read(new Env(Map.of("NATS_STREAM_REPLICAS", "3")), "repl.old", "it");
            new StreamProvisioner(jsm, log.logger()).ensure("REPL_OLD", "repl.old", Duration.ofMinutes(2), settings.limits());
        }
        assertThat(log.at(Level.WARN)).singleElement().asString()
                .contains("REPL_OLD has 1 replica", "NATS_STREAM_REPLICAS=3", "nats stream edit REPL_OLD --replicas 3");
        assertThat(cluster.replicas("REPL_OLD")).isEqualTo(1);
    }
}
