package io.vrsky.consumer.tx;

import io.vrsky.consumer.publish.EnvelopeWriter;
import io.vrsky.core.codec.EnvelopeCodec;
import io.vrsky.core.model.Change;
import io.vrsky.core.model.Lsn;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Sinks for unit tests that remember what they were given. */
final class Recording {

    private Recording() {
    }

    /** Remembers begin / change / commit events. */
    static final class Transactions implements TransactionSink {
        final List<String> events = new ArrayList<>();
        final List<EncodedChange> changes = new ArrayList<>();
        final List<Lsn> commits = new ArrayList<>();

        @Override
        public void begin(TxInfo tx) {
            events.add("begin " + tx.txId());
        }

        @Override
        public void change(EncodedChange change) {
            events.add(change.op() + " " + change.table());
            changes.add(change);
        }

        @Override
        public void commit(TxInfo tx, Lsn endLsn) {
            events.add("commit " + tx.txId());
            commits.add(endLsn);
        }

        /** The changes as the producer would read them. */
        List<Change> decoded() {
            return decode(changes.stream().map(EncodedChange::json).toList());
        }
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

    /** Remembers dead letters. */
    static final class DeadLetters implements DeadLetterSink {
        final List<String> errors = new ArrayList<>();
        final List<byte[]> bodies = new ArrayList<>();

        @Override
        public void deadLetter(byte[] body, String error) {
            errors.add(error);
            bodies.add(body);
        }
    }

    static List<Change> decode(List<byte[]> changes) {
        TxInfo tx = new TxInfo(1, Lsn.parse("0/1"), Instant.EPOCH);
        OutgoingMessage m = new OutgoingMessage(changes, changes.stream().mapToLong(b -> b.length).sum(), tx, 0, true, 1,
                null, Map.of());
        byte[] body = new EnvelopeWriter("postgres-consumer/test/slot").write(m, "id", Instant.EPOCH);
        return new EnvelopeCodec().decode(body).changes();
    }
}
