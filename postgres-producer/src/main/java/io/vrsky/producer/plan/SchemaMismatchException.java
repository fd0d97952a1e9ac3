package io.vrsky.producer.plan;

/**
 * A change that carries its column list names a table or column the sink lacks, and the
 * {@link SchemaPolicy} says to pause: not bad data, so never dead-lettered.
 */
public final class SchemaMismatchException extends Exception {
    private static final long serialVersionUID = 1L;

    private final transient SchemaDifference difference;

    public SchemaMismatchException(SchemaDifference difference) {
        super(difference.describe(), null, false, false);
        this.difference = difference;
    }

    public SchemaDifference difference() {
        return difference;
    }
}
