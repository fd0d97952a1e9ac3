package io.vrsky.core.nats;

import ch.qos.logback.classic.Level;
import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.JetStreamSubscription;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.PullSubscribeOptions;
import io.nats.client.api.DiscardPolicy;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import io.vrsky.core.LogCapture;
import io.vrsky.core.config.Env;
import io.vrsky.core.config.NatsSettings;
import io.vrsky.core.config.StreamLimits;
import io.vrsky.core.model.Lsn;
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
import static org.assertj.core.api.Assertions.catchThrowableOfType;

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

    private static String unique(String prefix) {
        return prefix + UUID.randomUUID().toString().replace("-", "").substring(0, 8).toUpperCase();
    }

    @Test
    void shouldCreateStreamsWithTheConfiguredLimitsAndDiscardNew(NatsServer nats) throws Exception {
        String name = unique("LIMITS_");
        try (Connection nc = Nats.connect(nats.url())) {
            StreamInfo created = new StreamProvisioner(nc.jetStreamManagement()).ensure(name, name.toLowerCase() + ".a",
                    Duration.ofMinutes(2), new StreamLimits(Duration.ofDays(7), 10L << 20, StreamLimits.Discard.NEW));

            StreamConfiguration config = created.getConfiguration();
            assertThat(config.getMaxAge()).isEqualTo(Duration.ofDays(7));
            assertThat(config.getMaxBytes()).isEqualTo(10L << 20);
            assertThat(config.getDiscardPolicy()).isEqualTo(DiscardPolicy.New);
        }
    }

    @Test
    void shouldCreateStreamsWithoutLimitsThatDiscardNewByDefault(NatsServer nats) throws Exception {
        String name = unique("DEFAULT_");
        try (Connection nc = Nats.connect(nats.url())) {
            StreamConfiguration config = new StreamProvisioner(nc.jetStreamManagement())
                    .ensure(name, name.toLowerCase() + ".a", Duration.ofMinutes(2)).getConfiguration();

            assertThat(config.getDiscardPolicy()).isEqualTo(DiscardPolicy.New);
            assertThat(config.getMaxBytes()).isEqualTo(-1);
            assertThat(config.getMaxAge()).isEqualTo(Duration.ZERO);
        }
    }

    @Test
    void shouldWarnOnceAboutAnExistingDiscardOldStreamWithMaxBytesAndLeaveItsLimitsAlone(NatsServer nats) throws Exception {
        String name = unique("RISKY_");
        LogCapture log = new LogCapture();
        try (Connection nc = Nats.connect(nats.url())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(StreamConfiguration.builder().name(name).subjects(name.toLowerCase() + ".a").storageType(StorageType.File)
                    .maxBytes(1L << 20).discardPolicy(DiscardPolicy.Old).build());

            StreamInfo info = new StreamProvisioner(jsm, log.logger()).ensure(name, name.toLowerCase() + ".a", Duration.ofMinutes(2),
                    new StreamLimits(Duration.ZERO, 10L << 30, StreamLimits.Discard.NEW));

            assertThat(log.at(Level.WARN)).singleElement().asString()
                    .startsWith("JetStream stream " + name + " can lose changes nobody has read yet: max bytes 1MB with discard old")
                    .contains("Fix: nats stream edit " + name + " --discard new");
            assertThat(info.getConfiguration().getDiscardPolicy()).isEqualTo(DiscardPolicy.Old);
            assertThat(jsm.getStreamInfo(name).getConfiguration().getMaxBytes()).isEqualTo(1L << 20);
        }
    }

    @Test
    void shouldWarnAboutAnExistingStreamWithAMaxAgeButNotAboutADiscardNewLimit(NatsServer nats) throws Exception {
        String aged = unique("AGED_");
        String capped = unique("CAPPED_");
        LogCapture log = new LogCapture();
        try (Connection nc = Nats.connect(nats.url())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(StreamConfiguration.builder().name(aged).subjects(aged.toLowerCase() + ".a").maxAge(Duration.ofHours(1))
                    .discardPolicy(DiscardPolicy.New).build());
            jsm.addStream(StreamConfiguration.builder().name(capped).subjects(capped.toLowerCase() + ".a").maxMessages(1000)
                    .discardPolicy(DiscardPolicy.New).build());
            StreamProvisioner provisioner = new StreamProvisioner(jsm, log.logger());

            provisioner.ensure(aged, aged.toLowerCase() + ".a", Duration.ofMinutes(2));
            provisioner.ensure(capped, capped.toLowerCase() + ".a", Duration.ofMinutes(2));

            assertThat(log.at(Level.WARN)).singleElement().asString().contains("JetStream stream " + aged)
                    .contains("max age 1h").contains("--max-age");
        }
    }

    @Test
    void shouldRecogniseAPublishRefusedBecauseTheStreamIsFull(NatsServer nats) throws Exception {
        String name = unique("FULL_");
        String subject = name.toLowerCase() + ".a";
        try (Connection nc = Nats.connect(nats.url())) {
            nc.jetStreamManagement().addStream(StreamConfiguration.builder().name(name).subjects(subject).maxMessages(2)
                    .discardPolicy(DiscardPolicy.New).build());
            nc.jetStream().publish(subject, new byte[10]);
            nc.jetStream().publish(subject, new byte[10]);

            JetStreamApiException refused = catchThrowableOfType(() -> nc.jetStream().publish(subject, new byte[10]),
                    JetStreamApiException.class);

            assertThat(JetStreamErrors.isStreamFull(refused)).as("%s", refused).isTrue();
            assertThat(JetStreamErrors.isStreamFull(new RuntimeException(refused))).isTrue();
            assertThat(JetStreamErrors.fullStreamProblem(name, nc.jetStreamManagement().getStreamInfo(name).getConfiguration(), refused))
                    .hasValueSatisfying(p -> assertThat(p)
                            .startsWith("JetStream stream " + name + " is full (max messages 2, discard new): maximum messages exceeded"));
        }
    }

    @Test
    void shouldRecogniseAStreamFullOfBytesAndAMessageTooLarge(NatsServer nats) throws Exception {
        String name = unique("BYTES_");
        String subject = name.toLowerCase() + ".a";
        try (Connection nc = Nats.connect(nats.url())) {
            nc.jetStreamManagement().addStream(StreamConfiguration.builder().name(name).subjects(subject).maxBytes(2000)
                    .maximumMessageSize(1500).discardPolicy(DiscardPolicy.New).build());
            nc.jetStream().publish(subject, new byte[1000]);

            JetStreamApiException tooLarge = catchThrowableOfType(() -> nc.jetStream().publish(subject, new byte[1600]),
                    JetStreamApiException.class);
            JetStreamApiException full = catchThrowableOfType(() -> nc.jetStream().publish(subject, new byte[1400]),
                    JetStreamApiException.class);

            assertThat(JetStreamErrors.isMessageTooLarge(tooLarge)).as("%s", tooLarge).isTrue();
            assertThat(JetStreamErrors.isStreamFull(tooLarge)).isFalse();
            assertThat(JetStreamErrors.isStreamFull(full)).as("%s", full).isTrue();
            assertThat(JetStreamErrors.fullStreamProblem(name, null, full)).hasValueSatisfying(p -> assertThat(p)
                    .startsWith("JetStream stream " + name + " is full: maximum bytes exceeded"));
        }
    }

    @Test
    void shouldSayWhenTheServersStorageCannotHoldWhatAStreamReserves(NatsServer nats) throws Exception {
        String name = unique("RESERVE_");
        String subject = name.toLowerCase() + ".a";
        try (Connection nc = Nats.connect(nats.url())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            long tooMuch = 1L << 50; // 1 PiB: more than any test machine's disk
            JetStreamApiException refused;
            try {
                jsm.addStream(StreamConfiguration.builder().name(name).subjects(subject).maxBytes(tooMuch)
                        .discardPolicy(DiscardPolicy.New).build());
                refused = catchThrowableOfType(() -> nc.jetStream().publish(subject, new byte[10]), JetStreamApiException.class);
            } catch (JetStreamApiException atCreate) {
                refused = atCreate; // newer servers refuse the stream itself
            }
            assertThat(refused).as("the server refuses a stream reserving more than its storage").isNotNull();
            assertThat(JetStreamErrors.isStreamFull(refused)).as("%s", refused).isTrue();
            assertThat(JetStreamErrors.fullStreamProblem(name, null, refused)).hasValueSatisfying(p -> assertThat(p)
                    .startsWith("JetStream refuses messages of stream " + name + ": insufficient storage resources available")
                    .contains("NATS_STREAM_MAX_BYTES", "max_file_store").doesNotContain("is full"));
        }
    }

    @Test
    void shouldStoreADeadLetterWithChineseTextInItsErrorOnlyOncePerMessageId(NatsServer nats) throws Exception {
        String dlq = "vrsky.dlq.it" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
        NatsSettings settings = NatsSettings.read(new Env(Map.of("NATS_URL", nats.url(), "NATS_DLQ_SUBJECT", dlq)), "prov.cdc", "it");
        try (Connection nc = Nats.connect(nats.url())) {
            JetStreamSetup.provision(nc, settings, "prov.cdc." + UUID.randomUUID().toString().substring(0, 8));
            DeadLetterPublisher publisher = new DeadLetterPublisher(nc.jetStream(), dlq);
            DeadLetterPublisher.DeadLetter letter = new DeadLetterPublisher.DeadLetter("{}".getBytes(StandardCharsets.UTF_8),
                    "ERROR: new row violates check constraint \"note_ok\" (世界)", DeadLetterPublisher.ErrorClass.SQL, "23514",
                    "vrsky.cdc.shop", 7L).withMsgId("dlq:it:7:0/16B3748").withTransaction(7412L, Lsn.parse("0/16B3748"));

            publisher.publish(letter);
            publisher.publish(letter);

            JetStreamSubscription sub = nc.jetStream().subscribe(dlq, PullSubscribeOptions.builder().build());
            List<Message> got = sub.fetch(5, Duration.ofSeconds(2));
            assertThat(got).hasSize(1);
            Headers headers = got.get(0).getHeaders();
            assertThat(headers.getFirst(DeadLetterHeaders.ERROR))
                    .isEqualTo("ERROR: new row violates check constraint \"note_ok\" (\\u4e16\\u754c)");
            assertThat(headers.getFirst(DeadLetterHeaders.TX_ID)).isEqualTo("7412");
            assertThat(headers.getFirst(DeadLetterHeaders.COMMIT_LSN)).isEqualTo("0/16B3748");
        }
    }

    @Test
    void shouldKeepADeadLetterWhoseBodyExceedsTheMaxPayloadWithoutItsBody(NatsServer nats) throws Exception {
        String dlq = "vrsky.dlq.it" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
        NatsSettings settings = NatsSettings.read(new Env(Map.of("NATS_URL", nats.url(), "NATS_DLQ_SUBJECT", dlq)), "prov.cdc", "it");
        try (Connection nc = Nats.connect(nats.url())) {
            JetStreamSetup.provision(nc, settings, "prov.cdc." + UUID.randomUUID().toString().substring(0, 8));
            byte[] body = new byte[(int) nc.getMaxPayload() + 1];

            new DeadLetterPublisher(nc.jetStream(), dlq).publish(new DeadLetterPublisher.DeadLetter(body, "cannot decode",
                    DeadLetterPublisher.ErrorClass.DECODE, null, "vrsky.cdc.shop", 9L));

            List<Message> got = nc.jetStream().subscribe(dlq, PullSubscribeOptions.builder().build()).fetch(1, Duration.ofSeconds(5));
            assertThat(got).hasSize(1);
            assertThat(got.get(0).getData()).isNullOrEmpty();
            assertThat(got.get(0).getHeaders().getFirst(DeadLetterHeaders.BODY_OMITTED)).startsWith(body.length + " bytes");
            assertThat(got.get(0).getHeaders().getFirst(DeadLetterHeaders.ERROR)).isEqualTo("cannot decode");
        }
    }
}
