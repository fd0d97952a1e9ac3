package io.vrsky.testing;

import org.junit.jupiter.api.extension.ParameterResolutionException;

/**
 * No way to get a real server for integration tests. A {@link ParameterResolutionException} so that
 * JUnit reports it as it is (not wrapped), and without a stack trace: the message says what to do,
 * and that is all the user needs to read.
 */
public final class ServicesUnavailableException extends ParameterResolutionException {
    private static final long serialVersionUID = 1L;

    public ServicesUnavailableException(String message) {
        super(message);
        setStackTrace(new StackTraceElement[0]);
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
        return this;
    }
}
