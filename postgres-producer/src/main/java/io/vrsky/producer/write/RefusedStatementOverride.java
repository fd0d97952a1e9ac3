package io.vrsky.producer.write;

import com.zaxxer.hikari.SQLExceptionOverride;

import java.sql.SQLException;

/**
 * Tells HikariCP that SQLSTATE class 0A (feature not supported) is about the statement, not the
 * connection. HikariCP evicts and closes a connection on 0A000, but PostgreSQL uses it for
 * statements it refuses on a healthy connection ({@code INSERT ... ON CONFLICT} or
 * {@code UPDATE ... RETURNING} on a table with rules, for instance): the writer must keep the
 * connection to roll back to its savepoint and dead-letter the message ({@link SqlErrors} counts
 * 0A as poison). Every other failure keeps HikariCP's own judgement.
 *
 * <p>HikariCP creates it by class name ({@code exceptionOverrideClassName}).
 */
public final class RefusedStatementOverride implements SQLExceptionOverride {

    @java.lang.Override
    public Override adjudicate(SQLException e) {
        String state = e.getSQLState();
        return state != null && state.startsWith("0A") ? Override.DO_NOT_EVICT : Override.CONTINUE_EVICT;
    }
}
