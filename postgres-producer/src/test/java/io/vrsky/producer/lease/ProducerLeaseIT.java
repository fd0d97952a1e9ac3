package io.vrsky.producer.lease;

import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** The producer lease against a real PostgreSQL: who may take it, when, and that a former holder cannot commit. */
@ExtendWith(RealServices.class)
class ProducerLeaseIT {

    private static final Duration TTL = Duration.ofSeconds(3);

    private PostgresServer pg;
    private String db;

    @BeforeEach
    void setUp(PostgresServer pg) throws SQLException {
        this.pg = pg;
        this.db = pg.createDatabase("lease");
        try (Connection c = pg.connect(db); Statement s = c.createStatement()) {
            ProducerLease.createTable(c);
            s.execute("CREATE TABLE t (id int PRIMARY KEY)");
        }
    }

    private long leaseAgeMillis(String durable) throws SQLException {
        try (Connection c = pg.connect(db); Statement s = c.createStatement();
             var rs = s.executeQuery("SELECT (extract(epoch FROM clock_timestamp() - updated_at) * 1000)::bigint FROM "
                     + ProducerLease.TABLE + " WHERE durable = '" + durable + "'")) {
            return rs.next() ? rs.getLong(1) : 0;
        }
    }

    private boolean leaseExpired(String durable) throws SQLException {
        try (Connection c = pg.connect(db); Statement s = c.createStatement();
             var rs = s.executeQuery("SELECT expires_at <= clock_timestamp() FROM " + ProducerLease.TABLE + " WHERE durable = '" + durable + "'")) {
            return rs.next() && rs.getBoolean(1);
        }
    }

    /** Whether a session of this test's database waits on a lock (the takeover's FOR UPDATE behind the fence's share lock). */
    private boolean waitingOnALock() throws SQLException {
        try (Connection c = pg.connect(db); Statement s = c.createStatement();
             var rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                     + " AND wait_event_type = 'Lock'")) {
            return rs.next() && rs.getLong(1) > 0;
        }
    }

    private ProducerLease lease(String holder) {
        return new ProducerLease(() -> pg.connect(db), "dur", holder, TTL);
    }

    @Test
    @Timeout(60)
    void shouldLetOneInstanceHoldTheLeaseWhileItRenews() throws Exception {
        try (ProducerLease a = lease("a"); ProducerLease b = lease("b")) {
            assertThat(a.tryAcquire()).isTrue();
            assertThat(a.epoch()).isEqualTo(1);
            assertThat(b.tryAcquire()).isFalse();
            assertThat(b.current()).contains(new ProducerLease.Holder("a", 1));
            for (int i = 0; i < 5; i++) {
                // the service renews every third of the TTL: wait until the last renewal is that old by the database's clock
                await("a third of the TTL since the last renewal").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                        .until(() -> leaseAgeMillis("dur") >= TTL.toMillis() / 3);
                assertThat(a.renew()).isTrue();
                assertThat(b.tryAcquire()).as("renewed lease, round %d", i).isFalse();
            }
        }
    }

    @Test
    @Timeout(60)
    void shouldHandTheLeaseOverAtOnceWhenTheHoldersSessionIsGone() throws Exception {
        ProducerLease a = lease("a");
        assertThat(a.tryAcquire()).isTrue();
        a.close(); // the holder's process died: its lease connection is gone long before the TTL
        try (ProducerLease b = lease("b")) {
            await().atMost(Duration.ofSeconds(2)).until(b::tryAcquire);
            assertThat(b.epoch()).isEqualTo(2);
        }
    }

    @Test
    @Timeout(60)
    void shouldHandTheLeaseOverAfterTheTtlWhenTheHolderStopsRenewing() throws Exception {
        try (ProducerLease a = lease("a"); ProducerLease b = lease("b")) {
            assertThat(a.tryAcquire()).isTrue();
            long start = System.nanoTime();
            await().atMost(TTL.multipliedBy(3)).pollInterval(Duration.ofMillis(200)).until(b::tryAcquire);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(TTL.minusMillis(300));
            assertThat(a.renew()).as("the former holder learns it lost the lease").isFalse();
        }
    }

    @Test
    @Timeout(60)
    void shouldRefuseTheFormerHoldersCommitAfterATakeover() throws Exception {
        try (ProducerLease a = lease("a"); ProducerLease b = lease("b"); Connection data = pg.connect(db)) {
            assertThat(a.tryAcquire()).isTrue();
            await().atMost(TTL.multipliedBy(3)).pollInterval(Duration.ofMillis(200)).until(b::tryAcquire);
            data.setAutoCommit(false);
            try (Statement s = data.createStatement()) {
                s.execute("INSERT INTO t VALUES (1)");
            }
            assertThatThrownBy(() -> a.fence().check(data)).isInstanceOf(LeaseLostException.class).hasMessageContaining("epoch 2");
            data.rollback();
            b.fence().check(data);
            data.commit();
        }
    }

    @Test
    @Timeout(60)
    void shouldMakeATakeoverWaitForTheHoldersTransactionInFlight() throws Exception {
        try (ProducerLease a = lease("a"); ProducerLease b = lease("b"); Connection data = pg.connect(db)) {
            assertThat(a.tryAcquire()).isTrue();
            data.setAutoCommit(false);
            try (Statement s = data.createStatement()) {
                s.execute("INSERT INTO t VALUES (2)");
            }
            a.fence().check(data); // passes and holds the share lock until the commit
            // the lease expires (by the database's clock) while the transaction is open
            await("the lease expired").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                    .until(() -> leaseExpired("dur"));
            CompletableFuture<Boolean> takeover = CompletableFuture.supplyAsync(() -> {
                try {
                    return b.tryAcquire();
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            await("the takeover blocked on the lease row").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                    .until(() -> takeover.isDone() || waitingOnALock());
            assertThat(takeover).as("the takeover waits for the open transaction").isNotDone();
            data.commit();
            assertThat(takeover.get(10, TimeUnit.SECONDS)).isTrue();
            try (Connection c = pg.connect(db); Statement s = c.createStatement(); var rs = s.executeQuery("SELECT count(*) FROM t")) {
                rs.next();
                assertThat(rs.getLong(1)).as("what the former holder committed is there for the new one").isEqualTo(1);
            }
        }
    }

    @Test
    @Timeout(60)
    void shouldCutOffAPausedHoldersIdleTransactionAfterTheTtl() throws Exception {
        try (ProducerLease a = lease("a"); ProducerLease b = lease("b"); Connection data = pg.connect(db)) {
            assertThat(a.tryAcquire()).isTrue();
            try (Statement s = data.createStatement()) {
                s.execute("SET idle_in_transaction_session_timeout = " + TTL.toMillis());
            }
            data.setAutoCommit(false);
            try (Statement s = data.createStatement()) {
                s.execute("INSERT INTO t VALUES (3)");
            }
            a.fence().check(data); // then the holder freezes inside its transaction
            await().atMost(TTL.multipliedBy(4)).pollInterval(Duration.ofMillis(200)).until(b::tryAcquire);
            assertThatThrownBy(data::commit).isInstanceOf(SQLException.class);
            try (Connection c = pg.connect(db); Statement s = c.createStatement(); var rs = s.executeQuery("SELECT count(*) FROM t")) {
                rs.next();
                assertThat(rs.getLong(1)).isZero();
            }
        }
    }

    @Test
    @Timeout(60)
    void shouldHandTheLeaseOverAtOnceAfterARelease() throws Exception {
        try (ProducerLease a = lease("a"); ProducerLease b = lease("b")) {
            assertThat(a.tryAcquire()).isTrue();
            assertThat(b.tryAcquire()).isFalse();
            a.release();
            assertThat(b.tryAcquire()).isTrue();
            assertThat(b.epoch()).isEqualTo(2);
        }
    }
}
