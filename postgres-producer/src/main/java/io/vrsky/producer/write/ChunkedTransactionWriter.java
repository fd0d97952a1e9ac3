package io.vrsky.producer.write;

import io.vrsky.core.model.Change;
import io.vrsky.core.model.Envelope;
import io.vrsky.core.model.EnvelopeMetadata;
import io.vrsky.core.model.Lsn;
import io.vrsky.core.model.TableId;
import io.vrsky.core.nats.DeadLetterPublisher.ErrorClass;
import io.vrsky.producer.plan.ChangePlanner;
import io.vrsky.producer.plan.RowChange;
import io.vrsky.producer.plan.ValidationException;
import io.vrsky.producer.position.AppliedPositions;
import io.vrsky.producer.subscribe.InFlight;
import io.vrsky.producer.subscribe.InboundMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Applies a source transaction that arrives in several messages (chunks 0..n, the last flagged)
 * whole or not at all, with bounded memory: one sink transaction stays open across the chunk
 * messages, each chunk is applied as it arrives and then forgotten (only its stream sequence and
 * ack subject are kept), and the transaction commits, with its applied position, when the last
 * chunk is in; only then are the chunk messages acknowledged. Until then they are kept alive with
 * in-progress acks.
 *
 * <p>A lost connection (or deadlock) rolls everything back; the chunks applied so far are read
 * again from the stream by sequence and re-applied, then the current one. A chunk that fails on
 * its data dead-letters the whole transaction (earlier chunks re-read from the stream) and the
 * rest of its chunks as they come. Chunk 0 of the open transaction arriving again (the source
 * re-sent it) starts it over; a chunk already applied is a duplicate; a gap, or a message of
 * another transaction before the last chunk, ends the open one: it is dropped silently when the
 * same source is replaying from an earlier position (it will come again), else dead-lettered.
 *
 * <p>Used by the loop thread only.
 */
public final class ChunkedTransactionWriter {

    private static final Logger LOG = LoggerFactory.getLogger(ChunkedTransactionWriter.class);

    /** Reads a message back from the stream by its sequence (retrying while NATS is unreachable). */
    @FunctionalInterface
    public interface StoredMessages {
        InboundMessage load(long streamSeq) throws Exception;
    }

    private static final class Open {
        final String source;
        final Lsn lsn;
        final Long txId;
        final Instant started;
        int nextChunk;
        Connection connection;
        /** A connection was opened before: positions must be checked again on the next one. */
        boolean retried;
        WriteStats stats = new WriteStats();
        /** Ack subjects of every message to acknowledge with the transaction, in stream order. */
        final List<String> acks = new ArrayList<>();
        final List<Long> applied = new ArrayList<>();

        Open(String source, Lsn lsn, Long txId, Instant started) {
            this.source = source;
            this.lsn = lsn;
            this.txId = txId;
            this.started = started;
        }

        boolean same(String otherSource, Lsn otherLsn) {
            return Objects.equals(source, otherSource) && lsn.equals(otherLsn);
        }

        String describe() {
            return "transaction " + (txId == null ? "?" : txId) + " at " + lsn + (source == null ? "" : " from " + source);
        }
    }

    private record Poisoned(String source, Lsn lsn, String description, ErrorClass errorClass, String error, String sqlState) {
        boolean same(String otherSource, Lsn otherLsn) {
            return Objects.equals(source, otherSource) && lsn.equals(otherLsn);
        }
    }

    /** A chunk that cannot be applied because of its own data. */
    private static final class ChunkPoison extends Exception {
        private static final long serialVersionUID = 1L;
        final ErrorClass errorClass;
        final String sqlState;

        ChunkPoison(ErrorClass errorClass, String message, String sqlState) {
            super(message, null, false, false);
            this.errorClass = errorClass;
            this.sqlState = sqlState;
        }
    }

    private final WriterContext context;
    private final StoredMessages stored;
    private final InFlight inFlight;
    private final Clock clock;
    private Open open;
    private Poisoned poisoned;

    public ChunkedTransactionWriter(WriterContext context, StoredMessages stored, InFlight inFlight, Clock clock) {
        this.context = context;
        this.stored = stored;
        this.inFlight = inFlight;
        this.clock = clock;
    }

    public boolean isOpen() {
        return open != null;
    }

    /**
     * Whether {@code message} comes from the source of the open transaction, so that it continues,
     * ends or replays it. Messages of other sources (other databases publishing to the same stream,
     * or bodies that cannot be decoded) have nothing to do with it: the loop holds them back until
     * the transaction is closed.
     */
    public boolean concerns(InboundMessage message) {
        return open != null && message.envelope() != null && Objects.equals(message.envelope().source(), open.source);
    }

    /** Handles one chunk message; commits and acknowledges the transaction when it is the last chunk. */
    public void onChunk(InboundMessage message) throws Exception {
        onChunks(List.of(message));
    }

    /**
     * Whether {@code next} is the chunk right after {@code previous} of the same transaction, so that
     * both may be applied together ({@link #onChunks}).
     */
    public static boolean follows(InboundMessage previous, InboundMessage next) {
        if (previous.envelope() == null || next.envelope() == null || !next.isChunkPart()) {
            return false;
        }
        EnvelopeMetadata p = previous.envelope().metadata();
        EnvelopeMetadata n = next.envelope().metadata();
        return !p.lastChunk() && p.commitLsn() != null && p.commitLsn().equals(n.commitLsn())
                && Objects.equals(previous.envelope().source(), next.envelope().source()) && n.chunk() == p.chunk() + 1;
    }

    /**
     * Handles consecutive chunks of one transaction that arrived together ({@link #follows} holds for
     * each pair): they are validated, planned and applied as one, so their rows share statements (one
     * COPY for a transaction whose chunks are all waiting). Whatever the first one needs besides
     * being applied (a duplicate, a gap, a poisoned transaction), each is then handled on its own.
     */
    public void onChunks(List<InboundMessage> group) throws Exception {
        InboundMessage message = group.get(0);
        Envelope envelope = message.envelope();
        EnvelopeMetadata metadata = envelope.metadata();
        Lsn lsn = metadata.commitLsn();
        String source = envelope.source();
        int chunk = metadata.chunk();
        if (lsn == null) {
            deadLetterAndAck(message, ErrorClass.VALIDATION, "a chunked message (chunk " + chunk + ") needs metadata.commitLsn", null);
            eachAfterFirst(group);
            return;
        }
        if (context.positions().committedApplied(source, lsn)) {
            context.metrics().skipped(message.changeCount());
            ack(Collections.singletonList(message.replyTo()));
            eachAfterFirst(group);
            return;
        }
        if (poisoned != null) {
            if (poisoned.same(source, lsn)) {
                deadLetterAndAck(message, poisoned.errorClass(), poisoned.description() + " failed in an earlier chunk: "
                        + poisoned.error(), poisoned.sqlState());
                if (metadata.lastChunk()) {
                    poisoned = null;
                    recordPosition(source, lsn, chunk);
                }
                eachAfterFirst(group);
                return;
            }
            poisoned = null;
        }
        if (open != null && !open.same(source, lsn)) {
            abandon(message);
        }
        if (open == null) {
            if (chunk != 0) {
                deadLetterAndAck(message, ErrorClass.VALIDATION, "chunk " + chunk + " of the transaction at " + lsn
                        + " arrived without the chunks before it", null);
                eachAfterFirst(group);
                return;
            }
            open = new Open(source, lsn, metadata.txId(), clock.instant());
            LOG.debug("opened chunked {}", open.describe());
        } else if (chunk == 0) {
            LOG.info("chunk 0 of the open {} arrived again: starting it over", open.describe());
            closeConnection(open);
            open.applied.clear();
        } else if (chunk < open.nextChunk) {
            open.acks.add(message.replyTo());
            eachAfterFirst(group);
            return;
        } else if (chunk > open.nextChunk) {
            String reason = "chunk " + open.nextChunk + " of the " + open.describe() + " never arrived (got chunk " + chunk + ")";
            Open gone = open;
            open = null;
            deadLetterOpen(gone, reason);
            deadLetterAndAck(message, ErrorClass.VALIDATION, reason, null);
            eachAfterFirst(group);
            return;
        }
        apply(group);
    }

    private void eachAfterFirst(List<InboundMessage> group) throws Exception {
        for (InboundMessage next : group.subList(1, group.size())) {
            onChunks(List.of(next));
        }
    }

    private void apply(List<InboundMessage> group) throws Exception {
        InboundMessage message = group.get(group.size() - 1);
        EnvelopeMetadata metadata = message.envelope().metadata();
        Open tx = open;
        boolean[] committedBefore = {false};
        try {
            context.retrier().call("apply chunk", () -> {
                try {
                    while (true) {
                        try {
                            if (tx.connection == null && reopen(tx)) {
                                // a COMMIT whose answer was lost did go through
                                committedBefore[0] = true;
                                closeConnection(tx);
                                return null;
                            }
                            applyChunks(tx, group);
                            break;
                        } catch (SqlExecutor.CopyConflict conflict) {
                            // COPY met an existing row and is paused for the table: the transaction again, with upserts
                            LOG.debug("{}: applying the {} again with upserts", conflict.getMessage(), tx.describe());
                            closeConnection(tx);
                            tx.retried = false;
                        }
                    }
                    if (metadata.lastChunk()) {
                        commit(tx, metadata.chunk());
                    }
                    return null;
                } catch (SQLException e) {
                    closeConnection(tx);
                    SqlErrors.Kind kind = SqlErrors.classify(e);
                    if (kind == SqlErrors.Kind.POISON || kind == SqlErrors.Kind.STALE_CATALOG) {
                        if (kind == SqlErrors.Kind.STALE_CATALOG) {
                            context.catalog().invalidateAll();
                        }
                        throw new ChunkPoison(ErrorClass.SQL, e.getMessage(), SqlErrors.sqlState(e));
                    }
                    throw e;
                } catch (Exception e) {
                    // whatever went wrong, the next attempt starts from a fresh connection and replays
                    closeConnection(tx);
                    throw e;
                }
            });
        } catch (ChunkPoison poison) {
            poison(tx, group, poison);
            return;
        }
        if (committedBefore[0] && !metadata.lastChunk()) {
            throw new IllegalStateException("the " + tx.describe() + " is recorded as applied before its last chunk");
        }
        for (InboundMessage m : group) {
            tx.applied.add(m.streamSeq());
            tx.acks.add(m.replyTo());
        }
        tx.nextChunk = metadata.chunk() + 1;
        if (metadata.lastChunk()) {
            open = null;
            ack(tx.acks);
            tx.stats.record(context.metrics());
            context.metrics().batch(tx.acks.size(), tx.stats.rows(), Duration.between(tx.started, clock.instant()));
            LOG.debug("committed chunked {}: {} chunks, {} rows", tx.describe(), metadata.chunk() + 1, tx.stats.rows());
        }
    }

    /**
     * Opens a new sink transaction and applies the chunks applied so far again.
     *
     * @return true when the recorded position shows the transaction committed already
     */
    private boolean reopen(Open tx) throws Exception {
        Connection c = context.dataSource().getConnection();
        c.setAutoCommit(false);
        tx.connection = c;
        tx.stats = new WriteStats();
        if (tx.retried) {
            context.positions().load(c);
            if (context.positions().committedApplied(tx.source, tx.lsn)) {
                return true;
            }
        }
        tx.retried = true;
        if (!tx.applied.isEmpty()) {
            LOG.info("re-applying {} chunks of the {} after a retryable failure", tx.applied.size(), tx.describe());
        }
        for (long seq : tx.applied) {
            applyChunk(tx, stored.load(seq));
        }
        return false;
    }

    private void applyChunk(Open tx, InboundMessage message) throws SQLException, ChunkPoison {
        applyChunks(tx, List.of(message));
    }

    /** Validates and applies the changes of these chunks together (runs may span them). */
    private void applyChunks(Open tx, List<InboundMessage> group) throws SQLException, ChunkPoison {
        Set<TableId> refreshed = new HashSet<>();
        List<RowChange> changes = new ArrayList<>();
        for (InboundMessage message : group) {
            if (message.envelope() == null) {
                throw new ChunkPoison(ErrorClass.DECODE, message.decodeError(), null);
            }
            try {
                for (Change change : message.envelope().changes()) {
                    changes.add(context.validator().prepare(tx.connection, change, refreshed));
                }
            } catch (ValidationException e) {
                throw new ChunkPoison(ErrorClass.VALIDATION, e.getMessage(), null);
            }
        }
        context.executor().execute(tx.connection, ChangePlanner.plan(changes), tx.stats);
    }

    private void commit(Open tx, int lastChunk) throws SQLException {
        AppliedPositions positions = context.positions();
        positions.begin();
        if (tx.source != null) {
            positions.advance(tx.source, tx.lsn, lastChunk);
        }
        positions.save(tx.connection);
        tx.connection.commit();
        positions.committed();
        context.executor().committed();
        closeConnection(tx);
    }

    private void poison(Open tx, List<InboundMessage> group, ChunkPoison poison) throws Exception {
        open = null;
        closeConnection(tx);
        InboundMessage message = group.get(group.size() - 1);
        EnvelopeMetadata metadata = message.envelope().metadata();
        int firstChunk = group.get(0).envelope().metadata().chunk();
        String description = tx.describe();
        String error = description + " failed in chunk " + (firstChunk == metadata.chunk() ? "" : firstChunk + "..")
                + metadata.chunk() + ": " + poison.getMessage();
        for (long seq : tx.applied) {
            InboundMessage earlier = stored.load(seq);
            context.deadLetters().send(earlier, poison.errorClass, error, poison.sqlState);
        }
        List<String> acks = new ArrayList<>(tx.acks);
        for (InboundMessage m : group) {
            context.deadLetters().send(m, poison.errorClass, group.size() == 1 ? poison.getMessage() : error, poison.sqlState);
            acks.add(m.replyTo());
        }
        ack(acks);
        if (metadata.lastChunk()) {
            recordPosition(tx.source, tx.lsn, metadata.chunk());
        } else {
            poisoned = new Poisoned(tx.source, tx.lsn, description, poison.errorClass, poison.getMessage(), poison.sqlState);
        }
    }

    /**
     * Another message arrived while a transaction is open: ends it. Called by the loop for a whole
     * message ({@code next} may be a decode failure), and here for a chunk of another transaction.
     */
    public void interrupt(InboundMessage next) throws Exception {
        if (open != null) {
            abandon(next);
        }
    }

    private void abandon(InboundMessage next) throws Exception {
        Open tx = open;
        open = null;
        closeConnection(tx);
        Lsn nextLsn = firstCommitLsn(next);
        boolean replay = next.envelope() != null && Objects.equals(next.envelope().source(), tx.source) && nextLsn != null
                && nextLsn.compareTo(tx.lsn) < 0;
        if (replay) {
            LOG.info("{} from the same source arrived before the last chunk of the {}: the source is replaying, dropping the"
                    + " open transaction (it will come again)", nextLsn, tx.describe());
            ack(tx.acks);
            return;
        }
        deadLetterOpen(tx, "incomplete chunked " + tx.describe() + ": chunk " + tx.nextChunk
                + " never arrived (stream sequence " + next.streamSeq() + " came instead)");
    }

    private void deadLetterOpen(Open tx, String reason) throws Exception {
        closeConnection(tx);
        for (long seq : tx.applied) {
            InboundMessage earlier = stored.load(seq);
            context.deadLetters().send(earlier, ErrorClass.VALIDATION, reason, null);
        }
        ack(tx.acks);
    }

    /** At shutdown: roll back the open transaction and ask for its messages again. */
    public void abortForShutdown() {
        if (open != null) {
            LOG.info("stopping with the {} open at chunk {}: rolled back, its messages will be redelivered", open.describe(),
                    open.nextChunk);
            closeConnection(open);
            inFlight.nakAll(open.acks);
            open = null;
        }
    }

    private void recordPosition(String source, Lsn lsn, int chunk) throws Exception {
        if (source == null) {
            return;
        }
        context.retrier().call("record position", () -> {
            try (Connection c = context.dataSource().getConnection()) {
                c.setAutoCommit(false);
                AppliedPositions positions = context.positions();
                positions.begin();
                positions.advance(source, lsn, chunk);
                positions.save(c);
                c.commit();
                positions.committed();
            }
            return null;
        });
    }

    private void deadLetterAndAck(InboundMessage message, ErrorClass errorClass, String error, String sqlState) throws Exception {
        context.deadLetters().send(message, errorClass, error, sqlState);
        ack(Collections.singletonList(message.replyTo()));
    }

    private void ack(List<String> replyTos) {
        inFlight.ackAll(replyTos);
        context.metrics().acked(replyTos.size());
    }

    private static Lsn firstCommitLsn(InboundMessage message) {
        if (message.envelope() == null) {
            return null;
        }
        for (Change c : message.envelope().changes()) {
            Lsn lsn = AppliedPositions.commitLsn(message.envelope(), c);
            if (lsn != null) {
                return lsn;
            }
        }
        return message.envelope().metadata() == null ? null : message.envelope().metadata().commitLsn();
    }

    private static void closeConnection(Open tx) {
        Connection c = tx.connection;
        tx.connection = null;
        if (c != null) {
            try {
                if (!c.isClosed()) {
                    c.rollback();
                }
            } catch (SQLException e) {
                LOG.debug("rollback of the open chunked transaction failed: {}", e.getMessage());
            }
            try {
                c.close();
            } catch (SQLException e) {
                LOG.debug("closing the chunked transaction's connection failed: {}", e.getMessage());
            }
        }
    }
}
