package io.vrsky.consumer.batch;

import io.vrsky.consumer.tx.TxInfo;
import io.vrsky.core.codec.EnvelopeWriter;
import io.vrsky.core.model.Lsn;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class OutgoingMessageTest {

    @Test
    void shouldNameTheMessageBySlotCommitLsnOfItsLastTransactionAndChunk() {
        TxInfo tx = new TxInfo(7412, Lsn.parse("0/16B3748"), Instant.parse("2026-02-17T10:00:00.120001Z"));
        OutgoingMessage m = new OutgoingMessage(List.of(new byte[] {'{', '}'}, new byte[] {'{', '}'}), List.of(), List.of(tx), 4, tx, 3, false, 1, null, Map.of(), null);

        assertThat(m.messageId("vrsky_shop")).isEqualTo("vrsky_shop:0/16B3748:3");
        assertThat(m.metadata()).isEqualTo(new EnvelopeWriter.Metadata(7412, tx.commitLsn(), tx.commitTime(), 3, false, 1));
    }
}
