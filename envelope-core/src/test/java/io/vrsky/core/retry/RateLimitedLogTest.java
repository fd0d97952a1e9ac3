package io.vrsky.core.retry;

import ch.qos.logback.classic.Level;
import io.vrsky.core.LogCapture;
import io.vrsky.testing.ManualClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class RateLimitedLogTest {

    private final ManualClock clock = new ManualClock();
    private final LogCapture log = new LogCapture();
    private final RateLimitedLog limited = new RateLimitedLog(log.logger(), Duration.ofSeconds(30), clock);

    @Test
    void shouldWriteTheFirstLineAndThenOnePerInterval() {
        for (int second = 0; second < 95; second++) {
            limited.warn("attempt {}", second);
            clock.advance(Duration.ofSeconds(1));
        }

        assertThat(log.at(Level.WARN)).containsExactly("attempt 0", "attempt 30", "attempt 60", "attempt 90");
        assertThat(log.at(Level.DEBUG)).hasSize(91);
    }

    @Test
    void shouldLetTheNextLineThroughAfterAReset() {
        limited.error("down");
        limited.error("still down");
        limited.reset();
        limited.error("down again");

        assertThat(log.at(Level.ERROR)).containsExactly("down", "down again");
        assertThat(limited.suppressed()).isZero();
    }

    @Test
    void shouldCountWhatItHeldBack() {
        assertThat(limited.permits()).isTrue();
        assertThat(limited.permits()).isFalse();
        assertThat(limited.permits()).isFalse();
        assertThat(limited.suppressed()).isEqualTo(2);
    }
}
