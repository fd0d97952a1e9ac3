package io.vrsky.producer.subscribe;

import io.nats.client.JetStreamApiException;
import io.vrsky.core.retry.DependencyRetry;
import io.vrsky.core.retry.Retrier;
import io.vrsky.core.retry.Sleeper;
import io.vrsky.core.service.ServiceFailure;
import io.vrsky.producer.metrics.ProducerMetrics;

import java.io.IOException;
import java.util.concurrent.TimeoutException;

/**
 * Calls to NATS while the producer runs (publishing a dead letter, reading a message back,
 * looking ahead in the stream): an unreachable NATS (I/O errors, timeouts, a connection that is
 * not connected) is retried with backoff for {@code DEPENDENCY_RETRY_TIMEOUT}, readiness naming
 * the server and logs rate-limited meanwhile ({@link DependencyRetry}), then the call fails with
 * exit 3. JetStream's own answers ({@link JetStreamApiException}: no such message, say) are not
 * retried.
 *
 * <p>Thread-safe (the {@link DependencyRetry} is shared with the fetch thread).
 */
public final class NatsCalls {

    private final DependencyRetry retry;
    private final Sleeper sleeper;
    private final ProducerMetrics metrics;

    public NatsCalls(DependencyRetry retry, Sleeper sleeper, ProducerMetrics metrics) {
        this.retry = retry;
        this.sleeper = sleeper;
        this.metrics = metrics;
    }

    /**
     * @throws ServiceFailure       exit 3: NATS stayed unreachable for the timeout
     * @throws JetStreamApiException JetStream refused the call
     */
    public <T> T call(String operation, Retrier.Attempt<T> attempt) throws Exception {
        while (true) {
            try {
                T result = attempt.run();
                retry.succeeded();
                return result;
            } catch (IOException | TimeoutException | IllegalStateException e) {
                if (e instanceof JetStreamApiException) {
                    throw e;
                }
                metrics.retry(operation);
                sleeper.sleep(retry.failed(e));
            }
        }
    }
}
