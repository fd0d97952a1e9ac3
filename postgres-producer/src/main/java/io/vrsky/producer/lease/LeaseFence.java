package io.vrsky.producer.lease;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * Run first in a sink transaction that records applied positions: throws {@link LeaseLostException}
 * unless this instance still holds the lease, and keeps the lease row locked against a takeover
 * until that transaction ends.
 */
@FunctionalInterface
public interface LeaseFence {

    /** No fencing (a single producer that does not take part in a lease, and unit tests). */
    LeaseFence NONE = connection -> { };

    /**
     * @throws LeaseLostException when another instance holds the lease now
     * @throws SQLException       when the check cannot be made (the transaction is then rolled back)
     */
    void check(Connection connection) throws SQLException;
}
