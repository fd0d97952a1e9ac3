package io.vrsky.core.retry;

import ch.qos.logback.classic.Level;
import io.vrsky.core.LogCapture;
import io.vrsky.core.service.ExitCode;
import io.vrsky.core.service.ServiceFailure;
import io.vrsky.testing.ManualClock;
import org.junit.jupiter.api.Test;

import java.net.ConnectException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class DependencyRetryTest {

    private static final String TARGET = "NATS at nats://n:4222";
    private static final Backoff NO_JITTER = new Backoff(Duration.ofMillis(250), Duration.ofSeconds(10), 2.0, 0.0, 0);

    private final ManualClock clock = new ManualClock();
    private final List<Duration> sleeps = new ArrayList<>();
    /** Records each wait and lets the manual clock pass it. */
    private final Sleeper sleeper = d -> {
        sleeps.add(d);
        clock.advance(d);
    };
    private final LogCapture log = new LogCapture();

    private DependencyRetry retry(Duration timeout) {
        return new DependencyRetry(TARGET, timeout, NO_JITTER, clock, sleeper, () -> 0.0, log.logger());
    }

    private static DependencyRetry.Attempt<String> refused(AtomicInteger attempts) {
        return () -> {
            attempts.incrementAndGet();
            throw new ConnectException("Connection refused");
        };
    }

    @Test
    void shouldGiveUpExactlyWhenTheTimeoutHasPassedWithExitThree() {
        AtomicInteger attempts = new AtomicInteger();
        Instant start = clock.instant();

        ServiceFailure failure = catchThrowableOfType(() -> retry(Duration.ofSeconds(10)).call(refused(attempts)), ServiceFailure.class);

        assertThat(failure.exitCode()).isEqualTo(ExitCode.DEPENDENCY);
        assertThat(failure).hasMessage("NATS at nats://n:4222 still unreachable after 10s: Connection refused");
        assertThat(Duration.between(start, clock.instant())).isEqualTo(Duration.ofSeconds(10));
        assertThat(sleeps).containsExactly(Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2),
                Duration.ofSeconds(4), Duration.ofMillis(2250));
        assertThat(attempts).hasValue(7);
    }

    @Test
    void shouldWarnOnTheFirstFailureAndThenAtMostOncePerThirtySeconds() {
        AtomicInteger attempts = new AtomicInteger();

        assertThatThrownBy(() -> retry(Duration.ofMinutes(5)).call(refused(attempts))).isInstanceOf(ServiceFailure.class);

        List<String> warnings = log.at(Level.WARN);
        assertThat(attempts.get()).isGreaterThan(30);
        assertThat(warnings).hasSizeBetween(9, 11);
        assertThat(warnings.get(0)).isEqualTo("NATS at nats://n:4222 unreachable: Connection refused; retrying for up to 5m");
        assertThat(warnings.get(1)).matches("NATS at nats://n:4222 still unreachable after \\d+ attempts in \\d+s: Connection refused;"
                + " giving up in \\d+s");
        assertThat(log.lines()).noneMatch(l -> l.startsWith("ERROR"));
    }

    @Test
    void shouldPublishTheProblemWhileFailingAndClearItOnSuccess() throws Exception {
        DependencyRetry retry = retry(Duration.ofMinutes(1));
        AtomicInteger attempts = new AtomicInteger();
        List<String> seen = new ArrayList<>();

        String result = retry.call(() -> {
            retry.problem().ifPresent(seen::add);
            if (attempts.incrementAndGet() < 3) {
                throw new ConnectException("Connection refused");
            }
            return "connected";
        });

        assertThat(result).isEqualTo("connected");
        assertThat(seen).containsExactly("NATS at nats://n:4222 unreachable: Connection refused",
                "NATS at nats://n:4222 unreachable: Connection refused");
        assertThat(retry.problem()).isEmpty();
        assertThat(log.at(Level.INFO)).containsExactly("NATS at nats://n:4222 reachable again after 2 failed attempt(s)");
    }

    @Test
    void shouldPassOnAPermanentRefusalAtOnce() {
        ServiceFailure refusal = new ServiceFailure(ExitCode.DEPENDENCY, "PostgreSQL at db:5432/x refused the login: FATAL: nope");

        assertThatThrownBy(() -> retry(Duration.ofMinutes(1)).call(() -> {
            throw refusal;
        })).isSameAs(refusal);
        assertThat(sleeps).isEmpty();
    }

    @Test
    void shouldEndWithTheInterruptWhenInterruptedWhileWaiting() {
        DependencyRetry retry = new DependencyRetry(TARGET, Duration.ofMinutes(1), NO_JITTER, clock, d -> {
            throw new InterruptedException();
        }, () -> 0.0, log.logger());

        assertThatThrownBy(() -> retry.call(refused(new AtomicInteger()))).isInstanceOf(InterruptedException.class);
        assertThat(Thread.interrupted()).isTrue();
    }

    @Test
    void shouldCountEachOutageFromItsOwnFirstFailure() throws Exception {
        DependencyRetry retry = retry(Duration.ofSeconds(10));

        retry.failed(new ConnectException("down"));
        clock.advance(Duration.ofSeconds(8));
        retry.succeeded();
        clock.advance(Duration.ofSeconds(8));
        Duration wait = retry.failed(new ConnectException("down again"));

        assertThat(wait).isEqualTo(Duration.ofMillis(250));
        assertThat(retry.problem()).contains("NATS at nats://n:4222 unreachable: down again");
        clock.advance(Duration.ofSeconds(10));
        assertThatThrownBy(() -> retry.failed(new ConnectException("still down")))
                .hasMessage("NATS at nats://n:4222 still unreachable after 10s: still down");
    }

    @Test
    void shouldNeverWaitPastTheEndOfTheTimeout() throws Exception {
        DependencyRetry retry = retry(Duration.ofSeconds(10));
        retry.failed(new ConnectException("down"));
        clock.advance(Duration.ofMillis(9900));

        assertThat(retry.failed(new ConnectException("down"))).isEqualTo(Duration.ofMillis(100));
    }
}
