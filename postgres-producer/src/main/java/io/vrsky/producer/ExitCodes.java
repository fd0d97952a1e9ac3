package io.vrsky.producer;

import io.nats.client.JetStreamApiException;
import io.vrsky.core.retry.RetriesExhaustedException;
import io.vrsky.producer.write.SqlErrors;

/** The process exit codes: only {@link ProducerMain} exits. */
final class ExitCodes {

    static final int CLEAN = 0;
    static final int UNEXPECTED = 1;
    static final int BAD_CONFIG = 2;
    static final int DEPENDENCY_DOWN = 3;
    static final int DATA_ERROR = 4;

    private ExitCodes() {
    }

    /** The exit code for a failure that stopped the service. */
    static int of(Throwable failure) {
        if (failure instanceof ProducerFailure f) {
            return f.exitCode();
        }
        if (failure instanceof RetriesExhaustedException) {
            return DEPENDENCY_DOWN;
        }
        if (failure instanceof JetStreamApiException) {
            return DATA_ERROR;
        }
        String state = SqlErrors.sqlState(failure);
        if (state != null) {
            return state.startsWith("22") || state.startsWith("23") ? DATA_ERROR : DEPENDENCY_DOWN;
        }
        return UNEXPECTED;
    }
}
