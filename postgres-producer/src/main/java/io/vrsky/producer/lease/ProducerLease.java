package io.vrsky.producer.lease;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.vrsky.producer.catalog.OwnTables;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * The lease that makes one producer instance at a time apply a durable's messages to a sink: a row
 * of {@value #TABLE} in the sink database, {@code (durable, holder, epoch, holder_pid, expires_at)}.
 *
 * <p><b>Taking it</b> ({@link #tryAcquire()}): under {@code SELECT ... FOR UPDATE} of the row, an
 * instance takes it when it is free: expired ({@code expires_at <= now()}, the database's clock),
 * released, held under this instance's own holder name, or held by a database session that no
 * longer exists ({@code holder_pid} not in {@code pg_stat_activity}: the holder's lease connection
 * died with its process, so a kill -9 is noticed at once instead of after the TTL). Taking it adds
 * one to {@code epoch}. <b>Keeping it</b> ({@link #renew()}, every TTL/3): an UPDATE of
 * {@code expires_at} that only matches this instance's own epoch.
 *
 * <p><b>Fencing</b> ({@link #fence()}): every sink transaction that applies data first runs
 * {@code SELECT epoch ... FOR KEY SHARE} on the row and goes on only if the epoch is its own. The
 * share lock is held until that transaction ends, and a takeover's {@code FOR UPDATE} conflicts
 * with it, so either the old holder's transaction commits before the takeover (which then reads the
 * committed positions) or the takeover commits first and the old holder's check sees the new epoch
 * and rolls back. A paused old holder (SIGSTOP) stuck inside such a transaction is cut off by
 * {@code idle_in_transaction_session_timeout}, set to the TTL on the sink connections. A renewal
 * is a plain UPDATE of non-key columns, which does not conflict with the share lock.
 *
 * <p>Uses one connection of its own (its backend pid identifies the holder's session); called from
 * one thread at a time (the start-up thread while standing by, then the renewal thread).
 */
public final class ProducerLease implements AutoCloseable {

    public static final String TABLE = "vrsky_producer_lease";

    private static final Logger LOG = LoggerFactory.getLogger(ProducerLease.class);

    static final String CREATE_SQL = "CREATE TABLE IF NOT EXISTS public." + TABLE + " ("
            + "durable text PRIMARY KEY, holder text NOT NULL, epoch bigint NOT NULL, holder_pid integer, "
            + "expires_at timestamptz NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())";
    private static final String LOCK_SQL = "SELECT holder, epoch, expires_at <= now(), "
            + "holder_pid IS NULL OR NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = l.holder_pid) "
            + "FROM public." + TABLE + " l WHERE durable = ? FOR UPDATE";
    private static final String INSERT_SQL = "INSERT INTO public." + TABLE + " (durable, holder, epoch, holder_pid, expires_at) "
            + "VALUES (?, '', 0, NULL, '-infinity') ON CONFLICT (durable) DO NOTHING";
    private static final String TAKE_SQL = "UPDATE public." + TABLE + " SET holder = ?, epoch = epoch + 1, "
            + "holder_pid = pg_backend_pid(), expires_at = now() + ? * interval '1 millisecond', updated_at = now() "
            + "WHERE durable = ? RETURNING epoch";
    private static final String RENEW_SQL = "UPDATE public." + TABLE + " SET expires_at = now() + ? * interval '1 millisecond', "
            + "holder_pid = pg_backend_pid(), updated_at = now() WHERE durable = ? AND holder = ? AND epoch = ?";
    private static final String RELEASE_SQL = "UPDATE public." + TABLE + " SET expires_at = '-infinity', holder_pid = NULL, "
            + "updated_at = now() WHERE durable = ? AND holder = ? AND epoch = ?";
    private static final String FENCE_SQL = "SELECT epoch FROM public." + TABLE + " WHERE durable = ? FOR KEY SHARE";

    /** Opens the lease's own connection (auto-commit off is set here). */
    @FunctionalInterface
    public interface Connector {
        Connection open() throws SQLException;
    }

    /** Who holds the lease now, as a standby sees it. */
    public record Holder(String holder, long epoch) {
    }

    private final Connector connector;
    private final String durable;
    private final String holder;
    private final Duration ttl;
    private Connection connection;
    private volatile long epoch = -1;
    /**
     * {@code System.nanoTime()} until which this instance surely holds the lease: when its last
     * successful take or renewal was sent, plus the TTL (the database's expiry is at least that late).
     * The monotonic clock runs on while the process is frozen, so a woken former holder sees it past.
     */
    private volatile long heldUntilNanos;
    private volatile Holder current;

    public ProducerLease(Connector connector, String durable, String holder, Duration ttl) {
        this.connector = Objects.requireNonNull(connector, "connector");
        this.durable = Objects.requireNonNull(durable, "durable");
        this.holder = Objects.requireNonNull(holder, "holder");
        this.ttl = Objects.requireNonNull(ttl, "ttl");
    }

    /** Creates the lease table when it does not exist yet (inside the caller's transaction). */
    public static void createTable(Connection connection) throws SQLException {
        OwnTables.createIfMissing(connection, TABLE, CREATE_SQL);
    }

    /**
     * Takes the lease when it is free (see the class comment).
     *
     * @return whether this instance holds it now; when not, {@link #current()} says who does
     */
    public synchronized boolean tryAcquire() throws SQLException {
        long sent = System.nanoTime();
        Connection c = connection();
        try {
            for (int attempt = 0; attempt < 2; attempt++) {
                try (PreparedStatement lock = c.prepareStatement(LOCK_SQL)) {
                    lock.setString(1, durable);
                    try (ResultSet rs = lock.executeQuery()) {
                        if (!rs.next()) {
                            c.rollback();
                            try (PreparedStatement insert = c.prepareStatement(INSERT_SQL)) {
                                insert.setString(1, durable);
                                insert.executeUpdate();
                            }
                            c.commit();
                            continue;
                        }
                        String heldBy = rs.getString(1);
                        long heldEpoch = rs.getLong(2);
                        boolean expired = rs.getBoolean(3);
                        boolean sessionGone = rs.getBoolean(4);
                        if (!expired && !sessionGone && !heldBy.equals(holder)) {
                            c.commit();
                            current = new Holder(heldBy, heldEpoch);
                            return false;
                        }
                    }
                }
                try (PreparedStatement take = c.prepareStatement(TAKE_SQL)) {
                    take.setString(1, holder);
                    take.setLong(2, ttl.toMillis());
                    take.setString(3, durable);
                    try (ResultSet rs = take.executeQuery()) {
                        rs.next();
                        long taken = rs.getLong(1);
                        c.commit();
                        heldUntilNanos = sent + ttl.toNanos();
                        epoch = taken;
                        current = new Holder(holder, taken);
                        return true;
                    }
                }
            }
            throw new SQLException("the lease row of durable " + durable + " vanished while it was being taken");
        } catch (SQLException | RuntimeException e) {
            dropConnection();
            throw e;
        }
    }

    /**
     * Moves the expiry on by the TTL.
     *
     * @return false when another instance holds the lease now (this one must stop applying)
     * @throws SQLException when the database cannot be reached (the lease may still be ours)
     */
    public synchronized boolean renew() throws SQLException {
        if (epoch < 0) {
            return false;
        }
        long sent = System.nanoTime();
        Connection c = connection();
        try (PreparedStatement ps = c.prepareStatement(RENEW_SQL)) {
            ps.setLong(1, ttl.toMillis());
            ps.setString(2, durable);
            ps.setString(3, holder);
            ps.setLong(4, epoch);
            int updated = ps.executeUpdate();
            c.commit();
            if (updated == 1) {
                heldUntilNanos = sent + ttl.toNanos();
            }
            return updated == 1;
        } catch (SQLException | RuntimeException e) {
            dropConnection();
            throw e;
        }
    }

    /** Gives the lease up at a clean stop, so that a standby takes over at once. Best effort. */
    public synchronized void release() {
        if (epoch < 0) {
            return;
        }
        try {
            Connection c = connection();
            try (PreparedStatement ps = c.prepareStatement(RELEASE_SQL)) {
                ps.setString(1, durable);
                ps.setString(2, holder);
                ps.setLong(3, epoch);
                int updated = ps.executeUpdate();
                c.commit();
                if (updated == 1) {
                    LOG.info("released the lease of durable {} (epoch {})", durable, epoch);
                }
            }
        } catch (SQLException e) {
            LOG.warn("could not release the lease of durable {} (a standby takes over when it expires): {}", durable, e.getMessage());
        }
        epoch = -1;
    }

    /** The fence for this instance's sink transactions (see the class comment). */
    public LeaseFence fence() {
        return c -> {
            long mine = epoch;
            try (PreparedStatement ps = c.prepareStatement(FENCE_SQL)) {
                ps.setString(1, durable);
                try (ResultSet rs = ps.executeQuery()) {
                    long found = rs.next() ? rs.getLong(1) : -1;
                    if (mine < 0 || found != mine) {
                        throw new LeaseLostException("the lease of durable " + durable + " is held under epoch " + found
                                + ", not this instance's " + mine + ": another producer applies now; nothing of this"
                                + " sink transaction was committed");
                    }
                }
            }
        };
    }

    /**
     * Whether this instance surely still holds the lease by its own clock (taken or renewed less than
     * a TTL ago). False after a freeze longer than the TTL, before the database says whether the
     * lease was taken over: such an instance must not pull from the durable meanwhile, since what it
     * pulls would be held from the instance that took over until the ack wait ends.
     */
    public boolean surelyHeld() {
        return epoch >= 0 && System.nanoTime() - heldUntilNanos < 0;
    }

    /** This instance's epoch while it holds the lease, else -1. */
    public long epoch() {
        return epoch;
    }

    public String holder() {
        return holder;
    }

    public String durable() {
        return durable;
    }

    public Duration ttl() {
        return ttl;
    }

    /** Who held the lease at the last look. */
    public Optional<Holder> current() {
        return Optional.ofNullable(current);
    }

    private Connection connection() throws SQLException {
        if (connection == null) {
            Connection c = connector.open();
            c.setAutoCommit(false);
            connection = c;
        }
        return connection;
    }

    private void dropConnection() {
        Connection c = connection;
        connection = null;
        if (c != null) {
            try {
                c.close();
            } catch (SQLException e) {
                LOG.debug("closing the lease connection of durable {} failed: {}", durable, e.getMessage());
            }
        }
    }

    @Override
    public synchronized void close() {
        dropConnection();
    }
}
