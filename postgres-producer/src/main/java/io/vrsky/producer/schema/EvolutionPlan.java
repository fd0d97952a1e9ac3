package io.vrsky.producer.schema;

import io.vrsky.core.model.TableId;
import io.vrsky.producer.plan.SchemaDifference.TypeDifference;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What makes a sink table follow the source's description of it: the table changes, in order
 * (renames first), the differences that cannot be followed automatically, and the updates of the
 * producer's record of which sink column each source attnum maps to.
 *
 * @param changes       sink table changes, in the order they are applied
 * @param refusedTypes  type differences the producer does not follow by itself
 * @param problems      other reasons to pause, one clause each naming the column
 * @param mappingPuts   source attnum → sink column name, to record
 * @param mappingDrops  source attnums the source no longer has
 * @param typePuts      source attnum → the source type it has now, to record where it differs from the record
 */
record EvolutionPlan(TableId table, List<ColumnChange> changes, List<TypeDifference> refusedTypes, List<String> problems,
                     Map<Integer, String> mappingPuts, Set<Integer> mappingDrops, Map<Integer, SourceType> typePuts) {

    EvolutionPlan {
        Objects.requireNonNull(table, "table");
        changes = List.copyOf(changes);
        refusedTypes = List.copyOf(refusedTypes);
        problems = List.copyOf(problems);
        mappingPuts = Map.copyOf(mappingPuts);
        mappingDrops = Set.copyOf(mappingDrops);
        typePuts = Map.copyOf(typePuts);
    }

    /** Nothing to change, nothing to refuse, nothing to record. */
    boolean isEmpty() {
        return changes.isEmpty() && !refused() && mappingPuts.isEmpty() && mappingDrops.isEmpty()
                && typePuts.isEmpty();
    }

    /** Something cannot be followed automatically: pause. */
    boolean refused() {
        return !refusedTypes.isEmpty() || !problems.isEmpty();
    }
}
