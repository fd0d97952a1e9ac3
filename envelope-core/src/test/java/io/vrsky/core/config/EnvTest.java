package io.vrsky.core.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EnvTest {

    enum Color { RED, GREEN }

    @ParameterizedTest
    @CsvSource({"500ms,500", "5s,5000", "1m,60000", "2h,7200000", " 10S ,10000"})
    void shouldParseDurations(String text, long millis) {
        assertThat(Env.parseDuration(text)).contains(Duration.ofMillis(millis));
    }

    @Test
    void shouldRejectDurationsWithoutUnit() {
        Env env = new Env(Map.of("T", "5"));
        env.duration("T", Duration.ofSeconds(1), Duration.ZERO, Duration.ofHours(1));
        assertThatThrownBy(env::validate).isInstanceOf(ConfigException.class)
                .hasMessage("T=5 is not a duration: allowed forms are 500ms, 5s, 1m, 1h");
    }

    @Test
    void shouldUseDefaultsWhenUnsetOrBlank() {
        Env env = new Env(Map.of("BLANK", "  "));
        assertThat(env.intInRange("BLANK", 100, 1, 1000)).isEqualTo(100);
        assertThat(env.duration("UNSET", Duration.ofSeconds(5), Duration.ZERO, Duration.ofHours(1))).isEqualTo(Duration.ofSeconds(5));
        assertThat(env.string("UNSET", "x")).isEqualTo("x");
        env.validate();
    }

    @Test
    void shouldReportAnOutOfRangeIntegerWithTheAllowedRange() {
        Env env = new Env(Map.of("POSTGRES_OUTPUT_BATCH_SIZE", "5000"));
        env.intInRange("POSTGRES_OUTPUT_BATCH_SIZE", 100, 1, 1000);
        assertThatThrownBy(env::validate).hasMessage("POSTGRES_OUTPUT_BATCH_SIZE=5000 is out of range: allowed 1..1000");
    }

    @Test
    void shouldReportANonInteger() {
        Env env = new Env(Map.of("N", "ten"));
        env.intInRange("N", 1, 1, 10);
        assertThatThrownBy(env::validate).hasMessage("N=ten is not an integer: allowed 1..10");
    }

    @Test
    void shouldCollectEveryProblemTogether() {
        Env env = new Env(Map.of("A", "x", "B", "0"));
        env.intInRange("A", 1, 1, 10);
        env.intInRange("B", 1, 1, 10);
        env.required("C", "the database name");
        assertThatThrownBy(env::validate).isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems())
                .containsExactly("A=x is not an integer: allowed 1..10", "B=0 is out of range: allowed 1..10",
                        "C is required (the database name)"));
    }

    @Test
    void shouldNameAllowedEnumValues() {
        Env env = new Env(Map.of("COLOR", "blue"));
        assertThat(env.enumValue("COLOR", Color.class, Color.RED)).isEqualTo(Color.RED);
        assertThatThrownBy(env::validate).hasMessage("COLOR=blue is not allowed: allowed RED | GREEN");
    }

    @Test
    void shouldReadEnumCaseInsensitively() {
        assertThat(new Env(Map.of("COLOR", "green")).enumValue("COLOR", Color.class, Color.RED)).isEqualTo(Color.GREEN);
    }

    @Test
    void shouldReadCommaListsTrimmedAndWithoutEmptyItems() {
        assertThat(new Env(Map.of("L", " a, b ,,c ")).list("L")).containsExactly("a", "b", "c");
        assertThat(new Env(Map.of()).list("L")).isEmpty();
    }

    @Test
    void shouldReadEnumListsAndReportBadItems() {
        Env env = new Env(Map.of("OPS", "red,purple,green,red"));
        assertThat(env.enumList("OPS", Color.class)).containsExactly(Color.RED, Color.GREEN);
        assertThatThrownBy(env::validate).hasMessage("OPS contains 'purple': allowed a comma list of RED | GREEN");
    }

    @Test
    void shouldNeverEchoASecret() {
        Env env = new Env(Map.of("POSTGRES_INPUT_PASSWORD", "hunter2"));
        assertThat(env.secret("POSTGRES_INPUT_PASSWORD")).isEqualTo("hunter2");
        env.required("POSTGRES_INPUT_USER", "the user");
        assertThatThrownBy(env::validate).message().doesNotContain("hunter2");
    }

    @Test
    void shouldReadSslModesInPgJdbcSpelling() {
        Env env = new Env(Map.of("S", "verify-full"));
        assertThat(SslMode.read(env, "S").jdbcValue()).isEqualTo("verify-full");
        Env bad = new Env(Map.of("S", "sometimes"));
        SslMode.read(bad, "S");
        assertThatThrownBy(bad::validate).hasMessageContaining("S=sometimes is not allowed");
    }

    @Test
    void shouldReadNatsDefaultsFromTheDesign() {
        NatsSettings s = NatsSettings.read(new Env(Map.of()), "vrsky.cdc.shop", "postgres-consumer");
        assertThat(s.url()).isEqualTo("nats://localhost:4222");
        assertThat(s.stream()).isEqualTo("VRSKY_CDC");
        assertThat(s.subject()).isEqualTo("vrsky.cdc.shop");
        assertThat(s.dlqSubject()).isEqualTo("vrsky.dlq.postgres-consumer");
        assertThat(s.duplicateWindow()).isGreaterThanOrEqualTo(Duration.ofMinutes(2));
    }

    @Test
    void shouldKeepAPasswordInTheNatsUrlOutOfLogs() {
        NatsSettings s = NatsSettings.read(new Env(Map.of("NATS_URL", "nats://app:s3cret@nats1:4222,nats://app:s3cret@nats2:4222")),
                "vrsky.cdc.x", "p");
        assertThat(s.toString()).doesNotContain("s3cret").contains("nats://***@nats1:4222,nats://***@nats2:4222");
        assertThat(NatsSettings.redact("nats://nats1:4222")).isEqualTo("nats://nats1:4222");
    }

    @Test
    void shouldRejectBadNatsSettingsAndHideTheirPassword() {
        Env env = new Env(Map.of("NATS_URL", "localhost:4222", "NATS_DLQ_SUBJECT", "dead", "NATS_PASSWORD", "s3cret"));
        NatsSettings s = NatsSettings.read(env, "vrsky.cdc.x", "p");
        assertThat(s.toString()).doesNotContain("s3cret");
        assertThatThrownBy(env::validate).isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems())
                .anySatisfy(p -> assertThat(p).startsWith("NATS_URL=localhost:4222 is not a NATS URL"))
                .anySatisfy(p -> assertThat(p).startsWith("NATS_DLQ_SUBJECT=dead is not allowed"))
                .hasSize(2));
    }

    @Test
    void configExceptionShouldCarryNoStackTrace() {
        assertThat(new ConfigException(List.of("X is required")).getStackTrace()).isEmpty();
    }
}
