package io.vrsky.producer.plan;

import java.sql.SQLException;

/**
 * Called by a {@link SchemaPolicy} right before it changes a sink table for a change (DDL): the
 * changes prepared before it were prepared against the table as it was, so they must be applied
 * first. A writer either applies them now, in the same sink transaction, or refuses with
 * {@link SchemaChangeAhead} to commit them first and come back to this change in a new one.
 */
@FunctionalInterface
public interface BeforeSchemaChange {

    void run() throws SQLException, SchemaChangeAhead;

    /** Nothing was prepared before the change (or it does not matter). */
    BeforeSchemaChange NOTHING = () -> {
    };
}
