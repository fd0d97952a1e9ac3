package io.vrsky.producer;

/** The service cannot go on; carries the exit code and a message meant for the operator. */
final class ProducerFailure extends Exception {
    private static final long serialVersionUID = 1L;

    private final int exitCode;

    ProducerFailure(int exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    int exitCode() {
        return exitCode;
    }
}
