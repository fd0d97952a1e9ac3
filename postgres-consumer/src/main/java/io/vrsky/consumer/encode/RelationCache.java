package io.vrsky.consumer.encode;

import io.vrsky.consumer.pgoutput.PgOutputMessage.Relation;
import io.vrsky.consumer.pgoutput.PgOutputMessage.RelationColumn;
import io.vrsky.core.codec.JsonBuffer;
import io.vrsky.core.model.TableId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The relations pgoutput described in this session, by relation id, with their column types
 * resolved through the {@link TypeRegistry} and what the {@link ColumnCatalog} adds (attnum, type
 * text, NOT NULL, default, the value of rows that existed before an {@code ADD COLUMN ... DEFAULT}).
 * The catalog is read once per Relation message, and the result is kept until the next Relation
 * message for the same relation (pgoutput sends one before the first change after a DDL).
 *
 * <p>Key flags: pgoutput flags the replica identity columns, which under REPLICA IDENTITY FULL is
 * every column. For such tables the primary key (when there is one) is flagged instead, so that
 * {@code key} keeps meaning "identifies the row" for the producer.
 *
 * <p>Used by the replication thread only; not thread-safe.
 */
public final class RelationCache {

    private static final Logger LOG = LoggerFactory.getLogger(RelationCache.class);

    /** The primary key column names of a relation; empty when it has none. */
    @FunctionalInterface
    public interface PrimaryKeyLookup {
        Set<String> primaryKey(int relationId) throws Exception;
    }

    private final TypeRegistry types;
    private final ColumnCatalog catalog;
    private final ValueDecoder values;
    private final Map<Integer, RelationInfo> relations = new HashMap<>();
    /** The compact layout's ref of the last relation described: every version of every relation gets its own. */
    private int lastRef;

    public RelationCache(TypeRegistry types, ColumnCatalog catalog, ValueDecoder values) {
        this.types = types;
        this.catalog = catalog;
        this.values = values;
    }

    /** A cache that knows only the primary keys (no attnums, defaults, ...): for tests. */
    public RelationCache(TypeRegistry types, PrimaryKeyLookup primaryKeys) {
        this(types, (relationId, columns) -> {
            Set<String> pk = primaryKeys.primaryKey(relationId);
            List<ColumnCatalog.ColumnRow> rows = new ArrayList<>(columns.size());
            for (RelationColumn c : columns) {
                rows.add(ColumnCatalog.ColumnRow.unknown(pk.contains(c.name())));
            }
            return rows;
        }, new ValueDecoder());
    }

    public RelationInfo put(Relation relation) throws Exception {
        List<Integer> oids = new ArrayList<>();
        for (RelationColumn c : relation.columns()) {
            oids.add(c.typeOid());
        }
        types.preload(oids);
        List<ColumnCatalog.ColumnRow> rows = catalog.describe(relation.relationId(), relation.columns());
        if (rows.size() != relation.columns().size()) {
            throw new IllegalStateException("the catalog described " + rows.size() + " columns of relation "
                    + Integer.toUnsignedString(relation.relationId()) + ", the Relation message has " + relation.columns().size());
        }
        Set<String> pk = new HashSet<>();
        if (relation.replicaIdentity() == 'f') {
            for (int i = 0; i < rows.size(); i++) {
                if (rows.get(i).primaryKey()) {
                    pk.add(relation.columns().get(i).name());
                }
            }
        }
        TableId table = new TableId(relation.schema(), relation.name());
        List<RelationInfo.Column> columns = new ArrayList<>(relation.columns().size());
        for (int i = 0; i < rows.size(); i++) {
            RelationColumn c = relation.columns().get(i);
            ColumnCatalog.ColumnRow row = rows.get(i);
            boolean key = pk.isEmpty() ? c.key() : pk.contains(c.name());
            PgType type = types.resolve(c.typeOid());
            columns.add(new RelationInfo.Column(c.name(), type, key, row.attnum(), c.typeModifier(), row.sqlType(), row.notNull(),
                    row.defaultExpression(), existingRowsJson(table, c.name(), type, row.missingValue())));
        }
        RelationInfo info = new RelationInfo(++lastRef, relation.relationId(), table, relation.replicaIdentity(), columns);
        relations.put(relation.relationId(), info);
        return info;
    }

    /**
     * The JSON of the value existing rows hold for a column added with a default: the one element of
     * {@code attmissingval}, converted like a row value. Null when there is none, or when it does not
     * convert (then the producer cannot tell that value and treats the column as added without it).
     */
    private String existingRowsJson(TableId table, String column, PgType type, String missingValue) {
        if (missingValue == null) {
            return null;
        }
        String element = singleElement(missingValue);
        if (element == null) {
            return null;
        }
        try {
            JsonBuffer out = new JsonBuffer(element.length() + 16);
            values.write(out, type, element);
            return new String(out.array(), 0, out.length(), StandardCharsets.UTF_8);
        } catch (RuntimeException e) { // its message may quote the value
            LOG.warn("the value existing rows of {} hold in column {} ({}) does not convert ({}): it is left out of the column list",
                    table, column, type.name(), e.getClass().getSimpleName());
            return null;
        }
    }

    /**
     * The element of a one-element array literal as PostgreSQL prints it ({@code {5}},
     * {@code {"a \"b\""}}, {@code {"{1,2}"}}); null for {@code {NULL}} or anything else.
     */
    static String singleElement(String literal) {
        if (literal.length() < 2 || literal.charAt(0) != '{' || literal.charAt(literal.length() - 1) != '}') {
            return null;
        }
        String inner = literal.substring(1, literal.length() - 1);
        if (inner.isEmpty()) {
            return null;
        }
        if (inner.charAt(0) != '"') {
            return inner.equalsIgnoreCase("NULL") || inner.indexOf(',') >= 0 || inner.indexOf('"') >= 0 ? null : inner;
        }
        StringBuilder b = new StringBuilder(inner.length());
        for (int i = 1; i < inner.length(); i++) {
            char ch = inner.charAt(i);
            if (ch == '\\' && i + 1 < inner.length()) {
                b.append(inner.charAt(++i));
            } else if (ch == '"') {
                return i == inner.length() - 1 ? b.toString() : null;
            } else {
                b.append(ch);
            }
        }
        return null;
    }

    /** The relation, or null when pgoutput has not described it. */
    public RelationInfo get(int relationId) {
        return relations.get(relationId);
    }

    public void invalidateType(int oid) {
        types.invalidate(oid);
    }
}
