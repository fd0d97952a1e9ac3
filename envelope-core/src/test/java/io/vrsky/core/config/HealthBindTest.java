package io.vrsky.core.config;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

class HealthBindTest {

    @ParameterizedTest
    @ValueSource(strings = {"0.0.0.0", "127.0.0.1", "10.1.2.3", "::", "::1", "fe80::1", "localhost", "health.internal",
            "my-host-1"})
    void shouldAcceptLiteralAddressesAndHostNames(String value) {
        assertThat(HealthBind.isAddress(value)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "300.1.1.1", "1.2.3", "http://localhost", "host:8080", "-host", "a b", "*", "0.0.0.0/0"})
    void shouldRefuseAnythingElse(String value) {
        assertThat(HealthBind.isAddress(value)).isFalse();
    }
}
