package io.vrsky.consumer.tx;

import io.vrsky.consumer.encode.EncodedChange;
import io.vrsky.core.codec.EnvelopeCodec;
import io.vrsky.core.codec.EnvelopeWriter;
import io.vrsky.core.model.Change;
import io.vrsky.core.model.Lsn;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

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

    /** Remembers dead letters. */
    static final class DeadLetterRecorder implements DeadLetters {
        final List<String> errors = new ArrayList<>();
        final List<byte[]> bodies = new ArrayList<>();
        final List<String> positions = new ArrayList<>();

        @Override
        public void deadLetter(byte[] body, String error, TxInfo tx, int index) {
            errors.add(error);
            bodies.add(body);
            positions.add(tx.txId() + ":" + index);
        }
    }

    static List<Change> decode(List<byte[]> changes) {
        EnvelopeWriter.Metadata m = new EnvelopeWriter.Metadata(1, Lsn.parse("0/1"), Instant.EPOCH, 0, true, 1);
        byte[] body = new EnvelopeWriter("postgres-consumer/test/slot").write(m, changes, "id", Instant.EPOCH);
        return new EnvelopeCodec().decode(body).changes();
    }
}
