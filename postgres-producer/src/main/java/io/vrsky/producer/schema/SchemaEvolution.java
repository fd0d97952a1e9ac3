package io.vrsky.producer.schema;

import io.vrsky.core.model.Change;
import io.vrsky.core.model.ColumnInfo;
import io.vrsky.core.model.TableId;
import io.vrsky.core.pg.PgErrors;
import io.vrsky.producer.catalog.ColumnKind;
import io.vrsky.producer.catalog.ColumnMeta;
import io.vrsky.producer.catalog.SchemaCatalog;
import io.vrsky.producer.catalog.TableMeta;
import io.vrsky.producer.metrics.ProducerMetrics;
import io.vrsky.producer.plan.BeforeSchemaChange;
import io.vrsky.producer.plan.SchemaChangeAhead;
import io.vrsky.producer.plan.SchemaDifference;
import io.vrsky.producer.plan.SchemaDifference.TypeDifference;
import io.vrsky.producer.plan.SchemaMismatchException;
import io.vrsky.producer.plan.SchemaPolicy;
import io.vrsky.producer.sql.Identifiers;
import io.vrsky.producer.sql.SqlValues;
import io.vrsky.producer.sql.ValueConversionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Schema evolution ({@code POSTGRES_OUTPUT_SCHEMA_EVOLUTION}): the {@link SchemaPolicy} that makes a
 * sink table follow the source's description of it, in the sink transaction of the first change
 * that needs it, before that change is applied.
 *
 * <p>{@code additive}: adds a column the sink lacks (the type resolved in the sink's catalog with
 * {@code to_regtype} and written by the sink's {@code format_type}; {@code DEFAULT} the value rows
 * that existed before the source's {@code ADD COLUMN} hold, quoted by the sink's
 * {@code quote_literal}, so existing rows match the source; NOT NULL only when that value or an
 * empty table allows it), widens a type ({@link TypeRules}), renames a column the source renamed
 * (known by its attnum, {@link SourceColumns}), and drops NOT NULL from a sink column whose source
 * column was dropped. Anything else pauses: narrowing or another type, a default whose value for
 * existing rows cannot be known (volatile, e.g. {@code nextval}), a type the sink does not have, a
 * table change PostgreSQL refuses. {@code none}: every difference pauses. Each table change applied
 * is logged at INFO and counted once its sink transaction commits.
 *
 * <p>Used by the loop thread only (through the writers).
 */
public final class SchemaEvolution implements SchemaPolicy {

    private static final Logger LOG = LoggerFactory.getLogger(SchemaEvolution.class);
    /** How long a table change waits for the lock on the sink table before it pauses (and is tried again). */
    static final String LOCK_TIMEOUT = "10s";
    private static final String LOCK_NOT_AVAILABLE = "55P03";

    static final String RESOLVE_TYPE_SQL = """
            SELECT t.typname, pg_catalog.format_type(t.oid, CAST(? AS int4)), bt.typname, bt.typcategory, et.typname
            FROM pg_catalog.pg_type t
            JOIN pg_catalog.pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
            LEFT JOIN pg_catalog.pg_type et ON et.oid = bt.typelem AND bt.typcategory = 'A'
            WHERE t.oid = pg_catalog.to_regtype(CAST(? AS text))""";
    static final String QUOTE_LITERAL_SQL = "SELECT pg_catalog.quote_literal(CAST(? AS text))";

    /** A table change applied in the open sink transaction, reported once it commits. */
    private record Applied(String source, TableId table, String kind, String sql, String note) {
    }

    /** A change the producer cannot make by itself; the message names the column and says what to do. */
    private static final class Refused extends Exception {
        private static final long serialVersionUID = 1L;

        Refused(String message) {
            super(message, null, false, false);
        }
    }

    /** A type as the sink knows it: the text to write in DDL and how its values convert. */
    private record SinkType(String text, String baseType, ColumnKind kind, ColumnKind elementKind) {
        ColumnMeta column(String name) {
            return new ColumnMeta(name, 0, text, baseType, kind, elementKind, false);
        }
    }

    private final EvolutionMode mode;
    private final SchemaCatalog catalog;
    private final ProducerMetrics metrics;
    private final SourceColumns sourceColumns = new SourceColumns();
    /** Tables changed or mapped in the open sink transaction. */
    private final Set<TableId> touched = new LinkedHashSet<>();
    private final List<Applied> applied = new ArrayList<>();

    public SchemaEvolution(EvolutionMode mode, SchemaCatalog catalog, ProducerMetrics metrics) {
        this.mode = mode;
        this.catalog = catalog;
        this.metrics = metrics;
    }

    /** Creates the table of source columns ({@code vrsky_source_columns}) when it does not exist yet. */
    public static void createTable(Connection connection) throws SQLException {
        SourceColumns.createTable(connection);
    }

    /** The name of the producer's table of source columns. */
    public static String table() {
        return SourceColumns.TABLE;
    }

    public EvolutionMode mode() {
        return mode;
    }

    @Override
    public TableMeta reconcile(Connection connection, String source, TableMeta table, Change change, BeforeSchemaChange before)
            throws SQLException, SchemaMismatchException, SchemaChangeAhead {
        boolean tracked = mode == EvolutionMode.ADDITIVE && source != null;
        EvolutionPlan plan = plan(connection, source, table, change, tracked);
        if (plan.isEmpty()) {
            return table;
        }
        if (!plan.changes().isEmpty() || plan.refused()) {
            // decide on the table as it is now (someone may have changed it), not on a cached description
            Optional<TableMeta> fresh = catalog.reload(connection, table.id());
            if (fresh.isEmpty()) {
                throw new SchemaMismatchException(SchemaDifference.missingTable(table.id(), change.columns()));
            }
            table = fresh.get();
            plan = plan(connection, source, table, change, tracked);
            if (plan.isEmpty()) {
                return table;
            }
        }
        if (plan.refused()) {
            throw new SchemaMismatchException(new SchemaDifference(table.id(), false, List.of(), plan.refusedTypes(), plan.problems()));
        }
        if (mode == EvolutionMode.NONE) {
            throw new SchemaMismatchException(byHand(table, plan));
        }
        if (plan.changes().isEmpty()) {
            record(connection, source, table, plan);
            return table;
        }
        before.run();
        apply(connection, source, table, plan);
        TableId id = table.id();
        return catalog.reload(connection, id).orElseThrow(() -> new SQLException("table " + id + " is gone after changing it", "42P01"));
    }

    private EvolutionPlan plan(Connection connection, String source, TableMeta table, Change change, boolean tracked)
            throws SQLException {
        if (!tracked) {
            return EvolutionPlanner.plan(table, change.columns(), null);
        }
        return EvolutionPlanner.plan(table, change.columns(), sourceColumns.mapping(connection, source, table.id()),
                sourceColumns.types(connection, source, table.id()));
    }

    /** {@code none}: what the sink lacks, and that it is to be changed by hand. */
    private static SchemaDifference byHand(TableMeta table, EvolutionPlan plan) {
        List<ColumnInfo> missing = new ArrayList<>();
        List<TypeDifference> types = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (ColumnChange change : plan.changes()) {
            if (change instanceof ColumnChange.Add add) {
                missing.add(add.source());
            } else if (change instanceof ColumnChange.Widen widen) {
                types.add(new TypeDifference(widen.column(), widen.sink().sqlType(), EvolutionPlanner.sourceType(widen.source()),
                        "the source widened it"));
            } else {
                problems.add("needs " + change.kind().replace('_', ' ') + " \"" + change.column() + "\"");
            }
        }
        problems.add("POSTGRES_OUTPUT_SCHEMA_EVOLUTION=none: change the sink table by hand");
        return new SchemaDifference(table.id(), false, missing, types, problems);
    }

    private void record(Connection connection, String source, TableMeta table, EvolutionPlan plan) throws SQLException {
        if (source != null) {
            sourceColumns.record(connection, source, table.id(), plan.mappingPuts(), plan.mappingDrops(), plan.typePuts());
            touched.add(table.id());
        }
    }

    /** Applies the plan's table changes under a savepoint: all of them, or none and a pause. */
    private void apply(Connection c, String source, TableMeta table, EvolutionPlan plan) throws SQLException, SchemaMismatchException {
        Savepoint savepoint = c.setSavepoint();
        List<Applied> done = new ArrayList<>();
        String column = null;
        try {
            String lockTimeout = setLockTimeout(c, LOCK_TIMEOUT);
            for (ColumnChange change : plan.changes()) {
                column = change.column();
                done.add(apply(c, source, table, change));
            }
            setLockTimeout(c, lockTimeout);
            record(c, source, table, plan);
            c.releaseSavepoint(savepoint);
        } catch (Refused refused) {
            c.rollback(savepoint);
            throw new SchemaMismatchException(SchemaDifference.problems(table.id(), List.of(refused.getMessage())));
        } catch (SQLException e) {
            String state = PgErrors.sqlState(e);
            if (PgErrors.isRetryable(e) && !LOCK_NOT_AVAILABLE.equals(state)) {
                throw e;
            }
            c.rollback(savepoint);
            if (LOCK_NOT_AVAILABLE.equals(state)) {
                throw new SchemaMismatchException(SchemaDifference.problems(table.id(), List.of("needs a change of column \"" + column
                        + "\", and the sink table stayed locked by another session for " + LOCK_TIMEOUT + ": trying again")));
            }
            throw new SchemaMismatchException(SchemaDifference.problems(table.id(), List.of("needs a change of column \"" + column
                    + "\" that PostgreSQL refused (SQLSTATE " + state + ": " + PgErrors.serverMessage(e) + "): change the sink table"
                    + " by hand")));
        }
        touched.add(table.id());
        applied.addAll(done);
    }

    private Applied apply(Connection c, String source, TableMeta table, ColumnChange change) throws SQLException, Refused {
        TableId id = table.id();
        String note = null;
        String sql;
        if (change instanceof ColumnChange.Add add) {
            ColumnInfo s = add.source();
            SinkType type = resolve(c, s, "has no column \"" + s.name() + "\"");
            String literal = null;
            if (s.existingRowsValue() != null) {
                String text;
                try {
                    text = SqlValues.toText(s.existingRowsValue(), type.column(s.name()));
                } catch (ValueConversionException e) {
                    throw new Refused("has no column \"" + s.name() + "\", and the value the source's existing rows hold for it does"
                            + " not convert to " + type.text() + " (" + e.getMessage() + "): add it by hand");
                }
                literal = text == null ? null : quoteLiteral(c, text);
            } else if (s.defaultExpression() != null && hasRows(c, id)) {
                throw new Refused("has no column \"" + s.name() + "\" (" + type.text() + "), which the source added with a default that"
                        + " is not a constant (" + s.defaultExpression() + "): the values its existing rows got cannot be known. Add the"
                        + " column by hand (ALTER TABLE " + Identifiers.qualified(id) + " ADD COLUMN " + Identifiers.quote(s.name())
                        + " " + type.text() + ") and copy the table again (a backfill through the consumer's signal table); the"
                        + " producer then resumes");
            }
            boolean notNull = s.notNull() && (literal != null || !hasRows(c, id));
            if (s.notNull() && !notNull) {
                note = "added without NOT NULL: the source's column is NOT NULL, but the sink table has rows and no value for them";
            }
            sql = DdlBuilder.addColumn(id, s.name(), type.text(), literal, notNull);
        } else if (change instanceof ColumnChange.Widen widen) {
            SinkType type = resolve(c, widen.source(), "has column \"" + widen.column() + "\" of type " + widen.sink().sqlType());
            if (widen.onlyIfEmpty() && hasValues(c, id, widen.column())) {
                throw new Refused("has column \"" + widen.column() + "\" of type " + widen.sink().sqlType() + " where the source has "
                        + type.text() + ": the source converted its existing values in the TimeZone of the session that ran the"
                        + " ALTER, which the producer cannot know. Convert the sink column by hand in that zone (ALTER TABLE "
                        + Identifiers.qualified(id) + " ALTER COLUMN " + Identifiers.quote(widen.column()) + " TYPE " + type.text()
                        + " USING " + Identifiers.quote(widen.column()) + " AT TIME ZONE '<the source session's TimeZone>'); the"
                        + " producer then resumes");
            }
            sql = DdlBuilder.alterType(id, widen.column(), type.text());
        } else if (change instanceof ColumnChange.Rename rename) {
            sql = DdlBuilder.renameColumn(id, rename.from(), rename.source().name());
        } else {
            ColumnChange.DropNotNull drop = (ColumnChange.DropNotNull) change;
            sql = DdlBuilder.dropNotNull(id, drop.column());
            note = "the source dropped the column; the sink keeps it, with NULL in the rows that arrive from now on";
        }
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
        LOG.debug("{} in the open sink transaction", sql);
        return new Applied(source, id, change.kind(), sql, note);
    }

    /**
     * The source column's type as the sink knows it: the type text ({@code sqlType}, else
     * {@code type}) is checked ({@link DdlBuilder#isTypeText}) and resolved with {@code to_regtype}
     * as a bound parameter; the text written in DDL is the sink's {@code format_type} of that type
     * with the source's type modifier.
     */
    private SinkType resolve(Connection c, ColumnInfo s, String what) throws SQLException, Refused {
        String text = s.sqlType() != null ? s.sqlType() : s.type();
        if (!DdlBuilder.isTypeText(text)) {
            throw new Refused(what + ", and the source's type for it is not a type name the producer accepts: change the sink table"
                    + " by hand");
        }
        try (PreparedStatement ps = c.prepareStatement(RESOLVE_TYPE_SQL)) {
            ps.setInt(1, s.typmod() == null ? -1 : s.typmod());
            ps.setString(2, text);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new Refused(what + ", and its type " + text + " does not exist in the sink database: create the type there"
                            + " (or change the sink table by hand); the producer then resumes");
                }
                String own = rs.getString(1);
                String sinkText = rs.getString(2);
                if (s.type() != null && !own.equals(TypeRules.typname(s.type()))) {
                    throw new Refused(what + ", and the source's type " + text + " is another type (" + own + ") in the sink database:"
                            + " change the sink table by hand");
                }
                if (!DdlBuilder.isTypeText(sinkText)) {
                    throw new Refused(what + ", and the sink prints its type in a form the producer does not write into DDL ("
                            + sinkText + "): change the sink table by hand");
                }
                String base = rs.getString(3);
                String elementType = rs.getString(5);
                boolean array = "A".equals(rs.getString(4)) && elementType != null;
                return new SinkType(sinkText, base, array ? ColumnKind.ARRAY : SchemaCatalog.kindOf(base),
                        array ? SchemaCatalog.kindOf(elementType) : null);
            }
        }
    }

    private static String quoteLiteral(Connection c, String text) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(QUOTE_LITERAL_SQL)) {
            ps.setString(1, text);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    private static boolean hasRows(Connection c, TableId table) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT EXISTS (SELECT 1 FROM " + Identifiers.qualified(table) + ")")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    private static boolean hasValues(Connection c, TableId table, String column) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT EXISTS (SELECT 1 FROM "
                + Identifiers.qualified(table) + " WHERE " + Identifiers.quote(column) + " IS NOT NULL)")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    /** Sets {@code lock_timeout} for the rest of the transaction; returns what it was. */
    private static String setLockTimeout(Connection c, String value) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT pg_catalog.current_setting('lock_timeout'), pg_catalog.set_config('lock_timeout', ?, true)")) {
            ps.setString(1, value);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    @Override
    public void committed() {
        sourceColumns.committed();
        for (Applied a : applied) {
            metrics.schemaChange(a.table().toString(), a.kind());
            LOG.info("followed a schema change of source table {}{}: applied to sink table {}: {}{}", a.table(),
                    a.source() == null ? "" : " (" + a.source() + ")", a.table(), a.sql(), a.note() == null ? "" : " (" + a.note() + ")");
        }
        applied.clear();
        touched.clear();
    }

    @Override
    public boolean rolledBack() {
        Set<TableId> tables = new LinkedHashSet<>(touched);
        tables.addAll(sourceColumns.rolledBack());
        tables.forEach(catalog::invalidate);
        touched.clear();
        applied.clear();
        return !tables.isEmpty();
    }
}
