package io.vrsky.producer.plan;

/**
 * Decides what a difference between the source's and the sink's table means: apply the change as
 * it is, or pause the line until the sink is fixed. The point where automatic schema evolution
 * (adding a column, widening a type in the same sink transaction) comes in.
 */
@FunctionalInterface
public interface SchemaPolicy {

    /** What to do about a difference. */
    enum Decision {
        /** Go on: the change can be applied to the sink table as it is. */
        APPLY,
        /** Apply nothing from this change on until the sink table is fixed. */
        PAUSE
    }

    Decision decide(SchemaDifference difference);

    /**
     * No automatic evolution: a missing table or column pauses; a type difference alone does not
     * (the value is cast to the sink's type, and fails on its data if it does not fit).
     */
    SchemaPolicy PAUSE_ON_MISSING = d -> d.tableMissing() || !d.missingColumns().isEmpty() ? Decision.PAUSE : Decision.APPLY;
}
