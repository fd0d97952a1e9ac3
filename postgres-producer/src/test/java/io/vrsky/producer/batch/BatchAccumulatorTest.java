package io.vrsky.producer.batch;

import io.vrsky.testing.ManualClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class BatchAccumulatorTest {

    private final ManualClock clock = new ManualClock();
    private final BatchAccumulator<String> batch = new BatchAccumulator<>(3, 1000, Duration.ofSeconds(5), clock);

    @Test
    void shouldNotFlushAnEmptyBatch() {
        assertThat(batch.due(Waiting.NOTHING)).isEqualTo(FlushReason.NONE);
        assertThat(batch.untilDeadline()).isEqualTo(Duration.ofSeconds(5));
        assertThat(batch.room()).isEqualTo(3);
    }

    @Test
    void shouldFlushAtOnceWhenNothingMoreIsWaiting() {
        batch.add("a", 1);

        assertThat(batch.due(Waiting.QUEUED)).isEqualTo(FlushReason.NONE);
        assertThat(batch.due(Waiting.NOTHING)).isEqualTo(FlushReason.IDLE);
    }

    @Test
    void shouldWaitForMessagesOnlyTheConsumerReportsAtMostTheLingerTime() {
        batch.add("a", 1);
        assertThat(batch.due(Waiting.UPSTREAM)).isEqualTo(FlushReason.NONE);
        assertThat(batch.untilLingerEnds()).isEqualTo(BatchAccumulator.LINGER);
        clock.advance(BatchAccumulator.LINGER.minusMillis(1));
        batch.add("b", 1);
        assertThat(batch.due(Waiting.UPSTREAM)).isEqualTo(FlushReason.NONE);

        clock.advance(Duration.ofMillis(1));

        assertThat(batch.untilLingerEnds()).isEqualTo(Duration.ZERO);
        assertThat(batch.due(Waiting.UPSTREAM)).isEqualTo(FlushReason.LINGER);
        assertThat(batch.due(Waiting.QUEUED)).as("pulled messages are taken first").isEqualTo(FlushReason.NONE);
    }

    @Test
    void shouldNeverLingerLongerThanTheFlushInterval() {
        BatchAccumulator<String> quick = new BatchAccumulator<>(3, 1000, Duration.ofMillis(2), clock);
        quick.add("a", 1);
        assertThat(quick.untilLingerEnds()).isEqualTo(Duration.ofMillis(2));
        clock.advance(Duration.ofMillis(2));

        assertThat(quick.due(Waiting.UPSTREAM)).isEqualTo(FlushReason.INTERVAL);
    }

    @Test
    void shouldFlushWhenFull() {
        batch.add("a", 1);
        batch.add("b", 1);
        assertThat(batch.due(Waiting.QUEUED)).isEqualTo(FlushReason.NONE);
        batch.add("c", 1);

        assertThat(batch.isFull()).isTrue();
        assertThat(batch.room()).isZero();
        assertThat(batch.due(Waiting.QUEUED)).isEqualTo(FlushReason.FULL);
    }

    @Test
    void shouldFlushWhenTheRowLimitIsReachedBeforeTheMessageLimit() {
        BatchAccumulator<String> rows = new BatchAccumulator<>(100, 500, Duration.ofSeconds(5), clock);
        rows.add("big", 300);
        assertThat(rows.due(Waiting.QUEUED)).isEqualTo(FlushReason.NONE);
        rows.add("bigger", 300);

        assertThat(rows.due(Waiting.QUEUED)).isEqualTo(FlushReason.FULL);
    }

    @Test
    void shouldFlushWhenTheIntervalPassedSinceTheFirstMessage() {
        batch.add("a", 1);
        clock.advance(Duration.ofSeconds(3));
        batch.add("b", 1);
        assertThat(batch.untilDeadline()).isEqualTo(Duration.ofSeconds(2));
        assertThat(batch.due(Waiting.QUEUED)).isEqualTo(FlushReason.NONE);

        clock.advance(Duration.ofSeconds(2));

        assertThat(batch.untilDeadline()).isEqualTo(Duration.ZERO);
        assertThat(batch.due(Waiting.QUEUED)).isEqualTo(FlushReason.INTERVAL);
    }

    @Test
    void shouldStartAFreshIntervalAfterADrain() {
        batch.add("a", 1);
        clock.advance(Duration.ofSeconds(10));
        assertThat(batch.drain()).containsExactly("a");

        assertThat(batch.isEmpty()).isTrue();
        assertThat(batch.rows()).isZero();
        batch.add("b", 1);
        assertThat(batch.due(Waiting.QUEUED)).isEqualTo(FlushReason.NONE);
        assertThat(batch.untilDeadline()).isEqualTo(Duration.ofSeconds(5));
    }
}
