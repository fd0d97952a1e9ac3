package io.vrsky.core.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LsnTest {

    @ParameterizedTest
    @ValueSource(strings = {"0/0", "0/16B3748", "16/B374D848", "FFFFFFFF/FFFFFFFF"})
    void shouldRoundTripThroughText(String text) {
        assertThat(Lsn.parse(text).toString()).isEqualTo(text);
    }

    @Test
    void shouldCombineHighAndLowHalves() {
        assertThat(Lsn.parse("1/0").value()).isEqualTo(1L << 32);
        assertThat(Lsn.parse("0/16B3748").value()).isEqualTo(0x16B3748L);
    }

    @Test
    void shouldOrderAsUnsignedPositions() {
        Lsn high = Lsn.parse("FFFFFFFF/0");
        Lsn low = Lsn.parse("7FFFFFFF/0");
        assertThat(high).isGreaterThan(low);
        assertThat(high.isAfter(low)).isTrue();
        assertThat(low.isAfter(high)).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "16B3748", "/1", "1/", "G/1", "100000000/0"})
    void shouldRejectMalformedText(String text) {
        assertThatThrownBy(() -> Lsn.parse(text)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("LSN");
    }
}
