package io.vrsky.core.retry;

/** Decides whether a failure is transient (worth another attempt) or permanent. */
@FunctionalInterface
public interface RetryClassifier {
    boolean isRetryable(Throwable failure);
}
