package io.vrsky.producer.plan;

import io.vrsky.core.model.Change;
import io.vrsky.producer.catalog.TableMeta;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * Decides what a change whose column list (the source's description of its table) differs from the
 * sink table means: apply it as it is, make the sink table fit first (schema evolution: add a
 * column, widen a type, in the sink transaction the change is applied in), or pause the line until
 * the sink is fixed ({@link SchemaMismatchException}). Called by {@link ChangeValidator} once per
 * column list and sink table it has not seen together before.
 */
@FunctionalInterface
public interface SchemaPolicy {

    /**
     * @param connection the sink transaction the change will be applied in; a policy that changes the
     *                   sink table does it here, so the change and the table change commit together
     * @param source     the envelope's source ({@code postgres-consumer/<database>/<slot>}), or null
     * @param table      the sink table as the catalog describes it now
     * @param change     a change that carries its column list
     * @param before     to call right before the policy changes the sink table: what was prepared
     *                   before this change must be applied before the table changes
     * @return the table to apply the change to: {@code table}, or the catalog's description of it
     *         after the policy changed it
     * @throws SchemaMismatchException the sink table does not fit and the policy does not (or cannot)
     *                                 make it fit: pause
     * @throws SchemaChangeAhead       thrown by {@code before}: the caller wants the change in a sink
     *                                 transaction of its own
     */
    TableMeta reconcile(Connection connection, String source, TableMeta table, Change change, BeforeSchemaChange before)
            throws SQLException, SchemaMismatchException, SchemaChangeAhead;

    /** The sink transaction the policy may have changed tables in committed. */
    default void committed() {
    }

    /**
     * The sink transaction the policy may have changed tables in was rolled back (wholly): whatever
     * it changed is undone, and the catalog's description of those tables must be read again.
     *
     * @return whether it had changed any sink table in that transaction (the changes prepared against
     *         the changed table must be prepared again)
     */
    default boolean rolledBack() {
        return false;
    }

    /**
     * No automatic evolution: a missing column pauses; a type difference alone does not (the value
     * is cast to the sink's type, and fails on its data if it does not fit).
     */
    SchemaPolicy PAUSE_ON_MISSING = (connection, source, table, change, before) -> {
        SchemaDifference difference = ChangeValidator.difference(table, change);
        if (!difference.missingColumns().isEmpty()) {
            throw new SchemaMismatchException(difference);
        }
        return table;
    };
}
