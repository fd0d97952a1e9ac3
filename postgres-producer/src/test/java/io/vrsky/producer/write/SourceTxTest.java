package io.vrsky.producer.write;

import io.vrsky.core.model.Envelope;
import io.vrsky.core.model.Lsn;
import io.vrsky.producer.subscribe.InboundMessage;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.vrsky.producer.Envelopes.insert;
import static io.vrsky.producer.Envelopes.lsn;
import static io.vrsky.producer.Envelopes.message;
import static io.vrsky.producer.Envelopes.plain;
import static io.vrsky.producer.Envelopes.row;
import static org.assertj.core.api.Assertions.assertThat;

/** How a message is cut into the source transactions that are applied or dead-lettered whole. */
class SourceTxTest {

    private static InboundMessage inbound(Envelope e, String replayId) {
        return new InboundMessage(7, "s", "r", new byte[0], e, null, replayId, null, 0);
    }

    @Test
    void shouldCutAPackedMessageAtEveryTransaction() {
        Envelope packed = message("src", insert("t", lsn(10), row("id", 1)), insert("t", lsn(10), row("id", 2)),
                insert("t", lsn(11), row("id", 3)), insert("t", lsn(12), row("id", 4)));
        List<SourceTx> txs = SourceTx.split(inbound(packed, null));
        assertThat(txs).extracting(tx -> tx.commitLsn).containsExactly(lsn(10), lsn(11), lsn(12));
        assertThat(txs).extracting(tx -> tx.changes.size()).containsExactly(2, 1, 1);
        assertThat(txs).extracting(tx -> tx.txId).containsExactly(10L, 11L, 12L);
        assertThat(txs).allSatisfy(tx -> {
            assertThat(tx.key).isEqualTo("src");
            assertThat(tx.ledgerLsn).isEqualTo(tx.commitLsn);
        });
    }

    @Test
    void shouldKeepAMessageWithoutASourceWhole() {
        Envelope minimal = plain(insert("t", null, row("id", 1)), insert("t", null, row("id", 2)));
        List<SourceTx> txs = SourceTx.split(inbound(minimal, null));
        assertThat(txs).hasSize(1);
        assertThat(txs.get(0).changes).hasSize(2);
        assertThat(txs.get(0).key).isNull();
        assertThat(txs.get(0).ledgerLsn).isNull();
    }

    @Test
    void shouldTrackAReplayUnderItsReplayIdEvenWithoutACommitLsn() {
        List<SourceTx> minimal = SourceTx.split(inbound(plain(insert("t", null, row("id", 1))), "VRSKY_DLQ-4"));
        assertThat(minimal.get(0).key).isEqualTo("replay:VRSKY_DLQ-4");
        assertThat(minimal.get(0).ledgerLsn).isEqualTo(Lsn.ZERO);

        List<SourceTx> cdc = SourceTx.split(inbound(message("src", insert("t", lsn(10), row("id", 1))), "VRSKY_DLQ-5"));
        assertThat(cdc.get(0).key).isEqualTo("replay:VRSKY_DLQ-5");
        assertThat(cdc.get(0).ledgerLsn).isEqualTo(lsn(10));
    }

    @Test
    void shouldAcceptOnlyReplayIdsOfTheDocumentedForm() {
        assertThat(inbound(plain(), "VRSKY_DLQ-42").validReplayId()).isTrue();
        assertThat(inbound(plain(), "a.b_c:d-e").validReplayId()).isTrue();
        assertThat(inbound(plain(), "").validReplayId()).isFalse();
        assertThat(inbound(plain(), "has space").validReplayId()).isFalse();
        assertThat(inbound(plain(), "x".repeat(201)).validReplayId()).isFalse();
    }
}
