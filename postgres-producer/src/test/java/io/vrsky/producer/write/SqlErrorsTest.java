package io.vrsky.producer.write;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;

import static org.assertj.core.api.Assertions.assertThat;

class SqlErrorsTest {

    private static SQLException state(String sqlState) {
        return new SQLException("boom", sqlState);
    }

    @Test
    void shouldRetryConnectionLossDeadlocksSerializationAndShutdowns() {
        for (String s : new String[] {"08006", "08001", "40001", "40P01", "57P01", "57P03"}) {
            assertThat(SqlErrors.classify(state(s))).as(s).isEqualTo(SqlErrors.Kind.RETRYABLE);
        }
        assertThat(SqlErrors.classify(new SQLTransientConnectionException("pool timeout"))).isEqualTo(SqlErrors.Kind.RETRYABLE);
        assertThat(SqlErrors.classify(new RuntimeException(new IOException("reset")))).isEqualTo(SqlErrors.Kind.RETRYABLE);
    }

    @Test
    void shouldBlameTheMessageForDataAndConstraintErrors() {
        for (String s : new String[] {"23505", "23502", "22P02", "22003", "21000", "02000", "P0001"}) {
            assertThat(SqlErrors.classify(state(s))).as(s).isEqualTo(SqlErrors.Kind.POISON);
        }
    }

    @Test
    void shouldRefreshTheCatalogOnUndefinedColumnOrTable() {
        assertThat(SqlErrors.classify(state("42703"))).isEqualTo(SqlErrors.Kind.STALE_CATALOG);
        assertThat(SqlErrors.classify(state("42P01"))).isEqualTo(SqlErrors.Kind.STALE_CATALOG);
    }

    @Test
    void shouldStopOnPermissionAndAuthenticationFailures() {
        assertThat(SqlErrors.classify(state("42501"))).isEqualTo(SqlErrors.Kind.FATAL);
        assertThat(SqlErrors.classify(state("28P01"))).isEqualTo(SqlErrors.Kind.FATAL);
        assertThat(SqlErrors.classify(new IllegalStateException("bug"))).isEqualTo(SqlErrors.Kind.FATAL);
    }

    @Test
    void shouldFindTheStateInTheCauseChain() {
        assertThat(SqlErrors.sqlState(new RuntimeException(state("40P01")))).isEqualTo("40P01");
        SQLException batch = new SQLException("batch failed");
        batch.setNextException(state("23505"));
        assertThat(SqlErrors.sqlState(batch)).isEqualTo("23505");
    }
}
