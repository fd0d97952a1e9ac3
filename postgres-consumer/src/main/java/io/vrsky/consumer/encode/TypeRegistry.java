package io.vrsky.consumer.encode;

import io.vrsky.consumer.encode.TypeCatalog.TypeRow;
import io.vrsky.consumer.pgoutput.PgOutputException;

import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Resolves type OIDs to {@link PgType}s: arrays through {@code typelem}, domains through
 * {@code typbasetype} (keeping the domain's own name), built-in scalars by name. Rows are loaded
 * from the {@link TypeCatalog} once and cached; a pgoutput Type message invalidates one OID.
 *
 * <p>Used by the replication thread only; not thread-safe.
 */
public final class TypeRegistry {

    private final TypeCatalog catalog;
    private final Map<Integer, TypeRow> rows = new HashMap<>();
    private final Map<Integer, PgType> resolved = new HashMap<>();

    public TypeRegistry(TypeCatalog catalog) {
        this.catalog = catalog;
    }

    /** Loads whatever of {@code oids} is not cached yet, in one catalog round trip. */
    public void preload(Collection<Integer> oids) throws Exception {
        Set<Integer> missing = new HashSet<>();
        for (Integer oid : oids) {
            if (!rows.containsKey(oid)) {
                missing.add(oid);
            }
        }
        if (!missing.isEmpty()) {
            rows.putAll(catalog.load(missing));
        }
    }

    public PgType resolve(int oid) throws Exception {
        PgType type = resolved.get(oid);
        if (type != null) {
            return type;
        }
        type = resolve(oid, 0);
        resolved.put(oid, type);
        return type;
    }

    private PgType resolve(int oid, int depth) throws Exception {
        if (depth > 16) {
            throw new PgOutputException("type " + Integer.toUnsignedString(oid) + " nests too deep (domain or array loop?)");
        }
        TypeRow row = rows.get(oid);
        if (row == null) {
            preload(Set.of(oid));
            row = rows.get(oid);
            if (row == null) {
                throw new PgOutputException("type OID " + Integer.toUnsignedString(oid) + " is not in pg_type");
            }
        }
        if (row.type() == 'd' && row.baseTypeOid() != 0) {
            PgType base = resolve(row.baseTypeOid(), depth + 1);
            return new PgType(oid, row.name(), base.kind(), base.element(), base.delimiter());
        }
        if (row.category() == 'A' && row.elementOid() != 0) {
            PgType element = resolve(row.elementOid(), depth + 1);
            TypeRow elementRow = rows.get(row.elementOid());
            char delimiter = elementRow == null ? ',' : elementRow.delimiter();
            return PgType.arrayOf(oid, element, delimiter);
        }
        return PgType.scalar(oid, row.name(), row.builtin() ? builtinKind(row.name()) : JsonKind.STRING);
    }

    /** Forgets one type (its definition may have changed). */
    public void invalidate(int oid) {
        rows.remove(oid);
        resolved.clear();
    }

    static JsonKind builtinKind(String typname) {
        return switch (typname) {
            case "int2", "int4", "int8" -> JsonKind.INTEGER;
            case "float4", "float8" -> JsonKind.FLOAT;
            case "numeric" -> JsonKind.NUMERIC;
            case "bool" -> JsonKind.BOOLEAN;
            case "json", "jsonb" -> JsonKind.JSON;
            case "bytea" -> JsonKind.BYTEA;
            case "date" -> JsonKind.DATE;
            case "time" -> JsonKind.TIME;
            case "timestamp" -> JsonKind.TIMESTAMP;
            case "timestamptz" -> JsonKind.TIMESTAMPTZ;
            default -> JsonKind.STRING;
        };
    }
}
