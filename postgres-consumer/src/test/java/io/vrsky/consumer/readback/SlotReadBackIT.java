package io.vrsky.consumer.readback;

import com.fasterxml.jackson.databind.node.IntNode;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.Nats;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import io.vrsky.core.codec.EnvelopeCodec;
import io.vrsky.core.model.Change;
import io.vrsky.core.model.Envelope;
import io.vrsky.core.model.Lsn;
import io.vrsky.core.model.Operation;
import io.vrsky.core.nats.CdcHeaders;
import io.vrsky.core.nats.StreamProvisioner;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** Reading back, from a real JetStream stream, what a slot left in it. */
@ExtendWith(RealServices.class)
@Timeout(60)
class SlotReadBackIT {

    private static final EnvelopeCodec CODEC = new EnvelopeCodec();

    private Connection nc;
    private String stream;
    private String subject;

    @BeforeEach
    void setUp(NatsServer nats) throws Exception {
        nc = Nats.connect(nats.url());
        String unique = UUID.randomUUID().toString().replace("-", "");
        stream = "UNFINISHED_" + unique;
        subject = "it.unfinished." + unique;
        new StreamProvisioner(nc.jetStreamManagement()).ensure(stream, subject, Duration.ofMinutes(2));
    }

    @AfterEach
    void tearDown() throws Exception {
        nc.jetStreamManagement().deleteStream(stream);
        nc.close();
    }

    private SlotReadBack readBack() throws Exception {
        return new SlotReadBack(nc.jetStreamManagement(), stream, subject, "slot_a", CODEC);
    }

    /** The unfinished transaction, as a session resuming from the end of the WAL sees it. */
    private Optional<PublishedChunks> find() throws Exception {
        return readBack().read(new Lsn(Long.MAX_VALUE)).unfinished();
    }

    /** A message as postgres-consumer publishes it: {@code changes} inserts, CDC headers, msg id of {@code slot}. */
    private void publish(String slot, long commitLsn, int chunk, boolean last, int changes) throws Exception {
        List<Change> list = new ArrayList<>();
        for (int i = 0; i < changes; i++) {
            list.add(new Change(Operation.INSERT, "public", "t", 7L, new Lsn(commitLsn), null, new Lsn(commitLsn - 100 + i),
                    List.of(), null, Map.of("id", IntNode.valueOf(i)), List.of()));
        }
        Headers headers = new Headers();
        headers.put(CdcHeaders.MSG_ID, slot + ":" + new Lsn(commitLsn) + ":" + chunk);
        headers.put(CdcHeaders.COMMIT_LSN, new Lsn(commitLsn).toString());
        headers.put(CdcHeaders.TX_ID, "7");
        headers.put(CdcHeaders.CHUNK, Integer.toString(chunk));
        headers.put(CdcHeaders.LAST_CHUNK, Boolean.toString(last));
        JetStream js = nc.jetStream();
        js.publish(NatsMessage.builder().subject(subject).headers(headers)
                .data(CODEC.encode(new Envelope("id", Envelope.CDC_TRANSACTION_TYPE, "test", null, null, list))).build());
    }

    @Test
    void shouldFindNothingInAnEmptyStream() throws Exception {
        assertThat(find()).isEmpty();
    }

    @Test
    void shouldFindNothingWhenTheSlotsNewestMessageEndsATransaction() throws Exception {
        publish("slot_a", 1000, 0, false, 3);
        publish("slot_a", 1000, 1, true, 1);

        assertThat(find()).isEmpty();
    }

    @Test
    void shouldCollectTheChunksOfTheUnfinishedTransactionPastOtherSlotsMessages() throws Exception {
        publish("slot_a", 500, 0, true, 4);
        publish("slot_a", 1000, 0, false, 3);
        publish("slot_b", 900, 0, true, 5);
        publish("slot_a", 1000, 1, false, 2);
        publish("slot_b", 950, 0, true, 1);

        assertThat(find()).contains(new PublishedChunks(new Lsn(1000), List.of(3, 2)));
    }

    @Test
    void shouldGiveUpOnMessagesItCannotReadInsteadOfFailing() throws Exception {
        publish("slot_a", 1000, 0, false, 3);
        Headers headers = new Headers();
        headers.put(CdcHeaders.MSG_ID, "slot_a:0/3E8:x");
        headers.put(CdcHeaders.COMMIT_LSN, "0/3E8");
        headers.put(CdcHeaders.CHUNK, "x");
        headers.put(CdcHeaders.LAST_CHUNK, "false");
        nc.jetStream().publish(NatsMessage.builder().subject(subject).headers(headers).data("not json".getBytes()).build());

        assertThat(find()).isEmpty();
    }

    @Test
    void shouldTellWhetherTheSlotPublishedPastOtherSlotsMessages() throws Exception {
        assertThat(readBack().hasMessages()).isFalse();
        publish("slot_b", 900, 0, true, 5);
        assertThat(readBack().hasMessages()).isFalse();

        publish("slot_a", 500, 0, true, 4);
        publish("slot_b", 950, 0, true, 1);

        assertThat(readBack().hasMessages()).isTrue();
    }

    @Test
    void shouldNameTheNewestStoredCommitBelowTheConfirmedPositionAsThePrevious() throws Exception {
        publish("slot_a", 500, 0, true, 4);
        publish("slot_a", 600, 0, true, 4);
        publish("slot_b", 650, 0, true, 4);
        publish("slot_a", 700, 0, true, 4);
        publish("slot_a", 800, 0, true, 4);

        LeftInStream left = readBack().read(new Lsn(750)); // 800 was stored, 700 confirmed: 800 is sent again

        assertThat(left.prevCommitLsn()).isEqualTo(new Lsn(700));
        assertThat(left.newestCommitLsn()).isEqualTo(new Lsn(800));
        assertThat(left.unfinished()).isEmpty();
        assertThat(readBack().read(new Lsn(500)).prevCommitLsn()).isNull();
        assertThat(readBack().read(new Lsn(801)).prevCommitLsn()).isEqualTo(new Lsn(800));
    }

    @Test
    void shouldNameTheTransactionBeforeAHalfPublishedOneAsThePrevious() throws Exception {
        publish("slot_a", 500, 0, true, 4);
        publish("slot_a", 1000, 0, false, 3);
        publish("slot_a", 1000, 1, false, 2);

        LeftInStream left = readBack().read(new Lsn(600));

        assertThat(left.unfinished()).contains(new PublishedChunks(new Lsn(1000), List.of(3, 2)));
        assertThat(left.prevCommitLsn()).isEqualTo(new Lsn(500));
        assertThat(left.newestCommitLsn()).isEqualTo(new Lsn(1000));
    }

    @Test
    void shouldLookAtNoMoreThanTheScanLimitOfStoredMessages() throws Exception {
        publish("slot_a", 500, 0, true, 1);
        JetStream js = nc.jetStream();
        java.util.concurrent.CompletableFuture<?> last = null;
        for (int i = 0; i < SlotReadBack.MAX_SCAN; i++) {
            Headers other = new Headers();
            other.put(CdcHeaders.MSG_ID, "slot_b:0/" + Integer.toHexString(i + 1) + ":0");
            other.put(CdcHeaders.COMMIT_LSN, "0/" + Integer.toHexString(i + 1));
            other.put(CdcHeaders.CHUNK, "0");
            last = js.publishAsync(NatsMessage.builder().subject(subject).headers(other).data(new byte[] {'{', '}'}).build());
        }
        last.get();

        assertThat(readBack().hasMessages()).isFalse();
        assertThat(readBack().read(new Lsn(600))).isEqualTo(LeftInStream.NOTHING);
    }

    @Test
    void shouldGiveUpWhenTheChunksDoNotRunBackToChunkZero() throws Exception {
        publish("slot_a", 500, 0, true, 4);
        publish("slot_a", 1000, 1, false, 2);

        assertThat(find()).isEmpty();
    }
}
