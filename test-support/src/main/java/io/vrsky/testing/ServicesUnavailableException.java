package io.vrsky.testing;

/**
 * No way to get a real server for integration tests. Carries no stack trace: the message says what
 * to do, and that is all the user needs to read.
 */
public final class ServicesUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ServicesUnavailableException(String message) {
        super(message, null, false, false);
    }
}
