package io.vrsky.consumer.publish;

/** Publishing to JetStream failed; the session restarts from the last confirmed position. */
public final class PublishFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public PublishFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
