package io.vrsky.producer.write;

import io.vrsky.core.model.Change;
import io.vrsky.core.model.Envelope;
import io.vrsky.core.model.EnvelopeMetadata;
import io.vrsky.core.model.Lsn;
import io.vrsky.core.model.TableId;
import io.vrsky.core.nats.DeadLetterPublisher.ErrorClass;
import io.vrsky.producer.dlq.DeadTransaction;
import io.vrsky.producer.dlq.Failure;
import io.vrsky.producer.plan.BeforeSchemaChange;
import io.vrsky.producer.plan.ChangePlanner;
import io.vrsky.producer.plan.RowChange;
import io.vrsky.producer.plan.SchemaChangeAhead;
import io.vrsky.producer.plan.SchemaMismatchException;
import io.vrsky.producer.plan.ValidationException;
import io.vrsky.producer.position.AppliedPositions;
import io.vrsky.producer.subscribe.InFlight;
import io.vrsky.producer.subscribe.InboundMessage;
import io.vrsky.producer.subscribe.StoredMessages;
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
 * its data (or holds a placeholder for a change the consumer could not carry) poisons the whole
 * transaction: the rest of its chunks are collected as they come, and at its last chunk the whole
 * transaction is dead-lettered (its chunks read back from the stream) and acknowledged. A failure
 * at COMMIT is handled the same way. A chunk naming a table or column the sink lacks rolls back
 * and stalls ({@link Stall}): once the sink is fixed the transaction is replayed from its first
 * chunk. Chunk 0 of the open transaction arriving again (the source re-sent it) starts it over; a
 * chunk already applied is a duplicate; a gap, or a message of another transaction before the last
 * chunk, ends the open one: it is dropped silently when the same source is replaying from an
 * earlier position (it will come again), else dead-lettered.
 *
 * <p>Used by the loop thread only.
 */
public final class ChunkedTransactionWriter {

    private static final Logger LOG = LoggerFactory.getLogger(ChunkedTransactionWriter.class);

    private static final class Open {
        /** Where the position is kept: the source, or {@code replay:<id>}. */
        final String key;
        final Lsn lsn;
        final DeadTransaction description;
        final Instant started;
        int nextChunk;
        Connection connection;
        /** A connection was opened before: positions must be checked again on the next one. */
        boolean retried;
        /** The catalog was read again after a failure that said the sink table changed. */
        boolean catalogReread;
        WriteStats stats = new WriteStats();
        /** Ack subjects of every message to acknowledge with the transaction, in stream order. */
        final List<String> acks = new ArrayList<>();
        final List<Long> applied = new ArrayList<>();

        Open(String key, Lsn lsn, DeadTransaction description, Instant started) {
            this.key = key;
            this.lsn = lsn;
            this.description = description;
            this.started = started;
        }

        boolean same(String otherKey, Lsn otherLsn) {
            return Objects.equals(key, otherKey) && lsn.equals(otherLsn);
        }

        String describe() {
            return "chunked " + description.describe();
        }
    }

    /** A transaction that failed in a chunk before its last: the rest of its chunks are collected, then it is dead-lettered whole. */
    private static final class Poisoned {
        final String key;
        final Lsn lsn;
        final DeadTransaction description;
        final Failure failure;
        final List<Long> seqs;
        final List<String> acks;

        Poisoned(String key, Lsn lsn, DeadTransaction description, Failure failure, List<Long> seqs, List<String> acks) {
            this.key = key;
            this.lsn = lsn;
            this.description = description;
            this.failure = failure;
            this.seqs = seqs;
            this.acks = acks;
        }

        boolean same(String otherKey, Lsn otherLsn) {
            return Objects.equals(key, otherKey) && lsn.equals(otherLsn);
        }
    }

    /** Chunks that cannot be applied because of their own data. */
    private static final class ChunkPoison extends Exception {
        private static final long serialVersionUID = 1L;
        final transient Failure failure;

        ChunkPoison(Failure failure) {
            super(failure.message(), null, false, false);
            this.failure = failure;
        }
    }

    /** The sink table changed under the cached catalog: read it again and replay the transaction. */
    private static final class CatalogChanged extends Exception {
        private static final long serialVersionUID = 1L;

        CatalogChanged() {
            super(null, null, false, false);
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
     * Whether {@code message} belongs to the line of the open transaction (same source, or same
     * replay), so that it continues, ends or replays it. Messages of other sources (other databases
     * publishing to the same stream, replays, or bodies that cannot be decoded) have nothing to do
     * with it: the loop holds them back until the transaction is closed.
     */
    public boolean concerns(InboundMessage message) {
        return open != null && message.envelope() != null && Objects.equals(message.ledgerKey(), open.key);
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
                && Objects.equals(previous.ledgerKey(), next.ledgerKey()) && n.chunk() == p.chunk() + 1;
    }

    /** Handles one chunk message; commits and acknowledges the transaction when it is the last chunk. */
    public Stall onChunk(InboundMessage message) throws Exception {
        return onChunks(List.of(message));
    }

    /**
     * Handles consecutive chunks of one transaction that arrived together ({@link #follows} holds for
     * each pair): they are validated, planned and applied as one, so their rows share statements (one
     * COPY for a transaction whose chunks are all waiting). Whatever the first one needs besides
     * being applied (a duplicate, a gap, a poisoned transaction), each is then handled on its own.
     *
     * @return null when every message of the group was handled; else why the writer stopped at
     *         {@link Stall#message()} (a message of the group): call again with the group from there
     *         once the cause is gone
     */
    public Stall onChunks(List<InboundMessage> group) throws Exception {
        InboundMessage message = group.get(0);
        Envelope envelope = message.envelope();
        EnvelopeMetadata metadata = envelope.metadata();
        Lsn lsn = metadata.commitLsn();
        String key = message.ledgerKey();
        int chunk = metadata.chunk();
        if (message.isReplay() && !message.validReplayId()) {
            deadLetterAndAck(message, Failure.of(ErrorClass.VALIDATION,
                    "invalid Vrsky-Replay header: allowed 1 to 200 of A-Z a-z 0-9 . _ : -"));
            return eachAfterFirst(group);
        }
        if (lsn == null) {
            deadLetterAndAck(message, Failure.of(ErrorClass.VALIDATION, "a chunked message (chunk " + chunk
                    + ") needs metadata.commitLsn"));
            return eachAfterFirst(group);
        }
        if (key != null && context.positions().committedApplied(key, lsn)) {
            context.metrics().skipped(message.changeCount());
            ack(Collections.singletonList(message.replyTo()));
            return eachAfterFirst(group);
        }
        if (poisoned != null) {
            if (poisoned.same(key, lsn)) {
                for (InboundMessage m : group) {
                    poisoned.seqs.add(m.streamSeq());
                    poisoned.acks.add(m.replyTo());
                }
                if (group.get(group.size() - 1).envelope().metadata().lastChunk()) {
                    finishPoisoned(group.get(group.size() - 1).envelope().metadata().chunk());
                }
                return null;
            }
            abandonPoisoned(message);
        }
        if (open != null && !open.same(key, lsn)) {
            abandon(message);
        }
        if (open == null) {
            if (chunk != 0) {
                deadLetterAndAck(message, Failure.of(ErrorClass.VALIDATION, "chunk " + chunk + " of the transaction at " + lsn
                        + " arrived without the chunks before it"));
                return eachAfterFirst(group);
            }
            Stall gap = gap(message);
            if (gap != null) {
                return gap;
            }
            open = new Open(key, lsn, describe(message), clock.instant());
            LOG.debug("opened {}", open.describe());
        } else if (chunk == 0) {
            LOG.info("chunk 0 of the open {} arrived again: starting it over", open.describe());
            closeConnection(open);
            open.applied.clear();
        } else if (chunk < open.nextChunk) {
            open.acks.add(message.replyTo());
            return eachAfterFirst(group);
        } else if (chunk > open.nextChunk) {
            String reason = "chunk " + open.nextChunk + " of the " + open.describe() + " never arrived (got chunk " + chunk + ")";
            Open gone = open;
            open = null;
            deadLetterOpen(gone, reason);
            deadLetterAndAck(message, Failure.of(ErrorClass.VALIDATION, reason));
            return eachAfterFirst(group);
        }
        return apply(group);
    }

    private Stall eachAfterFirst(List<InboundMessage> group) throws Exception {
        for (InboundMessage next : group.subList(1, group.size())) {
            Stall stall = onChunks(List.of(next));
            if (stall != null) {
                return stall;
            }
        }
        return null;
    }

    /**
     * Whether the source has a gap before this transaction (see {@link Stall.Gap}): checked on its
     * first chunk, against the committed position (the batch before it is committed already).
     */
    private Stall gap(InboundMessage message) {
        Lsn previous = message.prevCommitLsn();
        String source = message.envelope().source();
        if (message.isReplay() || previous == null || source == null) {
            return null;
        }
        AppliedPositions.Position p = context.positions().position(source);
        if (p != null && previous.compareTo(p.commitLsn()) <= 0) {
            return null;
        }
        return new Stall.Gap(source, p == null ? null : p.commitLsn(), previous, message);
    }

    private static DeadTransaction describe(InboundMessage first) {
        Envelope e = first.envelope();
        EnvelopeMetadata m = e.metadata();
        return new DeadTransaction(e.source(), m.txId(), m.commitLsn(), m.commitTime(), e.type(), e.time(), first.subject(),
                first.streamSeq());
    }

    private Stall apply(List<InboundMessage> group) throws Exception {
        InboundMessage message = group.get(group.size() - 1);
        EnvelopeMetadata metadata = message.envelope().metadata();
        Open tx = open;
        boolean[] committedBefore = {false};
        try {
            context.retrier().call("apply chunk", () -> {
                while (true) {
                    try {
                        if (tx.connection == null && reopen(tx)) {
                            // a COMMIT whose answer was lost did go through
                            committedBefore[0] = true;
                            closeConnection(tx);
                            return null;
                        }
                        applyChunks(tx, group);
                        if (metadata.lastChunk()) {
                            commit(tx, metadata.chunk());
                        }
                        return null;
                    } catch (SqlExecutor.CopyConflict conflict) {
                        // COPY met an existing row and is paused for the table: the transaction again, with upserts
                        LOG.debug("{}: applying the {} again with upserts", conflict.getMessage(), tx.describe());
                        closeConnection(tx);
                        tx.retried = false;
                    } catch (CatalogChanged changed) {
                        closeConnection(tx);
                        tx.retried = false;
                    } catch (SQLException e) {
                        closeConnection(tx);
                        throw classify(tx, e);
                    } catch (Exception e) {
                        // whatever went wrong, the next attempt starts from a fresh connection and replays
                        closeConnection(tx);
                        throw e;
                    }
                }
            });
        } catch (ChunkPoison poison) {
            poison(tx, group, poison.failure);
            return null;
        } catch (SchemaMismatchException mismatch) {
            closeConnection(tx);
            if (tx.applied.isEmpty()) {
                // nothing of it was applied: it starts afresh once the sink is fixed
                open = null;
            }
            return new Stall.Schema(mismatch.difference(), group.get(0));
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
            context.metrics().sinkCommitted(metadata.commitTime());
            context.metrics().batch(tx.acks.size(), tx.stats.rows(), Duration.between(tx.started, clock.instant()));
            LOG.debug("committed {}: {} chunks, {} rows", tx.describe(), metadata.chunk() + 1, tx.stats.rows());
        }
        return null;
    }

    /**
     * What an SQL failure means for the transaction: its data is bad (poison), the catalog is stale
     * (read it again and replay, once), or the failure is the caller's (retry, stop).
     */
    private Exception classify(Open tx, SQLException e) {
        SqlErrors.Kind kind = SqlErrors.classify(e);
        boolean stale = kind == SqlErrors.Kind.STALE_CATALOG || kind == SqlErrors.Kind.POISON
                && SqlErrors.isOutOfRange(SqlErrors.sqlState(e));
        if (stale && !tx.catalogReread) {
            LOG.info("SQLSTATE {} in the {}: reading the catalog again and applying it again", SqlErrors.sqlState(e), tx.describe());
            tx.catalogReread = true;
            context.catalog().invalidateAll();
            return new CatalogChanged();
        }
        if (kind == SqlErrors.Kind.POISON || kind == SqlErrors.Kind.STALE_CATALOG) {
            return new ChunkPoison(SqlErrors.failure(e));
        }
        return e;
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
            if (tx.key != null && context.positions().committedApplied(tx.key, tx.lsn)) {
                return true;
            }
        }
        tx.retried = true;
        if (!tx.applied.isEmpty()) {
            LOG.info("re-applying {} chunks of the {}", tx.applied.size(), tx.describe());
        }
        for (long seq : tx.applied) {
            applyChunks(tx, List.of(stored.load(seq)));
        }
        return false;
    }

    /** Validates and applies the changes of these chunks together (runs may span them). */
    private void applyChunks(Open tx, List<InboundMessage> group) throws SQLException, ChunkPoison, SchemaMismatchException {
        Set<TableId> refreshed = new HashSet<>();
        List<RowChange> changes = new ArrayList<>();
        // before the sink table changes for a change, the changes before it are applied (they meet the table as it was)
        BeforeSchemaChange before = () -> {
            if (!changes.isEmpty()) {
                context.executor().execute(tx.connection, ChangePlanner.plan(changes), tx.stats);
                changes.clear();
            }
        };
        for (InboundMessage message : group) {
            if (message.envelope() == null) {
                throw new ChunkPoison(Failure.of(ErrorClass.DECODE, message.decodeError()));
            }
            String source = message.envelope().source();
            try {
                for (Change change : message.envelope().changes()) {
                    if (change.isPlaceholder()) {
                        throw new ChunkPoison(BatchWriter.placeholderFailure(change));
                    }
                    changes.add(context.validator().prepare(tx.connection, source, change, refreshed, before));
                }
            } catch (ValidationException e) {
                throw new ChunkPoison(Failure.of(ErrorClass.VALIDATION, e.getMessage()));
            } catch (SchemaChangeAhead e) {
                throw new IllegalStateException("applying the changes before a schema change cannot refuse it", e);
            }
        }
        context.executor().execute(tx.connection, ChangePlanner.plan(changes), tx.stats);
    }

    private void commit(Open tx, int lastChunk) throws SQLException {
        AppliedPositions positions = context.positions();
        positions.begin();
        if (tx.key != null) {
            positions.advance(tx.key, tx.lsn, lastChunk);
        }
        positions.save(tx.connection);
        tx.connection.commit();
        positions.committed();
        context.executor().committed();
        context.schema().committed();
        closeConnection(tx);
    }

    /** The transaction cannot be applied: dead-lettered whole once its last chunk is in. */
    private void poison(Open tx, List<InboundMessage> group, Failure failure) throws Exception {
        open = null;
        closeConnection(tx);
        InboundMessage last = group.get(group.size() - 1);
        int firstChunk = group.get(0).envelope().metadata().chunk();
        int lastChunk = last.envelope().metadata().chunk();
        LOG.debug("the {} failed in chunk {}{}: collecting the rest of its chunks to dead-letter it whole", tx.describe(),
                firstChunk == lastChunk ? "" : firstChunk + "..", lastChunk);
        List<Long> seqs = new ArrayList<>(tx.applied);
        List<String> acks = new ArrayList<>(tx.acks);
        for (InboundMessage m : group) {
            seqs.add(m.streamSeq());
            acks.add(m.replyTo());
        }
        poisoned = new Poisoned(tx.key, tx.lsn, tx.description, failure, seqs, acks);
        if (last.envelope().metadata().lastChunk()) {
            finishPoisoned(lastChunk);
        }
    }

    /** The poisoned transaction's last chunk is in: dead-letter all of it, acknowledge, move the position past it. */
    private void finishPoisoned(int lastChunk) throws Exception {
        Poisoned p = poisoned;
        context.deadLetters().sendChunked(p.description, p.seqs, stored, p.failure);
        ack(p.acks);
        poisoned = null;
        recordPosition(p.key, p.lsn, lastChunk);
    }

    /** Another transaction began before the poisoned one's last chunk: dead-letter what arrived of it. */
    private void abandonPoisoned(InboundMessage next) throws Exception {
        Poisoned p = poisoned;
        poisoned = null;
        Failure failure = p.failure.prefixed("incomplete (stream sequence " + next.streamSeq() + " came before its last chunk); ");
        context.deadLetters().sendChunked(p.description, p.seqs, stored, failure);
        ack(p.acks);
    }

    /**
     * Another message arrived while a transaction is open (or a poisoned one is collecting its
     * chunks): ends it. Called by the loop for a whole message of the same line ({@code next} may
     * be a decode failure), and here for a chunk of another transaction.
     */
    public void interrupt(InboundMessage next) throws Exception {
        if (open != null) {
            abandon(next);
        }
        if (collecting(next)) {
            abandonPoisoned(next);
        }
    }

    /** Whether a poisoned transaction is collecting its chunks and {@code message} belongs to its line. */
    public boolean collecting(InboundMessage message) {
        return poisoned != null && message.envelope() != null && Objects.equals(message.ledgerKey(), poisoned.key);
    }

    private void abandon(InboundMessage next) throws Exception {
        Open tx = open;
        open = null;
        closeConnection(tx);
        Lsn nextLsn = firstCommitLsn(next);
        boolean replay = next.envelope() != null && Objects.equals(next.ledgerKey(), tx.key) && nextLsn != null
                && nextLsn.compareTo(tx.lsn) < 0;
        if (replay) {
            LOG.info("{} from the same source arrived before the last chunk of the {}: the source is replaying, dropping the"
                    + " open transaction (it will come again)", nextLsn, tx.describe());
            ack(tx.acks);
            return;
        }
        deadLetterOpen(tx, "incomplete " + tx.describe() + ": chunk " + tx.nextChunk
                + " never arrived (stream sequence " + next.streamSeq() + " came instead)");
    }

    private void deadLetterOpen(Open tx, String reason) throws Exception {
        closeConnection(tx);
        if (!tx.applied.isEmpty()) {
            context.deadLetters().sendChunked(tx.description, tx.applied, stored, Failure.of(ErrorClass.VALIDATION, reason));
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
        if (poisoned != null) {
            inFlight.nakAll(poisoned.acks);
            poisoned = null;
        }
    }

    private void recordPosition(String key, Lsn lsn, int chunk) throws Exception {
        if (key == null) {
            return;
        }
        context.retrier().call("record position", () -> {
            try (Connection c = context.dataSource().getConnection()) {
                c.setAutoCommit(false);
                AppliedPositions positions = context.positions();
                positions.begin();
                positions.advance(key, lsn, chunk);
                positions.save(c);
                c.commit();
                positions.committed();
            }
            return null;
        });
    }

    private void deadLetterAndAck(InboundMessage message, Failure failure) throws Exception {
        context.deadLetters().send(describe(message), message.envelope().changes(), failure);
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

    /** Rolls the open sink transaction back (nothing when it committed) and gives the connection back. */
    private void closeConnection(Open tx) {
        Connection c = tx.connection;
        tx.connection = null;
        if (c != null) {
            context.schema().rolledBack();
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
