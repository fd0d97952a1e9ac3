package io.vrsky.core.config;

import io.vrsky.core.retry.DependencyRetry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Byte sizes, days, the stream limits and DEPENDENCY_RETRY_TIMEOUT read from the environment. */
class SizesAndLimitsTest {

    @ParameterizedTest
    @CsvSource({"1048576,1048576", "512MB,536870912", "10GB,10737418240", "1TB,1099511627776", "4kb,4096", " 2 GB ,2147483648",
            "100B,100"})
    void shouldParseByteSizes(String text, long bytes) {
        assertThat(Env.parseByteSize(text)).hasValue(bytes);
    }

    @ParameterizedTest
    @ValueSource(strings = {"10XB", "MB", "1.5GB", "-1", "ten", "99999999999TB"})
    void shouldRejectWhatIsNotASize(String text) {
        assertThat(Env.parseByteSize(text)).isEmpty();
    }

    @Test
    void shouldWriteSizesInTheLargestExactUnit() {
        assertThat(Env.formatSize(10L << 30)).isEqualTo("10GB");
        assertThat(Env.formatSize(1L << 20)).isEqualTo("1MB");
        assertThat(Env.formatSize(1500)).isEqualTo("1500B");
    }

    @Test
    void shouldParseAndWriteDays() {
        assertThat(Env.parseDuration("7d")).contains(Duration.ofDays(7));
        assertThat(Env.format(Duration.ofDays(7))).isEqualTo("7d");
        assertThat(Env.format(Duration.ofHours(36))).isEqualTo("36h");
        assertThat(Env.format(Duration.ofSeconds(90))).isEqualTo("90s");
    }

    @Test
    void shouldReportABadSizeNamingTheVariableAndTheAllowedForms() {
        Env env = new Env(Map.of("NATS_STREAM_MAX_BYTES", "10XB"));
        assertThat(env.byteSize("NATS_STREAM_MAX_BYTES", 1L << 20, Long.MAX_VALUE)).isEqualTo(OptionalLong.empty());
        assertThatThrownBy(env::validate)
                .hasMessage("NATS_STREAM_MAX_BYTES=10XB is not a size: allowed forms are 1048576, 512MB, 10GB, 1TB");
    }

    @Test
    void shouldHaveNoStreamLimitsAndDiscardNewByDefault() {
        Env env = new Env(Map.of());
        assertThat(StreamLimits.read(env)).isEqualTo(StreamLimits.NONE);
        env.validate();
        assertThat(StreamLimits.NONE.describe()).isEqualTo("no limits, discard new");
    }

    @Test
    void shouldReadTheStreamLimits() {
        Env env = new Env(Map.of("NATS_STREAM_MAX_AGE", "7d", "NATS_STREAM_MAX_BYTES", "10GB", "NATS_STREAM_DISCARD", "OLD"));
        StreamLimits limits = StreamLimits.read(env);
        env.validate();

        assertThat(limits).isEqualTo(new StreamLimits(Duration.ofDays(7), 10L << 30, StreamLimits.Discard.OLD));
        assertThat(limits.describe()).isEqualTo("max age 7d, max bytes 10GB, discard old");
    }

    @Test
    void shouldReportEveryBadStreamLimitOnALineOfItsOwn() {
        Map<String, String> vars = new HashMap<>();
        vars.put("NATS_STREAM_MAX_AGE", "10s");
        vars.put("NATS_STREAM_MAX_BYTES", "1000");
        vars.put("NATS_STREAM_DISCARD", "oldest");
        vars.put("DEPENDENCY_RETRY_TIMEOUT", "8d");
        Env env = new Env(vars);
        StreamLimits.read(env);
        DependencyRetry.readTimeout(env);

        assertThatThrownBy(env::validate).isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems()).containsExactly(
                "NATS_STREAM_MAX_AGE=10s is out of range: allowed 1m..3650d",
                "NATS_STREAM_MAX_BYTES=1000 is out of range: allowed 1MB or more",
                "NATS_STREAM_DISCARD=oldest is not allowed: allowed new | old",
                "DEPENDENCY_RETRY_TIMEOUT=8d is out of range: allowed 10s..7d"));
    }

    @Test
    void shouldRetryDependenciesForFiveMinutesByDefault() {
        Env env = new Env(Map.of());
        assertThat(DependencyRetry.readTimeout(env)).isEqualTo(Duration.ofMinutes(5));
        assertThat(DependencyRetry.readTimeout(new Env(Map.of("DEPENDENCY_RETRY_TIMEOUT", "10s")))).isEqualTo(Duration.ofSeconds(10));
    }

    @Test
    void shouldNameTheNatsTargetWithoutCredentials() {
        Env env = new Env(Map.of("NATS_URL", "nats://me:secret@nats-1:4222,nats://nats-2:4222"));
        NatsSettings settings = NatsSettings.read(env, "vrsky.cdc.db", "svc");
        env.validate();

        assertThat(settings.target()).isEqualTo("NATS at nats://***@nats-1:4222,nats://nats-2:4222");
        assertThat(settings.limits()).isEqualTo(StreamLimits.NONE);
    }
}
