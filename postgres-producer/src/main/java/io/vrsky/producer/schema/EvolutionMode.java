package io.vrsky.producer.schema;

/** {@code POSTGRES_OUTPUT_SCHEMA_EVOLUTION}: what the producer does when the source's table changed. */
public enum EvolutionMode {
    /**
     * Follow the source where it is safe: add columns, widen types, rename columns, relax NOT NULL
     * on dropped ones, in the same sink transaction as the first change that needs it; pause on
     * anything else.
     */
    ADDITIVE,
    /** Never change a sink table: every difference pauses until it is fixed by hand. */
    NONE
}
