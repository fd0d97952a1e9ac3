package io.vrsky.consumer.encode;

import io.vrsky.core.codec.JsonBuffer;
import io.vrsky.core.model.Operation;
import io.vrsky.core.model.TableId;

import java.util.List;
import java.util.Objects;

/**
 * A relation as the change encoder needs it: table name, columns with resolved types and key
 * flags, and the JSON fragments that are the same for every change of the table, encoded once:
 * the {@code columns} array, the opening of a change per operation, each column's field name.
 * Immutable; the fragment arrays are shared, not copied, and must not be modified.
 */
public final class RelationInfo {

    /**
     * A column: name, type and whether it identifies the row (primary key or replica identity), and
     * what the catalog adds (each null, or false, when unknown): the attribute number, the type
     * modifier (null for none), the full type text, NOT NULL, the default's text and the JSON of the
     * value rows that existed before the column was added hold.
     */
    public record Column(String name, PgType type, boolean key, Integer attnum, Integer typmod, String sqlType, boolean notNull,
                         String defaultExpression, String existingRowsJson) {
        public Column {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(type, "type");
            if (typmod != null && typmod == -1) {
                typmod = null;
            }
        }

        /** A column known by name, type and key flag only. */
        public Column(String name, PgType type, boolean key) {
            this(name, type, key, null, null, null, false, null, null);
        }
    }

    private final int ref;
    private final int relationId;
    private final TableId table;
    private final char replicaIdentity;
    private final List<Column> columns;
    private final boolean hasKey;
    private final byte[] columnsJson;
    private final byte[][] opening;
    private final byte[] afterLsn;
    private final byte[][] compactOpening;
    private final byte[] tableEntry;
    private final byte[][] fieldNames;
    private final byte[][] quotedNames;

    /** A relation whose compact-layout {@link #ref} is 0 (a message that holds no other relation). */
    public RelationInfo(int relationId, TableId table, char replicaIdentity, List<Column> columns) {
        this(0, relationId, table, replicaIdentity, columns);
    }

    /**
     * @param ref what the compact layout's changes call this relation by: different for every
     *            relation (and every version of one) that may share a message
     */
    public RelationInfo(int ref, int relationId, TableId table, char replicaIdentity, List<Column> columns) {
        this.ref = ref;
        this.relationId = relationId;
        this.table = Objects.requireNonNull(table, "table");
        this.replicaIdentity = replicaIdentity;
        this.columns = List.copyOf(columns);
        this.hasKey = this.columns.stream().anyMatch(Column::key);

        JsonBuffer b = new JsonBuffer(64 * this.columns.size() + 16);
        b.raw((byte) '[');
        for (int i = 0; i < this.columns.size(); i++) {
            Column c = this.columns.get(i);
            b.ascii(i == 0 ? "{\"name\":" : ",{\"name\":").string(c.name()).ascii(",\"type\":").string(c.type().name())
                    .ascii(",\"key\":").bool(c.key());
            details(b, c);
            b.raw((byte) '}');
        }
        this.columnsJson = b.raw((byte) ']').toByteArray();

        Operation[] ops = Operation.values();
        this.opening = new byte[ops.length][];
        for (Operation op : ops) {
            b.reset();
            b.ascii("{\"op\":").string(op.name()).ascii(",\"schema\":").string(table.schema()).ascii(",\"table\":").string(table.table())
                    .ascii(",\"txId\":");
            opening[op.ordinal()] = b.toByteArray();
        }
        this.compactOpening = new byte[ops.length][];
        for (Operation op : ops) {
            b.reset();
            b.ascii("{\"op\":").string(op.name()).ascii(",\"ref\":").number(ref).ascii(",\"txId\":");
            compactOpening[op.ordinal()] = b.toByteArray();
        }
        b.reset();
        this.tableEntry = b.ascii("{\"ref\":").number(ref).ascii(",\"schema\":").string(table.schema()).ascii(",\"table\":")
                .string(table.table()).ascii(",\"columns\":").raw(columnsJson).raw((byte) '}').toByteArray();
        b.reset();
        this.afterLsn = b.ascii("\",\"columns\":").raw(columnsJson).ascii(",\"before\":").toByteArray();
        this.fieldNames = new byte[this.columns.size()][];
        this.quotedNames = new byte[this.columns.size()][];
        for (int i = 0; i < this.columns.size(); i++) {
            b.reset();
            quotedNames[i] = b.string(this.columns.get(i).name()).toByteArray();
            fieldNames[i] = b.raw((byte) ':').toByteArray();
        }
    }

    /** The optional fields of a column entry, in envelope-core's order, each only when known. */
    private static void details(JsonBuffer b, Column c) {
        if (c.attnum() != null) {
            b.ascii(",\"attnum\":").number(c.attnum());
        }
        if (c.typmod() != null) {
            b.ascii(",\"typmod\":").number(c.typmod());
        }
        if (c.sqlType() != null) {
            b.ascii(",\"sqlType\":").string(c.sqlType());
        }
        if (c.notNull()) {
            b.ascii(",\"notNull\":true");
        }
        if (c.defaultExpression() != null) {
            b.ascii(",\"default\":").string(c.defaultExpression());
        }
        if (c.existingRowsJson() != null) {
            b.ascii(",\"existingRowsValue\":").raw(c.existingRowsJson().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    /** What the compact layout's changes call this relation by. */
    public int ref() {
        return ref;
    }

    /**
     * The compact layout's entry of this relation in {@code payload.tables}:
     * <code>{"ref":N,"schema":…,"table":…,"columns":[…]}</code>.
     */
    public byte[] tableEntry() {
        return tableEntry;
    }

    /** The start of a compact-layout change of this table up to its txId value: <code>{"op":"&lt;op&gt;","ref":N,"txId":</code>. */
    public byte[] compactOpening(Operation op) {
        return compactOpening[op.ordinal()];
    }

    public int relationId() {
        return relationId;
    }

    public TableId table() {
        return table;
    }

    public char replicaIdentity() {
        return replicaIdentity;
    }

    public List<Column> columns() {
        return columns;
    }

    /** Whether any column identifies the row. */
    public boolean hasKey() {
        return hasKey;
    }

    /** The {@code columns} JSON array of every change of this table. */
    public byte[] columnsJson() {
        return columnsJson.clone();
    }

    /** The start of a change of this table up to its txId value: <code>{"op":"&lt;op&gt;","schema":…,"table":…,"txId":</code>. */
    public byte[] opening(Operation op) {
        return opening[op.ordinal()];
    }

    /** What follows a change's {@code lsn} value up to its before image: <code>","columns":[…],"before":</code>. */
    public byte[] afterLsn() {
        return afterLsn;
    }

    /** {@code "<name>":} of column {@code i}. */
    public byte[] fieldName(int i) {
        return fieldNames[i];
    }

    /** {@code "<name>"} of column {@code i}. */
    public byte[] quotedName(int i) {
        return quotedNames[i];
    }

    @Override
    public String toString() {
        return "RelationInfo[" + relationId + " " + table + " " + columns + "]";
    }
}
