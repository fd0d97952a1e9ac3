package io.vrsky.core.retry;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Objects;
import java.util.function.DoubleSupplier;

/**
 * Runs an operation until it succeeds, fails permanently, or uses up the backoff's attempts.
 * Waiting is interruptible: an interrupt ends the retries with {@link InterruptedException}.
 */
public final class Retrier {

    private static final Logger LOG = LoggerFactory.getLogger(Retrier.class);

    /** An operation that may throw anything. */
    @FunctionalInterface
    public interface Attempt<T> {
        T run() throws Exception;
    }

    /** Told about each failure that will be retried (for metrics). */
    @FunctionalInterface
    public interface RetryListener {
        void onRetry(String operation, int attempt, Throwable failure, Duration delay);

        RetryListener NONE = (op, attempt, failure, delay) -> { };
    }

    private final Backoff backoff;
    private final RetryClassifier classifier;
    private final Sleeper sleeper;
    private final DoubleSupplier random;
    private final RetryListener listener;

    public Retrier(Backoff backoff, RetryClassifier classifier, Sleeper sleeper, DoubleSupplier random, RetryListener listener) {
        this.backoff = Objects.requireNonNull(backoff, "backoff");
        this.classifier = Objects.requireNonNull(classifier, "classifier");
        this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
        this.random = Objects.requireNonNull(random, "random");
        this.listener = Objects.requireNonNull(listener, "listener");
    }

    /**
     * @throws RetriesExhaustedException when the attempts ran out on retryable failures
     * @throws Exception the first permanent failure, unchanged
     * @throws InterruptedException when interrupted while waiting
     */
    public <T> T call(String operation, Attempt<T> attempt) throws Exception {
        int attempts = 0;
        while (true) {
            attempts++;
            try {
                return attempt.run();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw e;
            } catch (Exception e) {
                if (!classifier.isRetryable(e)) {
                    throw e;
                }
                if (!backoff.attemptsLeft(attempts)) {
                    throw new RetriesExhaustedException(operation, attempts, e);
                }
                Duration delay = backoff.delay(attempts, random.getAsDouble());
                listener.onRetry(operation, attempts, e, delay);
                LOG.warn("{} failed (attempt {}), retrying in {} ms: {}", operation, attempts, delay.toMillis(), e.toString());
                sleeper.sleep(delay);
            }
        }
    }
}
