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
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Checks a change against the whitelist and the live catalog and turns it into a
 * {@link RowChange}: the table must be whitelisted and exist, every column it names must exist,
 * every value must convert to its column's type. Names from the envelope never reach SQL: only
 * the catalog's own column metadata does. A table or column the cache does not know is looked up
 * again once per batch before the change is rejected, so columns added to the sink are picked up.
 *
 * <p>A change that carries its column list (postgres-consumer's) and names a table or column the
 * sink lacks is a schema difference, not bad data: the {@link SchemaPolicy} decides whether it
 * pauses the line ({@link SchemaMismatchException}). A change without one (another component's
 * minimal envelope) naming an unknown table or column is bad input ({@link ValidationException}).
 *
 * <p>Used by the loop thread only.
 */
public final class ChangeValidator {

    private final SchemaCatalog catalog;
    private final TableWhitelist whitelist;
    private final ConflictStrategy strategy;
    private final SchemaPolicy policy;
    /** The last column list found to match its table, and which table (identity: the decoder shares equal lists). */
    private List<ColumnInfo> checkedColumns;
    private TableMeta checkedColumnsOf;
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
     * @param refreshed tables already reloaded from the catalog in this batch (updated here)
     * @throws ValidationException     the change cannot be applied as written (bad input)
     * @throws SchemaMismatchException the sink table lacks what the change's column list names, and the policy pauses
     */
    public RowChange prepare(Connection connection, Change change, Set<TableId> refreshed)
            throws SQLException, ValidationException, SchemaMismatchException {
        TableId id = change.tableId();
        if (!whitelist.allows(id)) {
            throw new ValidationException("table " + id + " is not in POSTGRES_OUTPUT_TABLES");
        }
        TableMeta table = table(connection, id, refreshed, change);
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

    private TableMeta table(Connection connection, TableId id, Set<TableId> refreshed, Change change)
            throws SQLException, ValidationException, SchemaMismatchException {
        Optional<TableMeta> table = catalog.table(connection, id);
        String unknown = table.map(t -> unknownColumn(t, change)).orElse(null);
        if ((table.isEmpty() || unknown != null) && refreshed.add(id)) {
            table = catalog.reload(connection, id);
            unknown = table.map(t -> unknownColumn(t, change)).orElse(null);
        }
        boolean described = !change.columns().isEmpty();
        if (table.isEmpty()) {
            if (described) {
                mismatch(SchemaDifference.missingTable(id, change.columns()));
            }
            throw new ValidationException("table " + id + " does not exist in the sink database");
        }
        if (unknown != null) {
            if (described) {
                mismatch(difference(table.get(), change));
            }
            throw new ValidationException("column \"" + unknown + "\" does not exist in table " + id);
        }
        if (described && !(change.columns() == checkedColumns && table.get() == checkedColumnsOf)) {
            // the decoder shares one column list between the changes that repeat it: compare it once
            SchemaDifference difference = difference(table.get(), change);
            if (!difference.isEmpty()) {
                mismatch(difference);
            }
            checkedColumns = change.columns();
            checkedColumnsOf = table.get();
        }
        return table.get();
    }

    private void mismatch(SchemaDifference difference) throws SchemaMismatchException {
        if (policy.decide(difference) == SchemaPolicy.Decision.PAUSE) {
            throw new SchemaMismatchException(difference);
        }
    }

    /** The first name (after-image, before-image, unchanged TOAST, then column list) the table does not have. */
    private String unknownColumn(TableMeta table, Change change) {
        String unknown = unknownName(table, change.after() == null ? List.of() : change.after().keySet());
        if (unknown == null && change.before() != null) {
            unknown = unknownName(table, change.before().keySet());
        }
        if (unknown == null) {
            unknown = unknownName(table, change.unchangedToast());
        }
        if (unknown == null && !(change.columns() == checkedColumns && table == checkedColumnsOf)) {
            for (ColumnInfo c : change.columns()) {
                if (table.column(c.name()) == null) {
                    return c.name();
                }
            }
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
                types.add(new SchemaDifference.TypeDifference(c.name(), typeName(column), c.type()));
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
        return source.equals(typeName(column));
    }

    /** The sink column's pg_type name, from its quoted, schema-qualified cast type. */
    private static String typeName(ColumnMeta column) {
        String cast = column.castType();
        int dot = cast.lastIndexOf('.');
        String name = cast.substring(dot + 1);
        if (name.length() >= 2 && name.startsWith("\"") && name.endsWith("\"")) {
            name = name.substring(1, name.length() - 1).replace("\"\"", "\"");
        }
        return name;
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
