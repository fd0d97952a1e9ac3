package io.vrsky.producer.lease;

/**
 * This producer no longer holds the lease of its durable: another instance took it over (this one
 * was paused, cut off or too slow to renew). Whatever the sink transaction that found out held is
 * rolled back; the service stops (exit 3) and, restarted, waits as a standby.
 */
public final class LeaseLostException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public LeaseLostException(String message) {
        super(message);
    }
}
