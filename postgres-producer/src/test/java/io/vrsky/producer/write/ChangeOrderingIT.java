package io.vrsky.producer.write;

import io.vrsky.core.model.TableId;
import io.vrsky.producer.catalog.SchemaCatalog;
import io.vrsky.producer.catalog.TableWhitelist;
import io.vrsky.producer.plan.ChangeOrderingPropertyTest;
import io.vrsky.producer.plan.ChangePlanner;
import io.vrsky.producer.plan.ChangeValidator;
import io.vrsky.producer.plan.ConflictStrategy;
import io.vrsky.producer.plan.OrderingModel.Del;
import io.vrsky.producer.plan.OrderingModel.Ins;
import io.vrsky.producer.plan.OrderingModel.Op;
import io.vrsky.producer.plan.OrderingModel.Outcome;
import io.vrsky.producer.plan.OrderingModel.Upd;
import io.vrsky.producer.plan.OrderingModel;
import io.vrsky.producer.plan.RowChange;
import io.vrsky.producer.plan.SchemaMismatchException;
import io.vrsky.producer.plan.ValidationException;
import io.vrsky.producer.sql.SqlStatementBuilder;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.RandomGenerator;
import net.jqwik.api.sessions.JqwikSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The ordering property against a real PostgreSQL: the producer's set-based statements (planner,
 * SQL builder, executor) leave {@code public.orders} exactly as applying the same changes one by
 * one with plain per-row SQL leaves {@code ref.orders}, and fail exactly when that fails, for
 * random interleavings of inserts, updates (key changes, unchanged TOAST) and deletes on a few
 * keys, under each conflict strategy. Samples come from the jqwik arbitraries of
 * {@link ChangeOrderingPropertyTest}; a failing sample is shrunk by dropping changes.
 */
@ExtendWith(RealServices.class)
@Timeout(180)
class ChangeOrderingIT {

    private static final int SAMPLES = 600;

    @Test
    void setBasedStatementsEqualOneByOneApplicationOnPostgres(PostgresServer pg) throws Exception {
        String db = pg.createDatabase("ordering");
        long seed = new Random().nextLong();
        try (Connection c = pg.connect(db)) {
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TABLE public.orders (id bigint PRIMARY KEY, note text, qty integer)");
                s.execute("CREATE SCHEMA ref");
                s.execute("CREATE TABLE ref.orders (id bigint PRIMARY KEY, note text, qty integer)");
            }
            c.setAutoCommit(false);
            Random random = new Random(seed);
            JqwikSession.start();
            try {
                RandomGenerator<List<Op>> changes = ChangeOrderingPropertyTest.changes().generator(1000);
                RandomGenerator<Set<Integer>> initial = ChangeOrderingPropertyTest.initialKeys().generator(1000);
                Arbitrary<ConflictStrategy> strategies = net.jqwik.api.Arbitraries.of(ConflictStrategy.class);
                RandomGenerator<ConflictStrategy> strategy = strategies.generator(1000);
                for (int i = 0; i < SAMPLES; i++) {
                    List<Op> ops = changes.next(random).value();
                    Set<Integer> keys = initial.next(random).value();
                    ConflictStrategy s = strategy.next(random).value();
                    if (!agree(c, keys, ops, s)) {
                        List<Op> smallest = shrink(c, keys, ops, s);
                        assertThat(run(c, keys, smallest, s, true)).as("seed %d, strategy %s, initial keys %s, changes %s", seed, s,
                                keys, smallest).isEqualTo(run(c, keys, smallest, s, false));
                    }
                }
            } finally {
                JqwikSession.finish();
            }
        }
    }

    private boolean agree(Connection c, Set<Integer> keys, List<Op> ops, ConflictStrategy strategy) throws SQLException {
        return run(c, keys, ops, strategy, true).equals(run(c, keys, ops, strategy, false));
    }

    /** Drops changes one at a time while the sample still disagrees. */
    private List<Op> shrink(Connection c, Set<Integer> keys, List<Op> ops, ConflictStrategy strategy) throws SQLException {
        List<Op> current = new ArrayList<>(ops);
        boolean progress = true;
        while (progress) {
            progress = false;
            for (int i = 0; i < current.size(); i++) {
                List<Op> smaller = new ArrayList<>(current);
                smaller.remove(i);
                if (!agree(c, keys, smaller, strategy)) {
                    current = smaller;
                    progress = true;
                    break;
                }
            }
        }
        return current;
    }

    /** Applies the changes through the producer (setBased) or one by one to the reference table; returns the outcome. */
    private Outcome run(Connection c, Set<Integer> keys, List<Op> ops, ConflictStrategy strategy, boolean setBased)
            throws SQLException {
        String table = setBased ? "public.orders" : "ref.orders";
        try (Statement s = c.createStatement()) {
            s.execute("TRUNCATE " + table);
            for (int k : keys) {
                s.execute("INSERT INTO " + table + " VALUES (" + k + ", 'init', 0)");
            }
        }
        try {
            if (setBased) {
                ChangeValidator validator = new ChangeValidator(new SchemaCatalog(Clock.systemUTC(), Duration.ofHours(1)),
                        TableWhitelist.of(new TableId("public", "orders")), strategy);
                List<RowChange> rows = new ArrayList<>();
                for (Op op : ops) {
                    rows.add(validator.prepare(c, op.toChange(), new HashSet<>()));
                }
                new SqlExecutor(new SqlStatementBuilder(64)).execute(c, ChangePlanner.plan(rows), new WriteStats());
            } else {
                for (Op op : ops) {
                    oneByOne(c, op, strategy);
                }
            }
            return new Outcome(false, read(c, table));
        } catch (SQLException e) {
            return Outcome.failure();
        } catch (ValidationException | SchemaMismatchException e) {
            throw new IllegalStateException("a generated change did not validate: " + e.getMessage(), e);
        } finally {
            c.rollback();
        }
    }

    /** Plain per-row SQL, written independently of the producer's statements. */
    private static void oneByOne(Connection c, Op op, ConflictStrategy strategy) throws SQLException {
        if (op instanceof Ins ins) {
            String sql = switch (strategy) {
                case UPSERT -> "INSERT INTO ref.orders (id, note, qty) VALUES (?, ?, ?) "
                        + "ON CONFLICT (id) DO UPDATE SET note = EXCLUDED.note, qty = EXCLUDED.qty";
                case INSERT -> "INSERT INTO ref.orders (id, note, qty) VALUES (?, ?, ?)";
                case UPDATE -> "UPDATE ref.orders SET id = ?, note = ?, qty = ? WHERE id = ?";
            };
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setLong(1, ins.key());
                setText(ps, 2, ins.note());
                setInt(ps, 3, ins.qty());
                if (strategy == ConflictStrategy.UPDATE) {
                    ps.setLong(4, ins.key());
                }
                if (ps.executeUpdate() == 0) {
                    throw new SQLException("missing row", "02000");
                }
            }
        } else if (op instanceof Upd upd) {
            int to = upd.noBefore() ? upd.before() : upd.after();
            boolean toast = upd.note() == OrderingModel.TOAST;
            String sql = toast ? "UPDATE ref.orders SET id = ?, qty = ? WHERE id = ?"
                    : "UPDATE ref.orders SET id = ?, qty = ?, note = ? WHERE id = ?";
            int found;
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setLong(1, to);
                setInt(ps, 2, upd.qty());
                if (!toast) {
                    setText(ps, 3, upd.note());
                }
                ps.setLong(toast ? 3 : 4, upd.before());
                found = ps.executeUpdate();
            }
            if (found == 0) {
                if (strategy == ConflictStrategy.UPDATE) {
                    throw new SQLException("missing row", "02000");
                }
                if (strategy == ConflictStrategy.UPSERT && !toast) {
                    try (PreparedStatement ps = c.prepareStatement("INSERT INTO ref.orders (id, note, qty) VALUES (?, ?, ?) "
                            + "ON CONFLICT (id) DO UPDATE SET note = EXCLUDED.note, qty = EXCLUDED.qty")) {
                        ps.setLong(1, to);
                        setText(ps, 2, upd.note());
                        setInt(ps, 3, upd.qty());
                        ps.executeUpdate();
                    }
                }
            }
        } else if (op instanceof Del del) {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM ref.orders WHERE id = ?")) {
                ps.setLong(1, del.key());
                ps.executeUpdate();
            }
        }
    }

    private static Map<String, Map<String, String>> read(Connection c, String table) throws SQLException {
        Map<String, Map<String, String>> rows = new TreeMap<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT id, note, qty FROM " + table)) {
            while (rs.next()) {
                Map<String, String> row = new HashMap<>();
                row.put("note", rs.getString(2));
                row.put("qty", rs.getString(3));
                rows.put(rs.getString(1), row);
            }
        }
        return rows;
    }

    private static void setText(PreparedStatement ps, int i, String v) throws SQLException {
        if (v == null) {
            ps.setNull(i, Types.VARCHAR);
        } else {
            ps.setString(i, v);
        }
    }

    private static void setInt(PreparedStatement ps, int i, Integer v) throws SQLException {
        if (v == null) {
            ps.setNull(i, Types.INTEGER);
        } else {
            ps.setInt(i, v);
        }
    }
}
