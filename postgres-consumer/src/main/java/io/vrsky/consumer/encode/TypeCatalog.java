package io.vrsky.consumer.encode;

import java.util.Collection;
import java.util.Map;

/** Where {@link TypeRegistry} looks types up: pg_type, in production. */
@FunctionalInterface
public interface TypeCatalog {

    /** One pg_type row. {@code builtin} is true for types in pg_catalog. */
    record TypeRow(int oid, String name, char type, char category, int elementOid, int baseTypeOid, char delimiter,
                   boolean builtin) {
    }

    /**
     * The rows of {@code oids} and of every element and base type they refer to, transitively.
     *
     * @throws Exception when the catalog cannot be read (the caller retries the session)
     */
    Map<Integer, TypeRow> load(Collection<Integer> oids) throws Exception;
}
