package io.vrsky.consumer.batch;

import io.vrsky.consumer.encode.EncodedChange;
import io.vrsky.consumer.readback.LeftInStream;
import io.vrsky.consumer.readback.PublishedChunks;
import io.vrsky.consumer.tx.TxInfo;
import io.vrsky.core.model.Lsn;
import io.vrsky.core.model.Operation;
import io.vrsky.core.model.TableId;
import io.vrsky.testing.ManualClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MessageBatcherTest {

    private final ManualClock clock = new ManualClock();
    private final Recording.Messages out = new Recording.Messages();
    private final TableId table = new TableId("public", "t");

    private MessageBatcher batcher(int batchSize, long maxBytes) {
        return new MessageBatcher(batchSize, Duration.ofSeconds(5), maxBytes, clock, out);
    }

    private static TxInfo tx(int n) {
        return new TxInfo(n, new Lsn(n * 100L), Instant.parse("2026-02-17T10:00:00Z"));
    }

    private static Lsn end(int n) {
        return new Lsn(n * 100L + 50);
    }

    private EncodedChange change(int size) {
        return new EncodedChange(table, Operation.INSERT, new byte[size]);
    }

    private void transaction(MessageBatcher b, int n, int changes, int size) throws InterruptedException {
        b.begin(tx(n));
        for (int i = 0; i < changes; i++) {
            b.change(change(size));
        }
        b.commit(tx(n), end(n));
    }

    @Test
    void shouldGiveEachMessageItsTablesOnceAndItsTransactionsInOrder() throws Exception {
        MessageBatcher b = batcher(5, 1 << 20);
        byte[] a = {'{', 'a', '}'};
        byte[] c = {'{', 'c', '}'};
        b.begin(tx(1));
        b.change(new EncodedChange(table, Operation.INSERT, new byte[10], a));
        b.change(new EncodedChange(table, Operation.INSERT, new byte[10], c));
        b.change(new EncodedChange(table, Operation.INSERT, new byte[10], a));
        b.commit(tx(1), end(1));
        b.begin(tx(2));
        b.change(new EncodedChange(table, Operation.INSERT, new byte[10], c));
        b.commit(tx(2), end(2));
        b.begin(tx(3)); // larger than the batch: chunks, each with its own entries
        for (int i = 0; i < 7; i++) {
            b.change(new EncodedChange(table, Operation.INSERT, new byte[10], i < 5 ? a : c));
        }
        b.commit(tx(3), end(3));

        assertThat(out.messages).hasSize(3);
        assertThat(out.messages.get(0).tables()).containsExactly(a, c);
        assertThat(out.messages.get(0).transactions()).containsExactly(tx(1), tx(2));
        assertThat(out.messages.get(1).tables()).containsExactly(a);
        assertThat(out.messages.get(1).transactions()).containsExactly(tx(3));
        assertThat(out.messages.get(2).tables()).containsExactly(c);
        assertThat(out.messages.get(2).transactions()).containsExactly(tx(3));
        assertThat(new EncodedChange(table, Operation.INSERT, new byte[10], a).size()).as("counts the entries")
                .isGreaterThan(new EncodedChange(table, Operation.INSERT, new byte[10]).size() + a.length);
    }

    @Test
    void shouldPackWholeTransactionsUntilTheNextOneWouldNotFit() throws Exception {
        MessageBatcher b = batcher(10, 1 << 20);

        transaction(b, 1, 4, 10);
        transaction(b, 2, 4, 10);
        transaction(b, 3, 4, 10);
        b.flush();

        assertThat(out.messages).hasSize(2);
        OutgoingMessage first = out.messages.get(0);
        assertThat(first.changes()).hasSize(8);
        assertThat(first.transactionCount()).isEqualTo(2);
        assertThat(first.lastTx()).isEqualTo(tx(2));
        assertThat(first.confirmLsn()).isEqualTo(end(2));
        assertThat(first.chunk()).isZero();
        assertThat(first.lastChunk()).isTrue();
        assertThat(first.counts()).containsEntry(new TableOp(table, Operation.INSERT), 8);
        assertThat(out.messages.get(1).lastTx()).isEqualTo(tx(3));
    }

    @Test
    void shouldGoOnWithAHalfPublishedTransactionAfterTheChunksInTheStream() throws Exception {
        // an earlier session published chunks 0 and 1 of transaction 7 with 4 changes each, then stopped
        MessageBatcher b = batcher(10, 1 << 20);
        b.resume(new PublishedChunks(tx(7).commitLsn(), java.util.List.of(4, 4)));

        b.begin(tx(7));
        for (int i = 0; i < 25; i++) {
            b.change(new EncodedChange(table, Operation.INSERT, new byte[] {(byte) i}));
        }
        b.commit(tx(7), end(7));
        transaction(b, 8, 25, 10);

        assertThat(out.messages).extracting(m -> m.changes().size()).containsExactly(10, 7, 10, 10, 5);
        assertThat(out.messages).extracting(OutgoingMessage::chunk).containsExactly(2, 3, 0, 1, 2);
        assertThat(out.messages).extracting(OutgoingMessage::lastChunk).containsExactly(false, true, false, false, true);
        assertThat(out.messages.get(0).changes().get(0)).containsExactly(8); // the 9th change: the first 8 are in the stream
    }

    @Test
    void aResumedTransactionShouldStayChunkedEvenWhenItFitsTheBatchNow() throws Exception {
        // chunk 0 with 4 changes is in the stream; the rest (2) goes out as chunk 1, the last, after
        // the whole transaction that waits before it
        MessageBatcher b = batcher(10, 1 << 20);
        b.resume(new PublishedChunks(tx(3).commitLsn(), java.util.List.of(4)));

        transaction(b, 2, 3, 10);
        transaction(b, 3, 6, 10);

        assertThat(out.messages).extracting(m -> m.changes().size()).containsExactly(3, 2);
        assertThat(out.messages).extracting(OutgoingMessage::chunk).containsExactly(0, 1);
        assertThat(out.messages).extracting(OutgoingMessage::lastChunk).containsExactly(true, true);
    }

    @Test
    void aResumedTransactionShouldNotDependOnTheLimitsTheChunksWereCutWith() throws Exception {
        // chunks of 4 changes of 10 bytes were published; now a message holds 25 bytes of changes
        MessageBatcher b = batcher(10, 25);
        b.resume(new PublishedChunks(tx(5).commitLsn(), java.util.List.of(4, 4)));

        transaction(b, 5, 12, 10);

        assertThat(out.messages).extracting(m -> m.changes().size()).containsExactly(2, 2);
        assertThat(out.messages).extracting(OutgoingMessage::chunk).containsExactly(2, 3);
        assertThat(out.messages).extracting(OutgoingMessage::lastChunk).containsExactly(false, true);
    }

    @Test
    void shouldSendAFullMessageWithoutWaitingForMore() throws Exception {
        MessageBatcher b = batcher(10, 1 << 20);

        transaction(b, 1, 10, 10);

        assertThat(out.messages).singleElement().satisfies(m -> assertThat(m.changes()).hasSize(10));
        assertThat(b.isEmpty()).isTrue();
    }

    @Test
    void shouldChunkALargeTransactionIntoBatchSizedChunksNumberedFromZero() throws Exception {
        MessageBatcher b = batcher(10, 1 << 20);

        transaction(b, 7, 25, 10);

        assertThat(out.messages).extracting(m -> m.changes().size()).containsExactly(10, 10, 5);
        assertThat(out.messages).extracting(OutgoingMessage::chunk).containsExactly(0, 1, 2);
        assertThat(out.messages).extracting(OutgoingMessage::lastChunk).containsExactly(false, false, true);
        assertThat(out.messages).extracting(OutgoingMessage::confirmLsn).containsExactly(null, null, end(7));
        assertThat(out.messages).extracting(m -> m.messageId("s")).containsExactly("s:0/2BC:0", "s:0/2BC:1", "s:0/2BC:2");
    }

    @Test
    void shouldEmitChunksAsTheyFillSoATransactionIsNeverHeldWhole() throws Exception {
        MessageBatcher b = batcher(10, 1 << 20);
        b.begin(tx(1));
        for (int i = 0; i < 35; i++) {
            b.change(change(10));
        }

        assertThat(out.messages).hasSize(3);
        assertThat(out.messages).allMatch(m -> !m.lastChunk());
    }

    @Test
    void shouldNeverSendAnEmptyLastChunk() throws Exception {
        MessageBatcher b = batcher(10, 1 << 20);

        transaction(b, 1, 20, 10);

        assertThat(out.messages).extracting(m -> m.changes().size()).containsExactly(10, 10);
        assertThat(out.messages.get(1).lastChunk()).isTrue();
    }

    @Test
    void shouldSplitChunksByBytesToStayUnderTheMaximumPayload() throws Exception {
        MessageBatcher b = batcher(100, 250);

        transaction(b, 1, 10, 100);

        assertThat(out.messages).extracting(m -> m.changes().size()).containsExactly(2, 2, 2, 2, 2);
        assertThat(out.messages).allMatch(m -> m.bytes() <= 250);
    }

    @Test
    void shouldSendPendingTransactionsBeforeTheChunksOfALargeOne() throws Exception {
        MessageBatcher b = batcher(10, 1 << 20);

        transaction(b, 1, 3, 10);
        transaction(b, 2, 15, 10);

        assertThat(out.messages).extracting(m -> m.lastTx().txId()).containsExactly(1L, 2L, 2L);
        assertThat(out.messages).extracting(OutgoingMessage::chunk).containsExactly(0, 0, 1);
        assertThat(out.messages.get(0).confirmLsn()).isEqualTo(end(1));
    }

    @Test
    void shouldFlushAPendingMessageOnceTheBatchTimeoutHasPassed() throws Exception {
        MessageBatcher b = batcher(100, 1 << 20);
        transaction(b, 1, 3, 10);

        clock.advance(Duration.ofMillis(4999));
        b.flushIfDue();
        assertThat(out.messages).isEmpty();

        clock.advance(Duration.ofMillis(1));
        b.flushIfDue();
        assertThat(out.messages).hasSize(1);
    }

    @Test
    void shouldCarryTheEndOfAFilteredTransactionOnThePendingMessageOrPassItThrough() throws Exception {
        MessageBatcher b = batcher(100, 1 << 20);

        transaction(b, 1, 0, 0);
        transaction(b, 2, 2, 10);
        transaction(b, 3, 0, 0);
        b.flush();

        assertThat(out.passedThrough).containsExactly(end(1));
        assertThat(out.messages).singleElement().satisfies(m -> {
            assertThat(m.lastTx()).isEqualTo(tx(2));
            assertThat(m.confirmLsn()).isEqualTo(end(3));
        });
    }

    @Test
    void shouldSendThePendingMessageAndPassTheServerPositionThroughWhenIdle() throws Exception {
        MessageBatcher b = batcher(10, 1 << 20);
        transaction(b, 1, 2, 10);

        b.idle(new Lsn(5000));

        assertThat(out.messages).hasSize(1);
        assertThat(out.passedThrough).containsExactly(new Lsn(5000));
    }

    @Test
    void shouldNotPassTheServerPositionThroughInsideATransaction() throws Exception {
        MessageBatcher b = batcher(10, 1 << 20);
        b.begin(tx(1));
        b.change(change(10));

        b.idle(new Lsn(5000));

        assertThat(out.passedThrough).isEmpty();
        assertThat(out.messages).isEmpty();
    }

    @Test
    void shouldRefuseASingleChangeLargerThanAMessageCanCarry() throws Exception {
        MessageBatcher b = batcher(100, 1000);
        b.begin(tx(1));

        assertThatThrownBy(() -> b.change(change(5000))).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("5000 bytes");
    }

    @Test
    void shouldChainEachMessageToTheTransactionBeforeIt() throws Exception {
        MessageBatcher b = batcher(4, 1 << 20);
        b.resume(new LeftInStream(Optional.empty(), new Lsn(42), null));

        transaction(b, 1, 2, 10);
        transaction(b, 2, 2, 10); // packed with 1
        transaction(b, 3, 9, 10); // chunks 0-2, after the pending message
        transaction(b, 4, 1, 10);
        b.flush();

        assertThat(out.messages).extracting(m -> m.lastTx().txId()).containsExactly(2L, 3L, 3L, 3L, 4L);
        assertThat(out.messages).extracting(OutgoingMessage::prevCommitLsn)
                .containsExactly(new Lsn(42), tx(2).commitLsn(), tx(2).commitLsn(), tx(2).commitLsn(), tx(3).commitLsn());
    }

    @Test
    void shouldNameNoPreviousTransactionWhenNoneIsKnown() throws Exception {
        MessageBatcher b = batcher(10, 1 << 20);

        transaction(b, 1, 2, 10);
        b.flush();
        transaction(b, 2, 2, 10);
        b.flush();

        assertThat(out.messages).extracting(OutgoingMessage::prevCommitLsn).containsExactly(null, tx(1).commitLsn());
    }

    @Test
    void shouldSendTransactionsTheStreamMayHoldOnePerMessageThenPackAgain() throws Exception {
        MessageBatcher b = batcher(10, 1 << 20);
        b.resume(new LeftInStream(Optional.empty(), new Lsn(1), tx(3).commitLsn()));

        for (int n = 1; n <= 6; n++) {
            transaction(b, n, 1, 10);
        }
        b.flush();

        assertThat(out.messages).extracting(OutgoingMessage::transactionCount).containsExactly(1, 1, 1, 3);
        assertThat(out.messages).extracting(m -> m.lastTx().txId()).containsExactly(1L, 2L, 3L, 6L);
        assertThat(out.messages).extracting(OutgoingMessage::prevCommitLsn)
                .containsExactly(new Lsn(1), tx(1).commitLsn(), tx(2).commitLsn(), tx(3).commitLsn());
    }

    @Test
    void aResumedTransactionsChunksShouldAllNameTheTransactionBeforeIt() throws Exception {
        MessageBatcher b = batcher(10, 1 << 20);
        b.resume(new LeftInStream(Optional.of(new PublishedChunks(tx(7).commitLsn(), java.util.List.of(10))), tx(6).commitLsn(),
                tx(7).commitLsn()));

        transaction(b, 7, 25, 10);

        assertThat(out.messages).extracting(OutgoingMessage::chunk).containsExactly(1, 2);
        assertThat(out.messages).extracting(OutgoingMessage::prevCommitLsn).containsOnly(tx(6).commitLsn());
    }
}
