package io.vrsky.consumer.encode;

import io.vrsky.consumer.pgoutput.PgOutputMessage.Relation;
import io.vrsky.consumer.pgoutput.PgOutputMessage.RelationColumn;
import io.vrsky.core.model.TableId;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The relations pgoutput described in this session, by relation id, with their column types
 * resolved through the {@link TypeRegistry}.
 *
 * <p>Key flags: pgoutput flags the replica identity columns, which under REPLICA IDENTITY FULL is
 * every column. For such tables the primary key (when there is one) is looked up instead, so
 * that {@code key} keeps meaning "identifies the row" for the producer.
 *
 * <p>Used by the replication thread only; not thread-safe.
 */
public final class RelationCache {

    /** The primary key column names of a relation; empty when it has none. */
    @FunctionalInterface
    public interface PrimaryKeyLookup {
        Set<String> primaryKey(int relationId) throws Exception;
    }

    private final TypeRegistry types;
    private final PrimaryKeyLookup primaryKeys;
    private final Map<Integer, RelationInfo> relations = new HashMap<>();

    public RelationCache(TypeRegistry types, PrimaryKeyLookup primaryKeys) {
        this.types = types;
        this.primaryKeys = primaryKeys;
    }

    public RelationInfo put(Relation relation) throws Exception {
        List<Integer> oids = new ArrayList<>();
        for (RelationColumn c : relation.columns()) {
            oids.add(c.typeOid());
        }
        types.preload(oids);
        Set<String> pk = relation.replicaIdentity() == 'f' ? primaryKeys.primaryKey(relation.relationId()) : Set.of();
        List<RelationInfo.Column> columns = new ArrayList<>(relation.columns().size());
        for (RelationColumn c : relation.columns()) {
            boolean key = pk.isEmpty() ? c.key() : pk.contains(c.name());
            columns.add(new RelationInfo.Column(c.name(), types.resolve(c.typeOid()), key));
        }
        RelationInfo info = new RelationInfo(relation.relationId(), new TableId(relation.schema(), relation.name()),
                relation.replicaIdentity(), columns);
        relations.put(relation.relationId(), info);
        return info;
    }

    /** The relation, or null when pgoutput has not described it. */
    public RelationInfo get(int relationId) {
        return relations.get(relationId);
    }

    public void invalidateType(int oid) {
        types.invalidate(oid);
    }
}
