package io.vrsky.consumer.monitor;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * One ordinary (not replication) connection to the source, opened when first needed and again
 * after a failure, for the slot monitor and the heartbeat. Kept apart from the catalog pool so a
 * slow catalog query never delays them, and from the replication connection, which cannot run
 * these queries while it streams.
 *
 * <p>Not thread-safe: one scheduler thread uses it.
 */
public final class SideConnection implements AutoCloseable {

    private final DataSource source;
    private Connection connection;

    public SideConnection(DataSource source) {
        this.source = source;
    }

    /** The open connection, opening it when there is none. */
    Connection get() throws SQLException {
        if (connection == null || connection.isClosed()) {
            connection = source.getConnection();
            connection.setAutoCommit(true);
        }
        return connection;
    }

    /** Closes the connection after a failure; the next {@link #get()} opens a new one. */
    void discard() {
        close();
    }

    @Override
    public void close() {
        Connection c = connection;
        connection = null;
        if (c != null) {
            try {
                c.close();
            } catch (SQLException e) {
                // the connection is being thrown away; nothing depends on a clean close
                org.slf4j.LoggerFactory.getLogger(SideConnection.class).debug("closing the monitor connection: {}", e.toString());
            }
        }
    }
}
