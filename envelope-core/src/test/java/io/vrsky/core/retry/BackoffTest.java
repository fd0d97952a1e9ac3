package io.vrsky.core.retry;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BackoffTest {

    private final Backoff backoff = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1), 2.0, 0.5, 5);

    @Test
    void shouldGrowExponentiallyWithoutJitterAtZeroRandom() {
        assertThat(backoff.delay(1, 0.0)).isEqualTo(Duration.ofMillis(100));
        assertThat(backoff.delay(2, 0.0)).isEqualTo(Duration.ofMillis(200));
        assertThat(backoff.delay(4, 0.0)).isEqualTo(Duration.ofMillis(800));
    }

    @Test
    void shouldStopGrowingAtTheCap() {
        assertThat(backoff.delay(5, 0.0)).isEqualTo(Duration.ofSeconds(1));
        assertThat(backoff.delay(60, 0.0)).isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void shouldShortenByUpToTheJitterFraction() {
        assertThat(backoff.delay(1, 0.5)).isEqualTo(Duration.ofMillis(75));
        assertThat(backoff.delay(1, 0.999)).isGreaterThan(Duration.ofMillis(50));
    }

    @Test
    void shouldCountAttemptsAgainstTheMaximum() {
        assertThat(backoff.attemptsLeft(4)).isTrue();
        assertThat(backoff.attemptsLeft(5)).isFalse();
        assertThat(Backoff.reconnect().attemptsLeft(1_000_000)).isTrue();
    }

    @Test
    void shouldRejectInconsistentSettings() {
        assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1), 2, 0, 1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(1), 0.5, 0, 1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(1), 2, 1.5, 1))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
