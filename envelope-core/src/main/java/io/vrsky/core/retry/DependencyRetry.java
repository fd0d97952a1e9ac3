package io.vrsky.core.retry;

import io.vrsky.core.config.Env;
import io.vrsky.core.pg.PgErrors;
import io.vrsky.core.service.ExitCode;
import io.vrsky.core.service.ServiceFailure;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;

/**
 * How both services wait for a dependency (PostgreSQL, NATS) that cannot be reached: retry with
 * {@link Backoff} for at most {@code DEPENDENCY_RETRY_TIMEOUT}, counted from the first failure of
 * an outage; meanwhile {@link #problem()} says {@code <target> unreachable: <error>} for
 * {@code /health/ready}, the first failure is logged at WARN and then at most one WARN per 30 s
 * (with the attempt count and the latest error); when the time is up,
 * {@code ServiceFailure(DEPENDENCY, "<target> still unreachable after <timeout>: <error>")}.
 * A success ends the outage (and logs the recovery at INFO when there was one).
 *
 * <p>Two ways to use it:
 * <pre>{@code
 * // a step that must succeed before going on (start-up):
 * DependencyRetry postgres = new DependencyRetry(settings.target(), timeout);
 * postgres.call(() -> { PostgresLogin.check(settings, "app"); return null; });
 *
 * // a loop that owns its own structure (a supervisor restarting sessions):
 * while (running) {
 *     try {
 *         session.run();          // returns after a clean stop
 *         postgres.succeeded();   // or as soon as the session is established
 *     } catch (SQLException e) {
 *         Duration wait = postgres.failed(e);   // throws ServiceFailure when the outage lasted too long
 *         sleeper.sleep(wait);
 *     }
 * }
 * }</pre>
 * An attempt that finds a permanent refusal (a login refused, a missing database) throws
 * {@link ServiceFailure} itself: {@link #call} passes it on at once, without retrying.
 *
 * <p>Thread-safe: {@link #problem()} is read by the health endpoint's threads while one thread
 * calls {@link #call}, {@link #failed} and {@link #succeeded}.
 */
public final class DependencyRetry {

    /** The variable that bounds every outage of a dependency. */
    public static final String TIMEOUT_VARIABLE = "DEPENDENCY_RETRY_TIMEOUT";
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(5);
    public static final Duration MIN_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration MAX_TIMEOUT = Duration.ofDays(7);
    /** 250 ms doubling to 10 s, 20% jitter, no attempt limit (the timeout bounds it). */
    public static final Backoff BACKOFF = new Backoff(Duration.ofMillis(250), Duration.ofSeconds(10), 2.0, 0.2, 0);
    /** At most one WARN per this while a dependency stays unreachable. */
    public static final Duration LOG_INTERVAL = Duration.ofSeconds(30);

    private static final Logger LOG = LoggerFactory.getLogger(DependencyRetry.class);

    /** An attempt that may throw anything. */
    @FunctionalInterface
    public interface Attempt<T> {
        T run() throws Exception;
    }

    private final String target;
    private final Duration timeout;
    private final Backoff backoff;
    private final Clock clock;
    private final Sleeper sleeper;
    private final DoubleSupplier random;
    private final Logger log;
    private final RateLimitedLog warnings;

    private long outageStart = -1;
    private int failures;
    private volatile String problem;

    /** With the system clock, real sleeps, {@link #BACKOFF} and this class's logger. */
    public DependencyRetry(String target, Duration timeout) {
        this(target, timeout, BACKOFF, Clock.systemUTC(), Sleeper.SYSTEM, () -> ThreadLocalRandom.current().nextDouble(), LOG);
    }

    /**
     * @param target how logs and readiness name the dependency, without credentials:
     *               {@code PostgreSQL at host:port/db}, {@code NATS at nats://host:port}
     */
    public DependencyRetry(String target, Duration timeout, Backoff backoff, Clock clock, Sleeper sleeper, DoubleSupplier random,
                           Logger log) {
        this.target = Objects.requireNonNull(target, "target");
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        this.backoff = Objects.requireNonNull(backoff, "backoff");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
        this.random = Objects.requireNonNull(random, "random");
        this.log = Objects.requireNonNull(log, "log");
        this.warnings = new RateLimitedLog(log, LOG_INTERVAL, clock);
    }

    /** Reads {@code DEPENDENCY_RETRY_TIMEOUT} (default 5m, allowed 10s..7d); a problem goes to {@code env}. */
    public static Duration readTimeout(Env env) {
        return env.duration(TIMEOUT_VARIABLE, DEFAULT_TIMEOUT, MIN_TIMEOUT, MAX_TIMEOUT);
    }

    public String target() {
        return target;
    }

    public Duration timeout() {
        return timeout;
    }

    /**
     * Runs {@code attempt} until it succeeds, retrying every failure but a {@link ServiceFailure}
     * (passed on at once) and an {@link Error}.
     *
     * @throws ServiceFailure       the attempt's own, or exit 3 when the outage outlasted the timeout
     * @throws InterruptedException when interrupted while waiting (the interrupt flag is set again)
     */
    public <T> T call(Attempt<T> attempt) throws ServiceFailure, InterruptedException {
        while (true) {
            T result;
            try {
                result = attempt.run();
            } catch (ServiceFailure | InterruptedException e) {
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                throw e;
            } catch (Exception e) {
                Duration wait = failed(e);
                try {
                    sleeper.sleep(wait);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw interrupted;
                }
                continue;
            }
            succeeded();
            return result;
        }
    }

    /**
     * Records a failed attempt: publishes the problem, logs it (rate-limited) and says how long to
     * wait before the next attempt (never past the end of the timeout, so the last attempt is made
     * when it ends).
     *
     * @throws ServiceFailure exit 3 when the outage began {@code timeout} or more ago
     */
    public synchronized Duration failed(Throwable failure) throws ServiceFailure {
        long now = clock.millis();
        String error = describe(failure);
        failures++;
        if (outageStart < 0) {
            outageStart = now;
        }
        problem = target + " unreachable: " + error;
        long elapsed = now - outageStart;
        if (elapsed >= timeout.toMillis()) {
            throw new ServiceFailure(ExitCode.DEPENDENCY,
                    target + " still unreachable after " + Env.format(timeout) + ": " + error, failure);
        }
        Duration left = Duration.ofMillis(timeout.toMillis() - elapsed);
        if (failures == 1) {
            warnings.reset();
            warnings.warn("{} unreachable: {}; retrying for up to {}", target, error, Env.format(timeout));
        } else {
            warnings.warn("{} still unreachable after {} attempts in {}: {}; giving up in {}", target, failures,
                    Env.format(Duration.ofSeconds(elapsed / 1000)), error, Env.format(Duration.ofSeconds(left.toSeconds())));
        }
        Duration delay = backoff.delay(failures, random.getAsDouble());
        return delay.compareTo(left) < 0 ? delay : left;
    }

    /** Ends the outage, if there was one: clears the problem and logs the recovery. */
    public synchronized void succeeded() {
        if (failures > 0) {
            log.info("{} reachable again after {} failed attempt(s)", target, failures);
        }
        failures = 0;
        outageStart = -1;
        problem = null;
    }

    /** {@code <target> unreachable: <error>} during an outage, else empty. */
    public Optional<String> problem() {
        return Optional.ofNullable(problem);
    }

    /** One line about a failure: PostgreSQL's primary message for SQL failures, else the message. */
    static String describe(Throwable failure) {
        if (hasSql(failure)) {
            return PgErrors.serverMessage(failure);
        }
        String message = failure.getMessage();
        if (message == null || message.isBlank()) {
            return failure.getClass().getSimpleName();
        }
        int end = message.indexOf('\n');
        return (end < 0 ? message : message.substring(0, end)).trim();
    }

    private static boolean hasSql(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SQLException) {
                return true;
            }
        }
        return false;
    }
}
