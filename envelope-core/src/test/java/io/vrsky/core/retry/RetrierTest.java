package io.vrsky.core.retry;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RetrierTest {

    private final List<Duration> slept = new ArrayList<>();
    private final Backoff backoff = new Backoff(Duration.ofMillis(10), Duration.ofMillis(40), 2.0, 0.0, 4);
    private final RetryClassifier ioIsTransient = e -> e instanceof IOException;

    private Retrier retrier() {
        return new Retrier(backoff, ioIsTransient, slept::add, () -> 0.0, Retrier.RetryListener.NONE);
    }

    @Test
    void shouldReturnAtOnceWhenTheFirstAttemptSucceeds() throws Exception {
        assertThat(retrier().<String>call("op", () -> "ok")).isEqualTo("ok");
        assertThat(slept).isEmpty();
    }

    @Test
    void shouldRetryTransientFailuresWithGrowingDelays() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        String result = retrier().call("op", () -> {
            if (calls.incrementAndGet() < 4) {
                throw new IOException("down");
            }
            return "up";
        });
        assertThat(result).isEqualTo("up");
        assertThat(slept).containsExactly(Duration.ofMillis(10), Duration.ofMillis(20), Duration.ofMillis(40));
    }

    @Test
    void shouldNotRetryPermanentFailures() {
        AtomicInteger calls = new AtomicInteger();
        assertThatThrownBy(() -> retrier().call("op", () -> {
            calls.incrementAndGet();
            throw new IllegalStateException("bad data");
        })).isInstanceOf(IllegalStateException.class).hasMessage("bad data");
        assertThat(calls).hasValue(1);
        assertThat(slept).isEmpty();
    }

    @Test
    void shouldGiveUpAfterTheMaximumAttempts() {
        AtomicInteger calls = new AtomicInteger();
        assertThatThrownBy(() -> retrier().call("connect", () -> {
            calls.incrementAndGet();
            throw new IOException("refused");
        })).isInstanceOfSatisfying(RetriesExhaustedException.class, e -> {
            assertThat(e.attempts()).isEqualTo(4);
            assertThat(e).hasMessage("connect failed after 4 attempt(s): refused").hasCauseInstanceOf(IOException.class);
        });
        assertThat(calls).hasValue(4);
    }

    @Test
    void shouldStopWhenInterruptedWhileWaiting() {
        Retrier interrupted = new Retrier(backoff, ioIsTransient, d -> {
            throw new InterruptedException("stop");
        }, () -> 0.0, Retrier.RetryListener.NONE);
        assertThatThrownBy(() -> interrupted.call("op", () -> {
            throw new IOException("down");
        })).isInstanceOf(InterruptedException.class);
    }

    @Test
    void shouldTellTheListenerAboutEachRetry() throws Exception {
        List<Integer> attempts = new ArrayList<>();
        Retrier r = new Retrier(backoff, ioIsTransient, slept::add, () -> 0.0, (op, attempt, failure, delay) -> attempts.add(attempt));
        AtomicInteger calls = new AtomicInteger();
        r.call("op", () -> {
            if (calls.incrementAndGet() < 3) {
                throw new IOException("x");
            }
            return 1;
        });
        assertThat(attempts).containsExactly(1, 2);
    }
}
