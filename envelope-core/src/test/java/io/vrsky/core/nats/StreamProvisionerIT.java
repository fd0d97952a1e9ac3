package io.vrsky.core.nats;

import io.nats.client.Connection;
import io.nats.client.JetStreamSubscription;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.PullSubscribeOptions;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamInfo;
import io.vrsky.core.config.Env;
import io.vrsky.core.config.NatsSettings;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(RealServices.class)
@Timeout(60)
class StreamProvisionerIT {

    @Test
    void shouldCreateAMissingStreamOnceAndReuseIt(NatsServer nats) throws Exception {
        String name = "PROV_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
        try (Connection nc = Nats.connect(nats.url())) {
            StreamProvisioner provisioner = new StreamProvisioner(nc.jetStreamManagement());
            StreamInfo created = provisioner.ensure(name, name.toLowerCase() + ".a", Duration.ofMinutes(2));
            assertThat(created.getConfiguration().getStorageType()).isEqualTo(StorageType.File);
            assertThat(created.getConfiguration().getDuplicateWindow()).isEqualTo(Duration.ofMinutes(2));

            StreamInfo again = provisioner.ensure(name, name.toLowerCase() + ".a", Duration.ofMinutes(2));
            assertThat(again.getConfiguration().getSubjects()).containsExactly(name.toLowerCase() + ".a");

            StreamInfo widened = provisioner.ensure(name, name.toLowerCase() + ".b", Duration.ofMinutes(5));
            assertThat(widened.getConfiguration().getSubjects()).containsExactly(name.toLowerCase() + ".a", name.toLowerCase() + ".b");
            assertThat(widened.getConfiguration().getDuplicateWindow()).isEqualTo(Duration.ofMinutes(5));
        }
    }

    @Test
    void shouldPublishADeadLetterWithItsHeaders(NatsServer nats) throws Exception {
        String dlq = "vrsky.dlq.it" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
        NatsSettings settings = NatsSettings.read(new Env(Map.of("NATS_URL", nats.url(), "NATS_DLQ_SUBJECT", dlq)), "prov.cdc", "it");
        try (Connection nc = new NatsConnector(settings, "it").connect()) {
            JetStreamSetup.provision(nc, settings, "prov.cdc." + UUID.randomUUID().toString().substring(0, 8));
            new DeadLetterPublisher(nc.jetStream(), dlq).publish(new DeadLetterPublisher.DeadLetter(
                    "{bad".getBytes(StandardCharsets.UTF_8), "not valid JSON:\nline 1", DeadLetterPublisher.ErrorClass.DECODE,
                    null, "vrsky.cdc.shop", 42L));
            JetStreamSubscription sub = nc.jetStream().subscribe(dlq, PullSubscribeOptions.builder().build());
            List<Message> got = sub.fetch(1, Duration.ofSeconds(5));
            assertThat(got).hasSize(1);
            Message m = got.get(0);
            assertThat(new String(m.getData(), StandardCharsets.UTF_8)).isEqualTo("{bad");
            assertThat(m.getHeaders().getFirst(DeadLetterHeaders.ERROR)).isEqualTo("not valid JSON: line 1");
            assertThat(m.getHeaders().getFirst(DeadLetterHeaders.ERROR_CLASS)).isEqualTo("decode");
            assertThat(m.getHeaders().getFirst(DeadLetterHeaders.SOURCE_SUBJECT)).isEqualTo("vrsky.cdc.shop");
            assertThat(m.getHeaders().getFirst(DeadLetterHeaders.SOURCE_SEQUENCE)).isEqualTo("42");
            assertThat(m.getHeaders().get(DeadLetterHeaders.SQL_STATE)).isNull();
        }
    }
}
