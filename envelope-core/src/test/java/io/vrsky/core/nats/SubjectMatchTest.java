package io.vrsky.core.nats;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

class SubjectMatchTest {

    @ParameterizedTest
    @CsvSource({
            "vrsky.cdc.>, vrsky.cdc.shop, true",
            "vrsky.cdc.>, vrsky.cdc.>, true",
            "vrsky.cdc.>, vrsky.cdc, false",
            "vrsky.*.shop, vrsky.cdc.shop, true",
            "vrsky.*.shop, vrsky.cdc.other, false",
            "vrsky.cdc.shop, vrsky.cdc.shop, true",
            "vrsky.cdc.shop, vrsky.cdc.>, false",
            "vrsky.cdc.*, vrsky.cdc.>, false",
    })
    void shouldTellWhetherAPatternCoversASubject(String pattern, String subject, boolean expected) {
        assertThat(SubjectMatch.covers(pattern, subject)).isEqualTo(expected);
    }
}
