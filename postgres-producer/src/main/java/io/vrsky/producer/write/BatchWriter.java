package io.vrsky.producer.write;

import io.vrsky.core.model.Change;
import io.vrsky.core.model.Envelope;
import io.vrsky.core.model.TableId;
import io.vrsky.core.nats.DeadLetterPublisher.ErrorClass;
import io.vrsky.core.retry.Retrier;
import io.vrsky.producer.catalog.SchemaCatalog;
import io.vrsky.producer.dlq.DeadLetterSink;
import io.vrsky.producer.metrics.ProducerMetrics;
import io.vrsky.producer.plan.ChangePlanner;
import io.vrsky.producer.plan.ChangeValidator;
import io.vrsky.producer.plan.RowChange;
import io.vrsky.producer.plan.ValidationException;
import io.vrsky.producer.position.AppliedPositions;
import io.vrsky.producer.subscribe.InboundMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.sql.DataSource;

/**
 * Applies a batch of whole messages (many source transactions) in one sink transaction:
 * <ol>
 *   <li>skip changes already applied (per change, by source and commit LSN), check the rest
 *       against whitelist and catalog; a message that fails the checks is dead-lettered whole;</li>
 *   <li>run all remaining changes as set-based statements ({@link ChangePlanner});</li>
 *   <li>if that fails on a message's data, roll back and apply message by message, each under a
 *       savepoint, dead-lettering the ones that fail and keeping the rest;</li>
 *   <li>publish the dead letters (before the commit: a crash after it must not lose them), record
 *       the applied positions, commit.</li>
 * </ol>
 * Lost connections, deadlocks and serialization failures roll back and retry the whole batch
 * with backoff. The caller acknowledges every message of the batch once this returns.
 *
 * <p>Used by the loop thread only.
 */
public final class BatchWriter {

    private static final Logger LOG = LoggerFactory.getLogger(BatchWriter.class);

    /** The outcome of a committed batch. */
    public record Result(int messages, long rows, int deadLetters, long skipped) {
    }

    private static final class Item {
        final InboundMessage message;
        List<RowChange> changes = List.of();
        ErrorClass deadClass;
        String error;
        String sqlState;

        Item(InboundMessage message) {
            this.message = message;
        }

        void dead(ErrorClass errorClass, String error, String sqlState) {
            this.deadClass = errorClass;
            this.error = error;
            this.sqlState = sqlState;
            this.changes = List.of();
        }

        boolean alive() {
            return deadClass == null;
        }
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
     *                   message explains (permissions, say), or when interrupted
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
                Set<TableId> refreshed = new HashSet<>();
                WriteStats stats = new WriteStats();
                List<Item> items = prepare(c, batch, refreshed, stats);
                WriteStats applied = null;
                while (applied == null) {
                    try {
                        applied = applyAll(c, items);
                    } catch (StaleCatalog stale) {
                        // the sink's tables changed under the cached catalog: look again, once
                        c.rollback();
                        items.forEach(i -> i.changes.forEach(r -> catalog.invalidate(r.table().id())));
                        positions.begin();
                        stats = new WriteStats();
                        refreshed = new HashSet<>();
                        items = prepare(c, batch, refreshed, stats);
                        applied = applyCarefully(c, items);
                    } catch (SqlExecutor.CopyConflict conflict) {
                        // a COPY met an existing row: COPY is paused for that table, apply the batch again
                        LOG.debug("{}: applying the batch again with upserts", conflict.getMessage());
                        c.rollback();
                        positions.begin();
                        stats = new WriteStats();
                        items = prepare(c, batch, refreshed, stats);
                    }
                }
                stats.addAll(applied);
                int dead = 0;
                for (Item item : items) {
                    if (!item.alive()) {
                        deadLetters.send(item.message, item.deadClass, item.error, item.sqlState);
                        dead++;
                    }
                }
                positions.save(c);
                c.commit();
                positions.committed();
                executor.committed();
                stats.record(metrics);
                return new Result(batch.size(), stats.rows(), dead, stats.skipped());
            } catch (Exception | Error e) {
                positionsUncertain = true;
                rollbackQuietly(c);
                throw e;
            }
        }
    }

    private List<Item> prepare(Connection c, List<InboundMessage> batch, Set<TableId> refreshed, WriteStats stats)
            throws SQLException {
        List<Item> items = new ArrayList<>(batch.size());
        for (InboundMessage message : batch) {
            Item item = new Item(message);
            items.add(item);
            if (message.envelope() == null) {
                item.dead(ErrorClass.DECODE, message.decodeError(), null);
                continue;
            }
            Envelope envelope = message.envelope();
            List<RowChange> changes = new ArrayList<>(envelope.changes().size());
            long skipped = 0;
            try {
                for (Change change : envelope.changes()) {
                    if (positions.applied(envelope, change)) {
                        skipped++;
                    } else {
                        changes.add(validator.prepare(c, change, refreshed));
                    }
                }
                item.changes = changes;
            } catch (ValidationException e) {
                item.dead(ErrorClass.VALIDATION, e.getMessage(), null);
            }
            stats.skipped(skipped);
            positions.advancePast(envelope);
        }
        return items;
    }

    private WriteStats applyAll(Connection c, List<Item> items) throws SQLException, StaleCatalog, SqlExecutor.CopyConflict {
        List<RowChange> all = new ArrayList<>();
        for (Item item : items) {
            all.addAll(item.changes);
        }
        WriteStats stats = new WriteStats();
        try {
            executor.execute(c, ChangePlanner.plan(all), stats);
            return stats;
        } catch (SqlExecutor.CopyConflict e) {
            throw e;
        } catch (SQLException e) {
            SqlErrors.Kind kind = SqlErrors.classify(e);
            if (kind == SqlErrors.Kind.RETRYABLE || kind == SqlErrors.Kind.FATAL) {
                throw e;
            }
            if (kind == SqlErrors.Kind.STALE_CATALOG) {
                throw new StaleCatalog();
            }
            LOG.debug("batch of {} messages failed ({}), applying message by message", items.size(), e.getSQLState());
            c.rollback();
            return applyCarefully(c, items);
        }
    }

    /** One savepoint per message: a message that fails is rolled back alone and dead-lettered. */
    private WriteStats applyCarefully(Connection c, List<Item> items) throws SQLException {
        WriteStats total = new WriteStats();
        for (Item item : items) {
            if (!item.alive() || item.changes.isEmpty()) {
                continue;
            }
            Savepoint savepoint = c.setSavepoint();
            WriteStats stats = new WriteStats();
            try {
                try {
                    executor.execute(c, ChangePlanner.plan(item.changes), stats);
                } catch (SqlExecutor.CopyConflict conflict) {
                    // COPY is paused for the table now: the same message again, with upserts
                    c.rollback(savepoint);
                    stats = new WriteStats();
                    executor.execute(c, ChangePlanner.plan(item.changes), stats);
                }
                c.releaseSavepoint(savepoint);
                total.addAll(stats);
            } catch (SQLException e) {
                SqlErrors.Kind kind = SqlErrors.classify(e);
                if (kind == SqlErrors.Kind.RETRYABLE || kind == SqlErrors.Kind.FATAL) {
                    throw e;
                }
                c.rollback(savepoint);
                item.dead(ErrorClass.SQL, e.getMessage(), SqlErrors.sqlState(e));
            }
        }
        return total;
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

    /** The catalog looked stale (undefined column or table, datatype mismatch). */
    private static final class StaleCatalog extends Exception {
        private static final long serialVersionUID = 1L;

        StaleCatalog() {
            super(null, null, false, false);
        }
    }
}
