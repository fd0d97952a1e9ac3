package io.vrsky.consumer.batch;

import io.vrsky.core.model.Lsn;

import java.util.ArrayList;
import java.util.List;

/** Sinks for unit tests that remember what they were given. */
final class Recording {

    private Recording() {
    }

    /** Remembers messages and pass-through positions. */
    static final class Messages implements MessageSink {
        final List<OutgoingMessage> messages = new ArrayList<>();
        final List<Lsn> passedThrough = new ArrayList<>();

        @Override
        public void publish(OutgoingMessage message) {
            messages.add(message);
        }

        @Override
        public void passThrough(Lsn endLsn) {
            passedThrough.add(endLsn);
        }
    }
}
