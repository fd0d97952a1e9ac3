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
import io.vrsky.producer.plan.ChangeValidator;
import io.vrsky.producer.plan.RowChange;
import io.vrsky.producer.plan.SchemaMismatchException;
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
 * column the sink lacks, or whose source has a gap before it: what comes before is applied and
 * committed, nothing from there on. Lost connections, deadlocks and serialization failures roll
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
    }

    private final DataSource dataSource;
    private final SchemaCatalog catalog;
    private final ChangeValidator validator;
    private final SqlExecutor executor;
    private final AppliedPositions positions;
    private final Retrier retrier;
    private final DeadLetterSink deadLetters;
    private final ProducerMetrics metrics;
    private boolean positionsUncertain = true;

    public BatchWriter(WriterContext context) {
        this.dataSource = context.dataSource();
        this.catalog = context.catalog();
        this.validator = context.validator();
        this.executor = context.executor();
        this.positions = context.positions();
        this.retrier = context.retrier();
        this.deadLetters = context.deadLetters();
        this.metrics = context.metrics();
    }

    /**
     * @throws Exception when PostgreSQL stays unreachable after the retries
     *                   ({@link io.vrsky.core.retry.RetriesExhaustedException}), on a failure that no
     *                   transaction explains (permissions, say), or when interrupted
     */
    public Result write(List<InboundMessage> batch) throws Exception {
        return retrier.call("apply batch", () -> attempt(batch));
    }

    private Result attempt(List<InboundMessage> batch) throws Exception {
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
                    rollbackQuietly(c);
                    stats = commitEach(c, prepared.txs);
                    metrics.skipped(prepared.skipped);
                    return result(prepared, stats);
                }
                positions.committed();
                executor.committed();
                stats.record(metrics);
                metrics.skipped(prepared.skipped);
                return result(prepared, stats);
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
                    }
                }
                tx.record(positions);
                p.txs.add(tx);
            }
        }
        p.messages = batch.size();
        return p;
    }

    private void check(Connection c, SourceTx tx, Set<TableId> refreshed) throws SQLException, SchemaMismatchException {
        Change placeholder = tx.placeholder();
        if (placeholder != null) {
            tx.dead(placeholderFailure(placeholder));
            return;
        }
        List<RowChange> rows = new ArrayList<>(tx.changes.size());
        try {
            for (Change change : tx.changes) {
                rows.add(validator.prepare(c, change, refreshed));
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
            } catch (SQLException e) {
                SqlErrors.Kind kind = SqlErrors.classify(e);
                if (kind == SqlErrors.Kind.RETRYABLE || kind == SqlErrors.Kind.FATAL) {
                    throw e;
                }
                c.rollback();
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

    private static void rollbackQuietly(Connection c) {
        try {
            if (!c.isClosed()) {
                c.rollback();
            }
        } catch (SQLException e) {
            LOG.debug("rollback failed: {}", e.getMessage());
        }
    }
}
