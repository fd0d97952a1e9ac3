package io.vrsky.core.pg;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

import java.io.IOException;
import java.net.ConnectException;
import java.sql.BatchUpdateException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;

import static org.assertj.core.api.Assertions.assertThat;

class PgErrorsTest {

    /** A server error as PgJDBC builds it from the wire fields (S severity, C code, M message, D detail). */
    private static PSQLException server(String severity, String state, String message, String detail) {
        String fields = "S" + severity + "\0V" + severity + "\0C" + state + "\0M" + message + "\0" + (detail == null ? "" : "D" + detail + "\0");
        return new PSQLException(new ServerErrorMessage(fields), false);
    }

    @ParameterizedTest
    @ValueSource(strings = {"08000", "08001", "08006", "40001", "40P01", "57P01", "57P02", "57P03", "53300", "55P03", "57014"})
    void shouldRetryConnectionProblemsDeadlocksAndServerRestarts(String state) {
        assertThat(PgErrors.isRetryable(new SQLException("x", state))).isTrue();
        assertThat(PgErrors.isLoginOrMissingDatabase(new SQLException("x", state))).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"28000", "28P01", "3D000"})
    void shouldTreatARefusedLoginOrMissingDatabaseAsPermanent(String state) {
        assertThat(PgErrors.isRetryable(new SQLException("x", state))).isFalse();
        assertThat(PgErrors.isLoginOrMissingDatabase(new SQLException("x", state))).isTrue();
        assertThat(PgErrors.isPermanent(new SQLException("x", state))).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"23505", "22003", "42703", "42P01", "XX000"})
    void shouldLeaveDataAndCatalogErrorsToTheCaller(String state) {
        assertThat(PgErrors.isRetryable(new SQLException("x", state))).isFalse();
        assertThat(PgErrors.isPermanent(new SQLException("x", state))).isFalse();
    }

    @Test
    void shouldTreatAMissingPrivilegeAsPermanentButNotAsARefusedLogin() {
        assertThat(PgErrors.isPermanent(new SQLException("x", "42501"))).isTrue();
        assertThat(PgErrors.isLoginOrMissingDatabase(new SQLException("x", "42501"))).isFalse();
    }

    @Test
    void shouldRetryIoErrorsAndPoolTimeoutsWithoutAServerAnswer() {
        assertThat(PgErrors.isRetryable(new SQLTransientConnectionException("pool - Connection is not available"))).isTrue();
        assertThat(PgErrors.isRetryable(new IllegalStateException(new IOException("broken pipe")))).isTrue();
        assertThat(PgErrors.isRetryable(new IllegalStateException("bug"))).isFalse();
    }

    @Test
    void shouldFindTheStateUnderAPoolTimeout() {
        SQLException timeout = new SQLTransientConnectionException("pool - Connection is not available, request timed out after 5003ms",
                null, server("FATAL", "28000", "role \"x\" does not exist", null));

        assertThat(PgErrors.sqlState(timeout)).isEqualTo("28000");
        assertThat(PgErrors.isLoginOrMissingDatabase(timeout)).isTrue();
        assertThat(PgErrors.serverMessage(timeout)).isEqualTo("FATAL: role \"x\" does not exist");
    }

    @Test
    void shouldFindTheStateOfABatchsNextException() {
        BatchUpdateException batch = new BatchUpdateException("Batch entry 0 was aborted", new int[0]);
        batch.setNextException(server("ERROR", "23505", "duplicate key value violates unique constraint \"t_pkey\"", "Key (id)=(1)"));

        assertThat(PgErrors.sqlState(batch)).isEqualTo("23505");
        assertThat(PgErrors.serverMessage(batch)).isEqualTo("ERROR: duplicate key value violates unique constraint \"t_pkey\"");
    }

    @Test
    void shouldNeverQuoteTheDetailLine() {
        PSQLException e = server("ERROR", "23514", "new row for relation \"t\" violates check constraint \"ok\"",
                "Failing row contains (1, 世界).");

        assertThat(PgErrors.serverMessage(new RuntimeException(e))).isEqualTo("ERROR: new row for relation \"t\" violates check constraint \"ok\"")
                .doesNotContain("Failing row");
    }

    @Test
    void shouldUseTheInnermostSqlMessageWhenTheServerNeverAnswered() {
        SQLException refused = new PSQLException("Connection to 127.0.0.1:1 refused. Check that the hostname and port are correct.",
                org.postgresql.util.PSQLState.CONNECTION_UNABLE_TO_CONNECT, new ConnectException("Connection refused"));
        SQLException timeout = new SQLTransientConnectionException("pool - Connection is not available", "08001", refused);

        assertThat(PgErrors.serverMessage(timeout)).startsWith("Connection to 127.0.0.1:1 refused.");
        assertThat(PgErrors.serverMessage(new IllegalStateException("first line\nsecond"))).isEqualTo("first line");
        assertThat(PgErrors.sqlState(new IllegalStateException())).isNull();
    }
}
