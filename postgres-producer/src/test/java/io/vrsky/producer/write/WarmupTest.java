package io.vrsky.producer.write;

import io.vrsky.core.codec.EnvelopeCodec;
import io.vrsky.producer.subscribe.InboundMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.assertj.core.api.Assertions.assertThat;

class WarmupTest {

    private final EnvelopeCodec codec = new EnvelopeCodec();

    @ParameterizedTest
    @EnumSource(ConflictStrategy.class)
    void shouldRunThePerRowPathOnItsMessagesUnderEveryStrategy(ConflictStrategy strategy) {
        int[] asked = {0};

        Warmup.Result result = Warmup.run(bytes -> new InboundMessage(0, "warm-up", null, bytes, codec.decode(bytes), null, 0),
                strategy, () -> ++asked[0] > 12);

        assertThat(result.rows()).as("twelve messages, every shape once").isGreaterThan(6_000);
        assertThat(result.lastMicrosPerRow()).isPositive();
    }

    @Test
    void shouldStopAtOnceWhenAsked() {
        Warmup.Result result = Warmup.run(bytes -> {
            throw new AssertionError("nothing should be decoded");
        }, ConflictStrategy.UPSERT, () -> true);

        assertThat(result.rows()).isZero();
    }
}
