package io.vrsky.consumer.encode;

import io.vrsky.consumer.encode.TypeCatalog.TypeRow;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

/**
 * A pg_type extract for unit tests: the built-in types the fixtures use (OIDs are fixed across
 * PostgreSQL versions) and the two user types of the captured "typed" table.
 */
public final class TestCatalog implements TypeCatalog {

    public static final int MOOD = 16386;
    public static final int POSITIVE_INT = 16394;

    private final Map<Integer, TypeRow> rows = new HashMap<>();

    public TestCatalog() {
        builtin(16, "bool", 'B');
        builtin(17, "bytea", 'U');
        builtin(20, "int8", 'N');
        builtin(21, "int2", 'N');
        builtin(23, "int4", 'N');
        builtin(25, "text", 'S');
        builtin(114, "json", 'U');
        builtin(700, "float4", 'N');
        builtin(701, "float8", 'N');
        builtin(1043, "varchar", 'S');
        builtin(1082, "date", 'D');
        builtin(1083, "time", 'D');
        builtin(1114, "timestamp", 'D');
        builtin(1184, "timestamptz", 'D');
        builtin(1186, "interval", 'T');
        builtin(1700, "numeric", 'N');
        builtin(2950, "uuid", 'U');
        builtin(3802, "jsonb", 'U');
        array(1000, "_bool", 16);
        array(1007, "_int4", 23);
        array(1009, "_text", 25);
        array(199, "_json", 114);
        array(3807, "_jsonb", 3802);
        array(1185, "_timestamptz", 1184);
        rows.put(MOOD, new TypeRow(MOOD, "mood", 'e', 'E', 0, 0, ',', false));
        rows.put(POSITIVE_INT, new TypeRow(POSITIVE_INT, "positive_int", 'd', 'N', 0, 23, ',', false));
    }

    private void builtin(int oid, String name, char category) {
        rows.put(oid, new TypeRow(oid, name, 'b', category, 0, 0, ',', true));
    }

    private void array(int oid, String name, int element) {
        rows.put(oid, new TypeRow(oid, name, 'b', 'A', element, 0, ',', true));
    }

    public TestCatalog with(TypeRow row) {
        rows.put(row.oid(), row);
        return this;
    }

    @Override
    public Map<Integer, TypeRow> load(Collection<Integer> oids) {
        Map<Integer, TypeRow> result = new HashMap<>();
        for (Integer oid : oids) {
            TypeRow row = rows.get(oid);
            if (row != null) {
                result.put(oid, row);
                if (row.elementOid() != 0) {
                    result.putAll(load(java.util.List.of(row.elementOid())));
                }
                if (row.baseTypeOid() != 0) {
                    result.putAll(load(java.util.List.of(row.baseTypeOid())));
                }
            }
        }
        return result;
    }
}
