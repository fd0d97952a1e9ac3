package io.vrsky.producer.write;

import io.vrsky.core.model.Envelope;
import io.vrsky.core.model.Lsn;
import io.vrsky.producer.Envelopes;
import io.vrsky.producer.subscribe.InboundMessage;
import org.junit.jupiter.api.Test;

import static io.vrsky.producer.Envelopes.insert;
import static io.vrsky.producer.Envelopes.row;
import static org.assertj.core.api.Assertions.assertThat;

/** Which pulled chunks the loop may hand to the chunked writer together. */
class ChunkGroupingTest {

    private static final Lsn LSN = new Lsn(100);

    private static InboundMessage chunk(String source, Lsn lsn, int n, boolean last) {
        return message(Envelopes.chunk(source, lsn, n, last, insert("t", lsn, row("id", n))));
    }

    private static InboundMessage message(Envelope envelope) {
        return new InboundMessage(1, "s", "r", new byte[0], envelope, null, 0);
    }

    @Test
    void shouldGroupTheNextChunkOfTheSameTransaction() {
        assertThat(ChunkedTransactionWriter.follows(chunk("a", LSN, 0, false), chunk("a", LSN, 1, false))).isTrue();
        assertThat(ChunkedTransactionWriter.follows(chunk("a", LSN, 1, false), chunk("a", LSN, 2, true))).isTrue();
    }

    @Test
    void shouldNotGroupAnythingElse() {
        InboundMessage first = chunk("a", LSN, 0, false);
        assertThat(ChunkedTransactionWriter.follows(first, chunk("a", LSN, 2, false))).as("a gap").isFalse();
        assertThat(ChunkedTransactionWriter.follows(first, chunk("a", LSN, 0, false))).as("a repeat").isFalse();
        assertThat(ChunkedTransactionWriter.follows(first, chunk("b", LSN, 1, false))).as("another source").isFalse();
        assertThat(ChunkedTransactionWriter.follows(first, chunk("a", new Lsn(101), 1, false))).as("another transaction").isFalse();
        assertThat(ChunkedTransactionWriter.follows(chunk("a", LSN, 1, true), chunk("a", LSN, 2, true))).as("after the last").isFalse();
        assertThat(ChunkedTransactionWriter.follows(first, message(Envelopes.message("a", insert("t", LSN, row("id", 1))))))
                .as("a whole message").isFalse();
        assertThat(ChunkedTransactionWriter.follows(first, new InboundMessage(2, "s", "r", new byte[0], null, "bad", 0)))
                .as("a decode failure").isFalse();
    }
}
