package io.vrsky.consumer.snapshot;

import io.vrsky.consumer.encode.ChangeEncoder.TxStrings;
import io.vrsky.core.pg.PgErrors;
import org.postgresql.copy.CopyManager;
import org.postgresql.copy.CopyOut;
import org.postgresql.core.BaseConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The initial snapshot's copy: every monitored table read under the exported snapshot of the slot
 * just created ({@code BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT}),
 * {@code parallelism} tables at once, each with one streamed {@code COPY (SELECT ... ORDER BY key)
 * TO STDOUT} (heap order for a table without a key), encoded and cut into messages on the copying
 * threads. The messages go through a small bounded queue to the replication thread, which
 * publishes them: a full queue stops the copying threads, so memory stays bounded by the
 * publisher's window and this queue. Only ACCESS SHARE locks are taken.
 *
 * <p>Threads: {@code snapshot-copy-N} threads copy; the replication thread calls {@link #start},
 * {@link #next}, {@link #finished}, {@link #snapshotRefused} and {@link #close}.
 */
final class InitialCopy implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(InitialCopy.class);
    private static final String UNDEFINED_TABLE = "42P01";

    /** What the copying threads report, in order per table. */
    sealed interface Item permits Started, Chunk, Done, Failed {
    }

    record Started(String table) implements Item {
    }

    record Chunk(Chunker.Cut cut) implements Item {
    }

    /** A table was read to its end; {@code messages}: whether any message was cut (else it is done right away). */
    record Done(String table, long rows, boolean messages) implements Item {
    }

    /** A table could not be copied: dropped meanwhile, or the exported snapshot was refused (then it is resumed later). */
    record Failed(String table, boolean dropped, String reason) implements Item {
    }

    private final DataSource source;
    private final SessionHooks.Exported exported;
    private final String snapshotId;
    private final ConcurrentLinkedQueue<SnapshotTable> todo;
    private final int threads;
    private final int batchSize;
    private final long maxBytes;
    private final boolean compact;
    private final Clock clock;
    private final BlockingQueue<Item> queue;
    private final List<Thread> workers = new ArrayList<>();
    private final AtomicInteger running = new AtomicInteger();
    private volatile boolean cancelled;
    private volatile String refusal;

    InitialCopy(DataSource source, SessionHooks.Exported exported, String snapshotId, List<SnapshotTable> tables, int parallelism,
                int batchSize, long maxBytes, boolean compact, Clock clock) {
        this.source = source;
        this.exported = exported;
        this.snapshotId = snapshotId;
        this.todo = new ConcurrentLinkedQueue<>(tables);
        this.threads = Math.max(1, Math.min(parallelism, tables.size()));
        this.batchSize = batchSize;
        this.maxBytes = maxBytes;
        this.compact = compact;
        this.clock = clock;
        this.queue = new ArrayBlockingQueue<>(4 * threads);
    }

    void start() {
        if (todo.isEmpty()) {
            return;
        }
        for (int i = 0; i < threads; i++) {
            Thread t = new Thread(this::work, "snapshot-copy-" + i);
            t.setDaemon(true);
            workers.add(t);
            running.incrementAndGet();
        }
        workers.forEach(Thread::start);
    }

    /** The next item, waiting at most {@code timeout}; null when none came. */
    Item next(Duration timeout) throws InterruptedException {
        return queue.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Whether every copying thread ended and everything they reported was taken. */
    boolean finished() {
        return running.get() == 0 && queue.isEmpty();
    }

    boolean snapshotRefused() {
        return refusal != null;
    }

    String refusal() {
        return refusal;
    }

    private void work() {
        RowEncoder encoder = new RowEncoder(maxBytes, compact);
        TxStrings tx = Snapshots.txStrings(exported.consistentPoint(), clock.instant());
        try {
            SnapshotTable t;
            while (!cancelled && (t = todo.poll()) != null) {
                if (refusal != null) {
                    put(new Failed(t.id().toString(), false, refusal));
                    continue;
                }
                copy(t, encoder, tx);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            running.decrementAndGet();
        }
    }

    private void copy(SnapshotTable t, RowEncoder encoder, TxStrings tx) throws InterruptedException {
        String table = t.id().toString();
        try (Connection c = source.getConnection(); Statement s = c.createStatement()) {
            c.setAutoCommit(true);
            s.execute("SET synchronize_seqscans = off"); // a table without a key is read in heap (ctid) order from its start
            s.execute("SET standard_conforming_strings = on");
            s.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
            try {
                s.execute("SET TRANSACTION SNAPSHOT " + KeysetSql.literal(exported.snapshotName()));
            } catch (SQLException e) {
                refusal = PgErrors.serverMessage(e);
                put(new Failed(table, false, refusal));
                return;
            }
            put(new Started(table));
            CopyOut out = new CopyManager(c.unwrap(BaseConnection.class)).copyOut(KeysetSql.wholeTable(t));
            boolean[] cut = {false};
            Chunker chunker = new Chunker(snapshotId, t.id(), 0, batchSize, maxBytes, exported.consistentPoint(), encoder.tableEntry(t),
                    encoder.transactionEntry(tx), c2 -> {
                cut[0] = true;
                putUninterruptibly(new Chunk(c2));
            });
            long rows = 0;
            byte[] row;
            while ((row = out.readFromCopy()) != null) {
                if (cancelled) {
                    out.cancelCopy();
                    return;
                }
                byte[] json = encoder.encode(t, tx, exported.consistentPoint().value(), row);
                chunker.add(json, t.keyless() ? null : encoder.key(t), clock.instant());
                rows++;
            }
            chunker.finish(true);
            s.execute("COMMIT");
            put(new Done(table, rows, cut[0]));
        } catch (SQLException e) {
            if (cancelled) {
                return;
            }
            boolean dropped = UNDEFINED_TABLE.equals(e.getSQLState());
            LOG.debug("copying {} failed: {}", table, e.toString());
            put(new Failed(table, dropped, PgErrors.serverMessage(e)));
        } catch (Interrupted e) {
            throw e.cause;
        } catch (RuntimeException e) { // a row this code cannot read: the table is resumed chunk by chunk later
            LOG.error("copying {} failed", table, e);
            put(new Failed(table, false, e.toString()));
        }
    }

    /** Carries an interrupt out of the chunker's callback. */
    private static final class Interrupted extends RuntimeException {
        final InterruptedException cause;

        Interrupted(InterruptedException cause) {
            super(cause);
            this.cause = cause;
        }
    }

    private void putUninterruptibly(Item item) {
        try {
            put(item);
        } catch (InterruptedException e) {
            throw new Interrupted(e);
        }
    }

    private void put(Item item) throws InterruptedException {
        while (!cancelled) {
            if (queue.offer(item, 100, TimeUnit.MILLISECONDS)) {
                return;
            }
        }
        throw new InterruptedException("the initial copy was cancelled");
    }

    @Override
    public void close() {
        cancelled = true;
        for (Thread t : workers) {
            t.interrupt();
        }
        for (Thread t : workers) {
            try {
                t.join(10_000);
                if (t.isAlive()) {
                    LOG.warn("{} did not stop within 10 s", t.getName());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        queue.clear();
    }
}
