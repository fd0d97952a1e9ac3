package io.vrsky.producer.plan;

import com.fasterxml.jackson.databind.JsonNode;
import io.vrsky.core.model.Change;
import io.vrsky.core.model.ColumnInfo;
import io.vrsky.core.model.TableId;
import io.vrsky.producer.catalog.ColumnMeta;
import io.vrsky.producer.catalog.SchemaCatalog;
import io.vrsky.producer.catalog.TableMeta;
import io.vrsky.producer.catalog.TableWhitelist;
import io.vrsky.producer.sql.SqlValues;
import io.vrsky.producer.sql.StatementShape.Kind;
import io.vrsky.producer.sql.StatementShape;
import io.vrsky.producer.sql.ValueConversionException;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Checks a change against the whitelist and the live catalog and turns it into a
 * {@link RowChange}: the table must be whitelisted and exist, every column it names must exist,
 * every value must convert to its column's type. Names from the envelope never reach SQL: only
 * the catalog's own column metadata does. A table or column the cache does not know is looked up
 * again once per batch before the change is rejected, so columns added to the sink are picked up.
 *
 * <p>A change that carries its column list (postgres-consumer's) is compared with the sink table
 * once per column list and table: the {@link SchemaPolicy} decides whether the difference is
 * applied as it is, resolved by changing the sink table first (schema evolution, in the same sink
 * transaction), or pauses the line ({@link SchemaMismatchException}). A change without one
 * (another component's minimal envelope) naming an unknown table or column is bad input
 * ({@link ValidationException}).
 *
 * <p>Used by the loop thread only.
 */
public final class ChangeValidator {

    private final SchemaCatalog catalog;
    private final TableWhitelist whitelist;
    private final ConflictStrategy strategy;
    private final SchemaPolicy policy;
    /**
     * A column list found to fit its table, for which table and source (identity: the decoder
     * shares equal lists, the catalog equal tables).
     */
    private record Checked(List<ColumnInfo> columns, TableMeta table, String source) {
        boolean covers(List<ColumnInfo> otherColumns, TableMeta otherTable, String otherSource) {
            return columns == otherColumns && table == otherTable && Objects.equals(source, otherSource);
        }
    }

    /** Per table, the last column list found to fit it; {@link #lastChecked} is the last of all. */
    private final Map<TableId, Checked> checked = new HashMap<>();
    private Checked lastChecked;
    /** The last after-image layout and the columns it writes (most changes repeat the one before). */
    private TableMeta writtenOf;
    private String[] writtenNames = new String[0];
    private List<ColumnMeta> written = List.of();
    /** The last statement shape of each kind, reused while table, columns and key are the same objects. */
    private final StatementShape[] shapes = new StatementShape[Kind.values().length];

    public ChangeValidator(SchemaCatalog catalog, TableWhitelist whitelist, ConflictStrategy strategy) {
        this(catalog, whitelist, strategy, SchemaPolicy.PAUSE_ON_MISSING);
    }

    public ChangeValidator(SchemaCatalog catalog, TableWhitelist whitelist, ConflictStrategy strategy, SchemaPolicy policy) {
        this.catalog = catalog;
        this.whitelist = whitelist;
        this.strategy = strategy;
        this.policy = policy;
    }

    /**
     * Checks and converts a change that is not part of a postgres-consumer transaction (no source),
     * with nothing prepared before it.
     */
    public RowChange prepare(Connection connection, Change change, Set<TableId> refreshed)
            throws SQLException, ValidationException, SchemaMismatchException {
        try {
            return prepare(connection, null, change, refreshed, BeforeSchemaChange.NOTHING);
        } catch (SchemaChangeAhead e) {
            throw new IllegalStateException("nothing prepared before the change refuses a schema change", e);
        }
    }

    /**
     * @param source    the envelope's source, or null
     * @param refreshed tables already reloaded from the catalog in this batch (updated here)
     * @param before    what to do right before the sink table is changed for this change (see
     *                  {@link BeforeSchemaChange})
     * @throws ValidationException     the change cannot be applied as written (bad input)
     * @throws SchemaMismatchException the sink table does not fit the change's column list, and the policy pauses
     * @throws SchemaChangeAhead       {@code before} wants the change in a sink transaction of its own
     */
    public RowChange prepare(Connection connection, String source, Change change, Set<TableId> refreshed, BeforeSchemaChange before)
            throws SQLException, ValidationException, SchemaMismatchException, SchemaChangeAhead {
        TableId id = change.tableId();
        if (!whitelist.allows(id)) {
            throw new ValidationException("table " + id + " is not in POSTGRES_OUTPUT_TABLES");
        }
        TableMeta table = table(connection, source, id, refreshed, change, before);
        return switch (change.op()) {
            case TRUNCATE -> new RowChange(change.op(), table, new StatementShape(Kind.TRUNCATE, id, List.of(), List.of()),
                    MissingRowPolicy.IGNORE, List.of(), List.of(), List.of(), false);
            case INSERT -> insert(change, table, strategy);
            // a row copied by a snapshot: an upsert whatever the conflict strategy (it may exist already)
            case READ -> insert(change, table, ConflictStrategy.UPSERT);
            case UPDATE -> update(change, table);
            case DELETE -> delete(change, table);
        };
    }

    private TableMeta table(Connection connection, String source, TableId id, Set<TableId> refreshed, Change change,
                            BeforeSchemaChange before) throws SQLException, ValidationException, SchemaMismatchException, SchemaChangeAhead {
        Optional<TableMeta> table = catalog.table(connection, id);
        boolean described = !change.columns().isEmpty();
        String unknown = table.map(t -> unknownName(t, change)).orElse(null);
        if ((table.isEmpty() || unknown != null) && refreshed.add(id)) {
            table = catalog.reload(connection, id);
            unknown = table.map(t -> unknownName(t, change)).orElse(null);
        }
        if (table.isEmpty()) {
            if (described) {
                throw new SchemaMismatchException(SchemaDifference.missingTable(id, change.columns()));
            }
            throw new ValidationException("table " + id + " does not exist in the sink database");
        }
        TableMeta t = table.get();
        if (!described) {
            if (unknown != null) {
                throw new ValidationException("column \"" + unknown + "\" does not exist in table " + id);
            }
            return t;
        }
        // the decoder shares one column list between the changes that repeat it: compare it once per table
        Checked last = lastChecked;
        if (last == null || !last.covers(change.columns(), t, source)) {
            Checked known = checked.get(id);
            if (known == null || !known.covers(change.columns(), t, source)) {
                t = policy.reconcile(connection, source, t, change, before);
                known = new Checked(change.columns(), t, source);
                checked.put(id, known);
            }
            lastChecked = known;
            t = known.table();
        } else {
            t = last.table();
        }
        if (t != table.get()) {
            unknown = unknownName(t, change);
        }
        if (unknown != null && !inColumnList(change, unknown)) {
            // an image names a column its own column list does not: the list cannot be trusted, pause
            throw new SchemaMismatchException(difference(t, change));
        }
        return t;
    }

    private static boolean inColumnList(Change change, String name) {
        for (ColumnInfo c : change.columns()) {
            if (c.name().equals(name)) {
                return true;
            }
        }
        return false;
    }

    /** The first name (after-image, before-image, unchanged TOAST) the table does not have. */
    private static String unknownName(TableMeta table, Change change) {
        String unknown = unknownName(table, change.after() == null ? List.of() : change.after().keySet());
        if (unknown == null && change.before() != null) {
            unknown = unknownName(table, change.before().keySet());
        }
        if (unknown == null) {
            unknown = unknownName(table, change.unchangedToast());
        }
        return unknown;
    }

    private static String unknownName(TableMeta table, Iterable<String> names) {
        for (String name : names) {
            if (table.column(name) == null) {
                return name;
            }
        }
        return null;
    }

    /** How the change's column list (and the names in its images) differ from the sink table. */
    static SchemaDifference difference(TableMeta table, Change change) {
        Map<String, ColumnInfo> missing = new LinkedHashMap<>();
        List<SchemaDifference.TypeDifference> types = new ArrayList<>();
        for (ColumnInfo c : change.columns()) {
            ColumnMeta column = table.column(c.name());
            if (column == null) {
                missing.put(c.name(), c);
            } else if (c.type() != null && !sameType(column, c.type())) {
                types.add(new SchemaDifference.TypeDifference(c.name(), column.typeName(), c.type()));
            }
        }
        List<Iterable<String>> images = new ArrayList<>();
        images.add(change.after() == null ? List.of() : change.after().keySet());
        images.add(change.before() == null ? List.of() : change.before().keySet());
        images.add(change.unchangedToast());
        for (Iterable<String> names : images) {
            for (String name : names) {
                if (table.column(name) == null && !missing.containsKey(name)) {
                    missing.put(name, new ColumnInfo(name, null, false));
                }
            }
        }
        return new SchemaDifference(table.id(), false, new ArrayList<>(missing.values()), types);
    }

    /** Whether the source's type name ({@code int4}, {@code int4[]}, a domain's name) is the sink column's type. */
    private static boolean sameType(ColumnMeta column, String sourceType) {
        String source = sourceType.endsWith("[]") ? "_" + sourceType.substring(0, sourceType.length() - 2) : sourceType;
        return source.equals(column.typeName());
    }

    private RowChange insert(Change change, TableMeta table, ConflictStrategy strategy) throws ValidationException {
        Map<String, JsonNode> after = require(change.after(), "after", change, table);
        Set<String> toast = toast(change);
        List<ColumnMeta> columns = written(table, after, toast);
        if (columns.isEmpty()) {
            throw new ValidationException(change.op() + " into " + table.id() + " has no column values in 'after'");
        }
        List<String> values = values(columns, after);
        List<ColumnMeta> pk = table.primaryKeyColumns();
        List<String> afterKey = table.hasPrimaryKey() ? keyFrom(pk, table, after, null, false) : null;
        boolean whole = toast.isEmpty() && (!table.hasPrimaryKey() || afterKey != null);
        MissingRowPolicy onMissing = strategy.missingRowPolicy();
        if (afterKey == null) {
            return new RowChange(change.op(), table, shape(Kind.INSERT, table, columns, List.of()), onMissing,
                    values, List.of(), List.of(), whole);
        }
        return switch (strategy) {
            case UPSERT -> table.onConflictAllowed()
                    ? new RowChange(change.op(), table, shape(Kind.UPSERT, table, columns, pk), onMissing,
                            values, afterKey, List.of(afterKey), whole)
                    // PostgreSQL refuses ON CONFLICT on a table with INSERT or UPDATE rules: update by
                    // key, then insert what was not found (onMissing), so the rules fire as usual
                    : new RowChange(change.op(), table, shape(Kind.UPDATE_BY_KEY, table, columns, pk), onMissing,
                            values, afterKey, List.of(afterKey), whole);
            case INSERT -> new RowChange(change.op(), table, shape(Kind.INSERT, table, columns, List.of()),
                    onMissing, values, List.of(), List.of(afterKey), whole);
            case UPDATE -> new RowChange(change.op(), table, shape(Kind.UPDATE_BY_KEY, table, columns, pk),
                    onMissing, values, afterKey, List.of(afterKey), whole);
        };
    }

    private RowChange update(Change change, TableMeta table) throws ValidationException {
        Map<String, JsonNode> after = require(change.after(), "after", change, table);
        Set<String> toast = toast(change);
        List<ColumnMeta> columns = written(table, after, toast);
        List<String> values = values(columns, after);
        MissingRowPolicy onMissing = strategy.missingRowPolicy();
        if (table.hasPrimaryKey()) {
            List<ColumnMeta> pk = table.primaryKeyColumns();
            List<String> beforeKey = keyFrom(pk, table, change.before(), after, true);
            List<String> afterKey = keyFrom(pk, table, after, change.before(), true);
            boolean whole = toast.isEmpty() && keyFrom(pk, table, after, null, false) != null;
            List<List<String>> touched = beforeKey.equals(afterKey) ? List.of(beforeKey) : List.of(beforeKey, afterKey);
            return new RowChange(change.op(), table, shape(Kind.UPDATE_BY_KEY, table, columns, pk), onMissing,
                    values, beforeKey, touched, whole);
        }
        List<ColumnMeta> identity = identity(change, table, toast);
        return new RowChange(change.op(), table, new StatementShape(Kind.UPDATE_BY_IDENTITY, table.id(), columns, identity),
                onMissing, values, values(identity, change.before()), List.of(), toast.isEmpty());
    }

    private RowChange delete(Change change, TableMeta table) throws ValidationException {
        Map<String, JsonNode> before = require(change.before(), "before (or key)", change, table);
        if (table.hasPrimaryKey()) {
            List<ColumnMeta> pk = table.primaryKeyColumns();
            List<String> key = keyFrom(pk, table, before, null, true);
            return new RowChange(change.op(), table, shape(Kind.DELETE_BY_KEY, table, List.of(), pk),
                    MissingRowPolicy.IGNORE, List.of(), key, List.of(key), false);
        }
        List<ColumnMeta> identity = identity(change, table, toast(change));
        return new RowChange(change.op(), table, new StatementShape(Kind.DELETE_BY_IDENTITY, table.id(), List.of(), identity),
                MissingRowPolicy.IGNORE, List.of(), values(identity, before), List.of(), false);
    }

    private static Set<String> toast(Change change) {
        return change.unchangedToast().isEmpty() ? Set.of() : new HashSet<>(change.unchangedToast());
    }

    private static Map<String, JsonNode> require(Map<String, JsonNode> image, String field, Change change, TableMeta table)
            throws ValidationException {
        if (image == null) {
            throw new ValidationException(change.op() + " on " + table.id() + " has no '" + field + "'");
        }
        return image;
    }

    /** The before-image columns that find a row of a table without a primary key. */
    private static List<ColumnMeta> identity(Change change, TableMeta table, Set<String> toast) throws ValidationException {
        if (change.before() == null || change.before().isEmpty()) {
            throw new ValidationException(change.op() + " on " + table.id()
                    + " needs the before-image: the table has no primary key (use REPLICA IDENTITY FULL at the source)");
        }
        List<ColumnMeta> identity = new ArrayList<>();
        for (String name : change.before().keySet()) {
            ColumnMeta column = table.column(name);
            if (!toast.contains(name) && !column.generated()) {
                identity.add(column);
            }
        }
        identity.sort(Comparator.comparingInt(ColumnMeta::position));
        if (identity.isEmpty()) {
            throw new ValidationException(change.op() + " on " + table.id() + " has no usable before-image column");
        }
        return identity;
    }

    /**
     * The columns an after-image writes, in catalog order: unchanged-TOAST and generated columns left
     * out. The same list object while the table and the after-image's field names stay the same.
     */
    private List<ColumnMeta> written(TableMeta table, Map<String, JsonNode> after, Set<String> toast) {
        if (toast.isEmpty()) {
            if (table == writtenOf && sameNames(after.keySet(), writtenNames)) {
                return written;
            }
            List<ColumnMeta> columns = List.copyOf(written(table, after.keySet(), toast));
            writtenOf = table;
            writtenNames = after.keySet().toArray(new String[0]);
            written = columns;
            return columns;
        }
        return written(table, after.keySet(), toast);
    }

    private static boolean sameNames(Set<String> names, String[] known) {
        if (names.size() != known.length) {
            return false;
        }
        int i = 0;
        for (String name : names) {
            String k = known[i++];
            if (name != k && !name.equals(k)) {
                return false;
            }
        }
        return true;
    }

    private static List<ColumnMeta> written(TableMeta table, Set<String> names, Set<String> toast) {
        List<ColumnMeta> columns = new ArrayList<>();
        for (String name : names) {
            ColumnMeta column = table.column(name);
            if (!toast.contains(name) && !column.generated()) {
                columns.add(column);
            }
        }
        columns.sort(Comparator.comparingInt(ColumnMeta::position));
        return columns;
    }

    /** The statement shape, the same object as the last one of its kind when table, columns and key are. */
    private StatementShape shape(Kind kind, TableMeta table, List<ColumnMeta> columns, List<ColumnMeta> key) {
        StatementShape last = shapes[kind.ordinal()];
        if (last != null && last.table() == table.id() && last.columns() == columns && last.key() == key) {
            return last;
        }
        StatementShape shape = new StatementShape(kind, table.id(), columns, key);
        shapes[kind.ordinal()] = shape;
        return shape;
    }

    private static List<String> values(List<ColumnMeta> columns, Map<String, JsonNode> image) throws ValidationException {
        List<String> values = new ArrayList<>(columns.size());
        for (ColumnMeta column : columns) {
            values.add(convert(image.get(column.name()), column));
        }
        return values;
    }

    /**
     * The primary-key values, each from the first image that has the column.
     *
     * @return null when a key column is in neither image and {@code required} is false
     */
    private static List<String> keyFrom(List<ColumnMeta> pk, TableMeta table, Map<String, JsonNode> first,
                                        Map<String, JsonNode> second, boolean required) throws ValidationException {
        List<String> key = new ArrayList<>(pk.size());
        for (ColumnMeta column : pk) {
            JsonNode value = null;
            boolean found = false;
            if (first != null && first.containsKey(column.name())) {
                value = first.get(column.name());
                found = true;
            } else if (second != null && second.containsKey(column.name())) {
                value = second.get(column.name());
                found = true;
            }
            if (!found) {
                if (!required) {
                    return null;
                }
                throw new ValidationException("primary key column \"" + column.name() + "\" of " + table.id() + " is missing");
            }
            String text = convert(value, column);
            if (text == null) {
                throw new ValidationException("primary key column \"" + column.name() + "\" of " + table.id() + " is null");
            }
            key.add(text);
        }
        return key;
    }

    private static String convert(JsonNode value, ColumnMeta column) throws ValidationException {
        try {
            return SqlValues.toText(value, column);
        } catch (ValueConversionException e) {
            throw new ValidationException(e.getMessage());
        }
    }
}
