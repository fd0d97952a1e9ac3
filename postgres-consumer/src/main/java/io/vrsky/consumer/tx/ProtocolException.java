package io.vrsky.consumer.tx;

/** The replication stream does not follow the pgoutput protocol; the service stops (exit code 4). */
public final class ProtocolException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ProtocolException(String message) {
        super(message);
    }

    public ProtocolException(String message, Throwable cause) {
        super(message, cause);
    }
}
