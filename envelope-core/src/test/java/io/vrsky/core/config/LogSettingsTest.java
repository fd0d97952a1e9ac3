package io.vrsky.core.config;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LogSettingsTest {

    @Test
    void shouldAcceptTheDefaultsAndBothFormats() {
        Env env = new Env(Map.of("LOG_FORMAT", "json", "LOG_LEVEL", "DEBUG"));
        LogSettings.check(env);
        env.validate();
        Env lower = new Env(Map.of("LOG_LEVEL", "debug"));
        LogSettings.check(lower);
        lower.validate();
        Env empty = new Env(Map.of());
        LogSettings.check(empty);
        empty.validate();
    }

    @Test
    void shouldRejectAnUnknownFormatNamingTheChoices() {
        Env env = new Env(Map.of("LOG_FORMAT", "xml"));
        LogSettings.check(env);
        assertThatThrownBy(env::validate).hasMessage("LOG_FORMAT=xml is not allowed: allowed text | json");
    }
}
