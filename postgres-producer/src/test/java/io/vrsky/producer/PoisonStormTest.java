package io.vrsky.producer;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vrsky.producer.metrics.ProducerMetrics;
import io.vrsky.testing.ManualClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class PoisonStormTest {

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final ManualClock clock = new ManualClock();
    private final PoisonStorm storm = new PoisonStorm(new ProducerMetrics(registry), clock);

    private double gauge() {
        return registry.get("vrsky.producer.poison.storm").gauge().value();
    }

    @Test
    void shouldSlowDownOnlyWhenAtLeastHalfAndAtLeastTenTransactionsWereDeadLettered() {
        assertThat(storm.after(9, 9)).isZero();
        assertThat(storm.after(21, 10)).isZero();
        assertThat(gauge()).isZero();
        assertThat(storm.after(20, 10)).isEqualTo(Duration.ofSeconds(1));
        assertThat(gauge()).isEqualTo(1.0);
    }

    @Test
    void shouldDoubleTheWaitUpToAMinuteAndResetAfterABetterBatch() {
        assertThat(storm.after(10, 10)).isEqualTo(Duration.ofSeconds(1));
        assertThat(storm.after(10, 10)).isEqualTo(Duration.ofSeconds(2));
        assertThat(storm.after(10, 10)).isEqualTo(Duration.ofSeconds(4));
        for (int i = 0; i < 10; i++) {
            storm.after(10, 10);
        }
        assertThat(storm.after(10, 10)).isEqualTo(Duration.ofSeconds(60));
        assertThat(storm.after(100, 3)).isZero();
        assertThat(gauge()).isZero();
        assertThat(storm.after(10, 10)).isEqualTo(Duration.ofSeconds(1));
    }
}
