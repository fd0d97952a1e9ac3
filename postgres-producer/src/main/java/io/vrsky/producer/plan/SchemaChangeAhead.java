package io.vrsky.producer.plan;

/**
 * The next change needs the sink table changed first, and the writer wants what it prepared before
 * it committed before that: it ends the sink transaction there and starts the next one with the
 * change (so the table change and the first change that needs it still commit together).
 */
public final class SchemaChangeAhead extends Exception {
    private static final long serialVersionUID = 1L;

    public SchemaChangeAhead() {
        super("a schema change comes next", null, false, false);
    }
}
