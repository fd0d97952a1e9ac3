package io.vrsky.producer.write;

import io.vrsky.core.model.Change;
import io.vrsky.core.model.Lsn;
import io.vrsky.core.model.TableId;
import io.vrsky.core.nats.DeadLetterPublisher.ErrorClass;
import io.vrsky.core.retry.Retrier;
import io.vrsky.producer.catalog.SchemaCatalog;
import io.vrsky.producer.catalog.TableMeta;
import io.vrsky.producer.dlq.DeadLetterSink;
import io.vrsky.producer.dlq.Failure;
import io.vrsky.producer.metrics.ProducerMetrics;
import io.vrsky.producer.plan.ChangePlanner;
import io.vrsky.producer.plan.BeforeSchemaChange;
import io.vrsky.producer.plan.ChangeValidator;
import io.vrsky.producer.plan.RowChange;
import io.vrsky.producer.plan.SchemaChangeAhead;
import io.vrsky.producer.plan.SchemaMismatchException;
import io.vrsky.producer.plan.SchemaPolicy;
import io.vrsky.producer.plan.ValidationException;
import io.vrsky.producer.position.AppliedPositions;
import io.vrsky.producer.subscribe.InboundMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Applies a batch of whole messages (many source transactions) in one sink transaction. The unit
 * of isolation is one source transaction ({@link SourceTx}):
 * <ol>
 *   <li>skip transactions already applied (by their source's applied position, or their replay
 *       id's), check the rest against whitelist and catalog; a transaction that fails the checks
 *       or holds a placeholder for a change the consumer could not carry is dead-lettered alone;</li>
 *   <li>run every remaining change as set-based statements ({@link ChangePlanner});</li>
 *   <li>if that fails because the sink table changed (undefined column or table, a value out of
 *       range of a column whose type changed by hand), read the catalog again and try once more;</li>
 *   <li>if it fails on a transaction's data, roll back and apply transaction by transaction, each
 *       under a savepoint, dead-lettering the ones that fail and keeping the rest;</li>
 *   <li>publish the dead letters (before the commit: a crash after it must not lose them), record
 *       the applied positions, commit;</li>
 *   <li>if the COMMIT fails on the data (a deferred constraint), apply the transactions one sink
 *       transaction each, so that exactly the ones that fail are dead-lettered.</li>
 * </ol>
 * The batch stops short ({@link Result#stall()}) before a message whose change names a table or
 * column the sink lacks (and the schema policy pauses), or whose source has a gap before it: what
 * comes before is applied and committed, nothing from there on. A source transaction whose change
 * needs the sink table changed first (schema evolution) is applied by itself: what comes before it
 * is committed, then it goes in a sink transaction of its own, change by change, the table change
 * at its place among them (so the changes before it see the table as it was, and the table change
 * commits with the first change that needs it), then the batch goes on after it. Lost connections, deadlocks and serialization failures roll
 * back and retry the whole batch with backoff. The caller acknowledges the first
 * {@link Result#messages()} messages once this returns.
 *
 * <p>Used by the loop thread only.
 */
public final class BatchWriter {

    private static final Logger LOG = LoggerFactory.getLogger(BatchWriter.class);

    /**
     * The outcome of a committed batch.
     *
     * @param messages         how many messages from the start of the batch were handled (applied,
     *                         skipped or dead-lettered) and may be acknowledged; all unless stalled
     * @param transactions     source transactions handled
     * @param deadTransactions of which dead-lettered
     * @param stall            why the batch stopped before message {@code messages}, or null
     */
    public record Result(int messages, long rows, int transactions, int deadTransactions, long skipped, Stall stall) {
    }

    /** The batch's transactions, prepared for the SQL. */
    private static final class Prepared {
        final List<SourceTx> txs = new ArrayList<>();
        int messages;
        long skipped;
        Stall stall;
        /** The transaction (of message {@link #messages}) that needs the sink table changed, and its place in the message. */
        SourceTx evolve;
        int evolveIndex;
    }

    /** How far a part of the batch got: its result, and the transaction that needs the sink table changed next, if any. */
    private record Part(Result result, Prepared prepared) {
    }

    private final DataSource dataSource;
    private final SchemaCatalog catalog;
    private final ChangeValidator validator;
    private final SqlExecutor executor;
    private final AppliedPositions positions;
    private final Retrier retrier;
    private final DeadLetterSink deadLetters;
    private final ProducerMetrics metrics;
    private final SchemaPolicy schema;
    private boolean positionsUncertain = true;

    /** In a batch, a transaction that needs the sink table changed goes by itself ({@link #evolve}). */
    private static final BeforeSchemaChange ALONE = () -> {
        throw new SchemaChangeAhead();
    };

    public BatchWriter(WriterContext context) {
        this.dataSource = context.dataSource();
        this.catalog = context.catalog();
        this.validator = context.validator();
        this.executor = context.executor();
        this.positions = context.positions();
        this.retrier = context.retrier();
        this.deadLetters = context.deadLetters();
        this.metrics = context.metrics();
        this.schema = context.schema();
    }

    /**
     * @throws Exception when PostgreSQL stays unreachable after the retries
     *                   ({@link io.vrsky.core.retry.RetriesExhaustedException}), on a failure that no
     *                   transaction explains (permissions, say), or when interrupted
     */
    public Result write(List<InboundMessage> batch) throws Exception {
        int offset = 0;
        long rows = 0;
        long skipped = 0;
        int transactions = 0;
        int dead = 0;
        while (true) {
            List<InboundMessage> rest = batch.subList(offset, batch.size());
            Part part = retrier.call("apply batch", () -> attempt(rest));
            Result r = part.result();
            rows += r.rows();
            skipped += r.skipped();
            transactions += r.transactions();
            dead += r.deadTransactions();
            Prepared p = part.prepared();
            if (p.evolve == null) {
                return new Result(offset + r.messages(), rows, transactions, dead, skipped, r.stall());
            }
            InboundMessage message = rest.get(r.messages());
            Evolved evolved = retrier.call("apply schema change", () -> evolve(message, p.evolveIndex));
            if (evolved.stall() != null) {
                return new Result(offset + r.messages(), rows, transactions, dead, skipped, evolved.stall());
            }
            rows += evolved.rows();
            transactions++;
            dead += evolved.dead() ? 1 : 0;
            // the message again, unless that was its last transaction: the ones before it are skipped by position now
            boolean lastOfMessage = p.evolveIndex == SourceTx.split(message).size() - 1;
            offset += r.messages() + (lastOfMessage ? 1 : 0);
            if (offset == batch.size()) {
                return new Result(offset, rows, transactions, dead, skipped, null);
            }
        }
    }

    /** What applying a transaction that changes the sink table came to. */
    private record Evolved(long rows, boolean dead, Stall stall) {
    }

    /**
     * Applies the {@code index}th source transaction of {@code message} by itself, in a sink
     * transaction of its own, change by change: before the sink table is changed for a change, the
     * changes before it are applied (so they meet the table as it was). A change the data refuses
     * dead-letters the transaction as usual; a schema difference that pauses stops here.
     */
    private Evolved evolve(InboundMessage message, int index) throws Exception {
        SourceTx tx = SourceTx.split(message).get(index);
        String source = message.envelope().source();
        boolean catalogReread = false;
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            while (true) {
                WriteStats stats = new WriteStats();
                try {
                    positions.load(c);
                    if (tx.ledgerLsn != null && positions.committedApplied(tx.key, tx.ledgerLsn)) {
                        return new Evolved(0, false, null); // a commit whose answer was lost went through
                    }
                    List<RowChange> pending = new ArrayList<>();
                    BeforeSchemaChange before = () -> {
                        if (!pending.isEmpty()) {
                            executor.execute(c, ChangePlanner.plan(pending), stats);
                            pending.clear();
                        }
                    };
                    Set<TableId> refreshed = new HashSet<>();
                    for (Change change : tx.changes) {
                        pending.add(validator.prepare(c, source, change, refreshed, before));
                    }
                    executor.execute(c, ChangePlanner.plan(pending), stats);
                    if (tx.ledgerLsn != null) {
                        positions.advance(tx.key, tx.ledgerLsn, 0);
                    }
                    positions.save(c);
                    c.commit();
                    positions.committed();
                    executor.committed();
                    schema.committed();
                    stats.record(metrics);
                    return new Evolved(stats.rows(), false, null);
                } catch (SchemaMismatchException e) {
                    rollback(c);
                    return new Evolved(0, false, new Stall.Schema(e.difference(), message));
                } catch (SchemaChangeAhead e) {
                    throw new IllegalStateException("applying changes before a schema change cannot refuse it", e);
                } catch (SqlExecutor.CopyConflict conflict) {
                    LOG.debug("{}: applying the transaction again with upserts", conflict.getMessage());
                    rollback(c);
                } catch (ValidationException e) {
                    rollback(c);
                    tx.dead(Failure.of(ErrorClass.VALIDATION, e.getMessage()));
                } catch (SQLException e) {
                    SqlErrors.Kind kind = SqlErrors.classify(e);
                    if (kind == SqlErrors.Kind.RETRYABLE || kind == SqlErrors.Kind.FATAL) {
                        rollback(c);
                        throw e;
                    }
                    rollback(c);
                    if (!catalogReread && (kind == SqlErrors.Kind.STALE_CATALOG || SqlErrors.isOutOfRange(SqlErrors.sqlState(e)))) {
                        // the sink table may have changed under the cached catalog (by hand): read it again, once
                        LOG.info("SQLSTATE {}: reading the catalog again and applying the transaction again", SqlErrors.sqlState(e));
                        catalogReread = true;
                        catalog.invalidateAll();
                        continue;
                    }
                    tx.dead(SqlErrors.failure(e));
                } catch (Exception | Error e) {
                    rollback(c);
                    throw e;
                }
                if (tx.failure != null) {
                    commitPositions(c, List.of(tx));
                    return new Evolved(0, true, null);
                }
            }
        }
    }

    private Part attempt(List<InboundMessage> batch) throws Exception {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                if (positionsUncertain) {
                    positions.load(c);
                    positionsUncertain = false;
                }
                Prepared prepared = prepare(c, batch, new HashSet<>());
                WriteStats stats = new WriteStats();
                prepared = applyAll(c, batch, prepared, stats);
                publishDeadLetters(prepared.txs);
                positions.save(c);
                try {
                    c.commit();
                } catch (SQLException e) {
                    if (SqlErrors.classify(e) != SqlErrors.Kind.POISON) {
                        throw e;
                    }
                    LOG.info("the commit of a batch of {} source transactions failed ({}): applying them one sink transaction each",
                            prepared.txs.size(), SqlErrors.sqlState(e));
                    if (rollbackQuietly(c)) {
                        prepared = prepare(c, batch, new HashSet<>());
                    }
                    stats = commitEach(c, prepared.txs);
                    metrics.skipped(prepared.skipped);
                    return new Part(result(prepared, stats), prepared);
                }
                positions.committed();
                executor.committed();
                schema.committed();
                stats.record(metrics);
                metrics.skipped(prepared.skipped);
                return new Part(result(prepared, stats), prepared);
            } catch (Exception | Error e) {
                positionsUncertain = true;
                rollbackQuietly(c);
                throw e;
            }
        }
    }

    private static Result result(Prepared p, WriteStats stats) {
        int dead = 0;
        for (SourceTx tx : p.txs) {
            if (tx.failure != null) {
                dead++;
            }
        }
        return new Result(p.messages, stats.rows(), p.txs.size(), dead, p.skipped, p.stall);
    }

    /** Splits the messages into transactions, skips what was applied, checks and converts the rest. */
    private Prepared prepare(Connection c, List<InboundMessage> batch, Set<TableId> refreshed) throws SQLException {
        positions.begin();
        Prepared p = new Prepared();
        for (int m = 0; m < batch.size(); m++) {
            InboundMessage message = batch.get(m);
            if (message.envelope() == null) {
                p.txs.add(SourceTx.whole(message, Failure.of(ErrorClass.DECODE, message.decodeError())));
                continue;
            }
            if (message.isReplay() && !message.validReplayId()) {
                p.txs.add(SourceTx.whole(message, Failure.of(ErrorClass.VALIDATION,
                        "invalid Vrsky-Replay header: allowed 1 to 200 of A-Z a-z 0-9 . _ : -")));
                continue;
            }
            Stall gap = gap(message);
            if (gap != null) {
                p.stall = gap;
                p.messages = m;
                return p;
            }
            int firstOfMessage = p.txs.size();
            for (SourceTx tx : SourceTx.split(message)) {
                if (tx.appliedIn(positions)) {
                    tx.skipped = true;
                    p.skipped += tx.changes.size();
                } else {
                    try {
                        check(c, tx, refreshed);
                    } catch (SchemaMismatchException e) {
                        p.stall = new Stall.Schema(e.difference(), message);
                        p.messages = m;
                        return p;
                    } catch (SchemaChangeAhead e) {
                        // the sink table must change first: what came before is committed, then this one alone
                        p.evolve = tx;
                        p.evolveIndex = p.txs.size() - firstOfMessage;
                        p.messages = m;
                        return p;
                    }
                }
                tx.record(positions);
                p.txs.add(tx);
            }
        }
        p.messages = batch.size();
        return p;
    }

    /**
     * Checks and converts a transaction's changes.
     *
     * @throws SchemaChangeAhead a change needs the sink table changed first: the transaction is
     *                           applied by itself ({@link #evolve})
     */
    private void check(Connection c, SourceTx tx, Set<TableId> refreshed)
            throws SQLException, SchemaMismatchException, SchemaChangeAhead {
        Change placeholder = tx.placeholder();
        if (placeholder != null) {
            tx.dead(placeholderFailure(placeholder));
            return;
        }
        List<RowChange> rows = new ArrayList<>(tx.changes.size());
        String source = tx.message.envelope().source();
        try {
            for (Change change : tx.changes) {
                rows.add(validator.prepare(c, source, change, refreshed, ALONE));
            }
            tx.rows = rows;
        } catch (ValidationException e) {
            tx.dead(Failure.of(ErrorClass.VALIDATION, e.getMessage()));
        }
    }

    /** A change the consumer could not carry: its transaction is never applied without it. */
    static Failure placeholderFailure(Change c) {
        String where = c.op() + " on " + c.tableId() + " with key " + (c.before() == null ? "{}" : keyText(c)) + " at LSN "
                + (c.lsn() == null ? "?" : c.lsn());
        if (c.oversized() != null) {
            return Failure.of(ErrorClass.PUBLISH, "the change " + where + " was too large to publish (" + c.oversized().bytes()
                    + " bytes, limit " + c.oversized().limit() + "): its transaction is not applied");
        }
        return Failure.of(ErrorClass.DECODE, "the change " + where + " could not be decoded by the consumer ("
                + c.undecodable().error() + "): its transaction is not applied");
    }

    private static String keyText(Change c) {
        StringBuilder b = new StringBuilder("{");
        c.before().forEach((k, v) -> {
            if (b.length() > 1) {
                b.append(',');
            }
            b.append('"').append(k).append("\":").append(v);
        });
        return b.append('}').toString();
    }

    /**
     * Whether the message's source has a gap before it: the message says which commit LSN came
     * before its first transaction, and the source's position (committed or this batch's) is below
     * it. Replays, messages without a source and messages without the header are not checked.
     */
    private Stall gap(InboundMessage message) {
        Lsn previous = message.prevCommitLsn();
        String source = message.envelope().source();
        if (message.isReplay() || previous == null || source == null) {
            return null;
        }
        AppliedPositions.Position p = positions.current(source);
        if (p != null && previous.compareTo(p.commitLsn()) <= 0) {
            return null;
        }
        return new Stall.Gap(source, p == null ? null : p.commitLsn(), previous, message);
    }

    /**
     * Runs the prepared transactions: set-based first; after a failure that says the sink table
     * changed, once more with the catalog read again; after a failure on the data, transaction by
     * transaction. Returns what was applied (possibly prepared again).
     */
    private Prepared applyAll(Connection c, List<InboundMessage> batch, Prepared prepared, WriteStats stats) throws SQLException {
        boolean catalogReread = false;
        Prepared p = prepared;
        while (true) {
            WriteStats attempt = new WriteStats();
            try {
                executor.execute(c, ChangePlanner.plan(liveRows(p.txs)), attempt);
                stats.addAll(attempt);
                return p;
            } catch (SqlExecutor.CopyConflict conflict) {
                // a COPY met an existing row: COPY is paused for that table now, the same rows again
                LOG.debug("{}: applying the batch again with upserts", conflict.getMessage());
                c.rollback();
                if (schema.rolledBack()) {
                    p = prepare(c, batch, new HashSet<>());
                }
            } catch (SQLException e) {
                SqlErrors.Kind kind = SqlErrors.classify(e);
                if (kind == SqlErrors.Kind.RETRYABLE || kind == SqlErrors.Kind.FATAL) {
                    throw e;
                }
                c.rollback();
                boolean prepareAgain = schema.rolledBack();
                if (!catalogReread && (kind == SqlErrors.Kind.STALE_CATALOG
                        || SqlErrors.isOutOfRange(SqlErrors.sqlState(e)) && tablesChanged(c, p.txs))) {
                    // the sink's tables changed under the cached catalog: read it again and retry, once
                    LOG.info("SQLSTATE {}: reading the catalog again for the batch's tables and retrying", SqlErrors.sqlState(e));
                    catalogReread = true;
                    tables(p.txs).forEach(catalog::invalidate);
                    p = prepare(c, batch, new HashSet<>());
                    continue;
                }
                LOG.debug("batch of {} source transactions failed ({}), applying transaction by transaction", p.txs.size(),
                        SqlErrors.sqlState(e));
                if (prepareAgain) {
                    p = prepare(c, batch, new HashSet<>());
                }
                stats.addAll(applyCarefully(c, p.txs));
                return p;
            }
        }
    }

    private static List<RowChange> liveRows(List<SourceTx> txs) {
        List<RowChange> all = new ArrayList<>();
        for (SourceTx tx : txs) {
            if (tx.live()) {
                all.addAll(tx.rows);
            }
        }
        return all;
    }

    private static Set<TableId> tables(List<SourceTx> txs) {
        Set<TableId> tables = new LinkedHashSet<>();
        for (SourceTx tx : txs) {
            for (RowChange row : tx.rows) {
                tables.add(row.table().id());
            }
        }
        return tables;
    }

    /** Whether any of the batch's tables is described differently by the catalog now than by the cache. */
    private boolean tablesChanged(Connection c, List<SourceTx> txs) throws SQLException {
        for (TableId id : tables(txs)) {
            Optional<TableMeta> cached = catalog.cached(id);
            if (!Objects.equals(cached, catalog.reload(c, id))) {
                return true;
            }
        }
        return false;
    }

    /** One savepoint per source transaction: one that fails is rolled back alone and dead-lettered. */
    private WriteStats applyCarefully(Connection c, List<SourceTx> txs) throws SQLException {
        WriteStats total = new WriteStats();
        for (SourceTx tx : txs) {
            if (!tx.live() || tx.rows.isEmpty()) {
                continue;
            }
            Savepoint savepoint = c.setSavepoint();
            try {
                total.addAll(execute(c, tx, savepoint));
                c.releaseSavepoint(savepoint);
            } catch (SQLException e) {
                SqlErrors.Kind kind = SqlErrors.classify(e);
                if (kind == SqlErrors.Kind.RETRYABLE || kind == SqlErrors.Kind.FATAL) {
                    throw e;
                }
                c.rollback(savepoint);
                tx.dead(SqlErrors.failure(e));
            }
        }
        return total;
    }

    /** The transaction's rows; after a COPY conflict (COPY is paused for the table then) once more, from the savepoint. */
    private WriteStats execute(Connection c, SourceTx tx, Savepoint savepoint) throws SQLException {
        WriteStats stats = new WriteStats();
        try {
            executor.execute(c, ChangePlanner.plan(tx.rows), stats);
        } catch (SqlExecutor.CopyConflict conflict) {
            if (savepoint == null) {
                c.rollback();
            } else {
                c.rollback(savepoint);
            }
            stats = new WriteStats();
            executor.execute(c, ChangePlanner.plan(tx.rows), stats);
        }
        return stats;
    }

    /**
     * After a COMMIT failed on the data (a deferred constraint): every transaction in a sink
     * transaction of its own, in order, so that exactly the ones whose commit fails are
     * dead-lettered. Positions move with each commit.
     */
    private WriteStats commitEach(Connection c, List<SourceTx> txs) throws Exception {
        WriteStats total = new WriteStats();
        List<SourceTx> pending = new ArrayList<>();
        for (SourceTx tx : txs) {
            if (!tx.live() || tx.rows.isEmpty()) {
                pending.add(tx);
                continue;
            }
            pending.add(tx);
            try {
                WriteStats stats = execute(c, tx, null);
                commitPositions(c, pending);
                total.addAll(stats);
                pending.clear();
            } catch (SQLException e) {
                SqlErrors.Kind kind = SqlErrors.classify(e);
                if (kind == SqlErrors.Kind.RETRYABLE || kind == SqlErrors.Kind.FATAL) {
                    throw e;
                }
                rollbackQuietly(c);
                positions.begin();
                tx.dead(SqlErrors.failure(e));
            }
        }
        if (!pending.isEmpty()) {
            commitPositions(c, pending);
        }
        total.record(metrics);
        return total;
    }

    /** Publishes the dead letters among {@code txs}, records their positions and commits the sink transaction. */
    private void commitPositions(Connection c, List<SourceTx> txs) throws Exception {
        publishDeadLetters(txs);
        positions.begin();
        for (SourceTx tx : txs) {
            tx.record(positions);
        }
        positions.save(c);
        c.commit();
        positions.committed();
        executor.committed();
        schema.committed();
    }

    private void publishDeadLetters(List<SourceTx> txs) throws Exception {
        for (SourceTx tx : txs) {
            if (tx.failure != null && !tx.published) {
                if (tx.message.envelope() == null) {
                    deadLetters.sendUndecodable(tx.message, tx.failure);
                } else {
                    deadLetters.send(tx.deadTransaction(), tx.changes, tx.failure);
                }
                tx.published = true;
            }
        }
    }

    /** Rolls back; returns whether the schema policy had changed anything in the transaction (see {@link SchemaPolicy#rolledBack()}). */
    private boolean rollbackQuietly(Connection c) {
        try {
            if (!c.isClosed()) {
                c.rollback();
            }
        } catch (SQLException e) {
            LOG.debug("rollback failed: {}", e.getMessage());
        }
        return schema.rolledBack();
    }

    private void rollback(Connection c) {
        rollbackQuietly(c);
        positionsUncertain = true;
    }
}
