package io.vrsky.consumer.publish;

import io.vrsky.core.model.Lsn;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LsnTrackerTest {

    private static final Lsn START = new Lsn(1000);

    @Test
    void shouldNotConfirmLsnUntilEveryAckArrived() {
        LsnTracker tracker = new LsnTracker(START);
        long a = tracker.register(new Lsn(1100));
        long b = tracker.register(new Lsn(1200));
        long c = tracker.register(new Lsn(1300));

        tracker.ack(c);
        tracker.ack(b);
        assertThat(tracker.confirmable()).isEqualTo(START);

        tracker.ack(a);
        assertThat(tracker.confirmable()).isEqualTo(new Lsn(1300));
        assertThat(tracker.isIdle()).isTrue();
    }

    @Test
    void shouldConfirmAChunkedTransactionOnlyWithItsLastChunk() {
        LsnTracker tracker = new LsnTracker(START);
        long chunk0 = tracker.register(null);
        long chunk1 = tracker.register(null);
        long last = tracker.register(new Lsn(2000));

        tracker.ack(chunk0);
        tracker.ack(chunk1);
        assertThat(tracker.confirmable()).isEqualTo(START);

        tracker.ack(last);
        assertThat(tracker.confirmable()).isEqualTo(new Lsn(2000));
    }

    @Test
    void shouldHoldAPassThroughPositionBehindMessagesStillInFlight() {
        LsnTracker tracker = new LsnTracker(START);
        long a = tracker.register(new Lsn(1100));
        tracker.passThrough(new Lsn(1500));

        assertThat(tracker.confirmable()).isEqualTo(START);
        assertThat(tracker.outstanding()).isEqualTo(2);

        tracker.ack(a);
        assertThat(tracker.confirmable()).isEqualTo(new Lsn(1500));
    }

    @Test
    void shouldKeepConsecutivePassThroughPositionsAsOneBehindTheSameMessages() {
        LsnTracker tracker = new LsnTracker(START);
        long a = tracker.register(new Lsn(1100));
        for (int i = 1; i <= 1000; i++) {
            tracker.passThrough(new Lsn(1100 + i));
        }

        assertThat(tracker.outstanding()).isEqualTo(2);
        tracker.ack(a);
        assertThat(tracker.confirmable()).isEqualTo(new Lsn(2100));
        assertThat(tracker.isIdle()).isTrue();
    }

    @Test
    void shouldNeverConfirmPastAMessageThatWasNotAcknowledged() {
        LsnTracker tracker = new LsnTracker(START);
        long a = tracker.register(new Lsn(1100));
        tracker.register(new Lsn(1200)); // its publish failed: never acknowledged
        long c = tracker.register(new Lsn(1300));
        tracker.passThrough(new Lsn(1400));

        tracker.ack(c);
        tracker.ack(a);

        assertThat(tracker.confirmable()).isEqualTo(new Lsn(1100));
    }

    @Test
    void shouldConfirmAPassThroughPositionAtOnceWhenNothingIsInFlight() {
        LsnTracker tracker = new LsnTracker(START);

        tracker.passThrough(new Lsn(1234));
        tracker.passThrough(new Lsn(1200));

        assertThat(tracker.confirmable()).isEqualTo(new Lsn(1234));
    }

    @Test
    void shouldRejectAnAckOfAMessageNeverRegistered() {
        LsnTracker tracker = new LsnTracker(START);

        assertThatThrownBy(() -> tracker.ack(5)).isInstanceOf(IllegalStateException.class);
    }

    @Property(tries = 200)
    void shouldConfirmExactlyTheAcknowledgedPrefixInAnyAckOrder(@ForAll @IntRange(min = 1, max = 40) int count,
                                                               @ForAll long seed) {
        LsnTracker tracker = new LsnTracker(START);
        List<Long> seqs = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            seqs.add(tracker.register(i % 3 == 2 ? null : new Lsn(2000 + i)));
        }
        List<Long> order = new ArrayList<>(seqs);
        Collections.shuffle(order, new Random(seed));
        boolean[] acked = new boolean[count];
        for (long seq : order) {
            tracker.ack(seq);
            acked[(int) seq] = true;
            int prefix = 0;
            while (prefix < count && acked[prefix]) {
                prefix++;
            }
            Lsn expected = START;
            for (int i = prefix - 1; i >= 0; i--) {
                if (i % 3 != 2) {
                    expected = new Lsn(2000 + i);
                    break;
                }
            }
            assertThat(tracker.confirmable()).isEqualTo(expected);
        }
    }
}
