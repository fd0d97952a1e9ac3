package io.vrsky.producer.subscribe;

import io.nats.client.Connection;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.DeliverPolicy;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.vrsky.core.codec.EnvelopeCodec;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** The durable never rewinds before what it was meant to start from after an unclean stop. */
@ExtendWith(RealServices.class)
class DurableResumeIT {

    private static final AtomicInteger COUNTER = new AtomicInteger();

    @Test
    @Timeout(60)
    void shouldKeepTheStartSequenceOfADurableThatAckedNothingBeforeAnUncleanStop(NatsServer nats) throws Exception {
        String name = "resume" + COUNTER.incrementAndGet() + "x" + ProcessHandle.current().pid();
        String stream = "IT_" + name.toUpperCase();
        String subject = "it." + name + ".cdc";
        String durable = "producer-" + name;
        try (Connection nc = Nats.connect(nats.url())) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            jsm.addStream(StreamConfiguration.builder().name(stream).subjects(subject).storageType(StorageType.File).build());
            for (int i = 1; i <= 10; i++) {
                nc.jetStream().publish(subject, ("m" + i).getBytes(StandardCharsets.UTF_8));
            }
            // as a previous run left it: recreated from sequence 6, two deliveries pending, nothing acknowledged yet
            jsm.addOrUpdateConsumer(stream, ConsumerConfiguration.builder().durable(durable).filterSubject(subject)
                    .ackPolicy(AckPolicy.Explicit).ackWait(Duration.ofSeconds(60)).maxAckPending(JetStreamSource.MAX_ACK_PENDING)
                    .maxDeliver(-1).deliverPolicy(DeliverPolicy.ByStartSequence).startSequence(6).build());
            JetStreamSource first = new JetStreamSource(nc, new EnvelopeCodec(), stream, subject, durable, Duration.ofSeconds(60));
            first.rebind();
            assertThat(first.fetch(2, Duration.ofSeconds(5))).extracting(RawMessage::streamSeq).containsExactly(6L, 7L);
            first.close();
            assertThat(jsm.getConsumerInfo(stream, durable).getNumAckPending()).isEqualTo(2);

            JetStreamSource second = new JetStreamSource(nc, new EnvelopeCodec(), stream, subject, durable, Duration.ofSeconds(60));
            second.open();
            List<RawMessage> again = second.fetch(10, Duration.ofSeconds(5));
            second.close();

            assertThat(again).extracting(RawMessage::streamSeq).as("redelivered from the start sequence, not from 1")
                    .startsWith(6L, 7L).doesNotContain(1L, 5L);
        }
    }
}
