package io.vrsky.producer.write;

import com.zaxxer.hikari.SQLExceptionOverride.Override;
import org.junit.jupiter.api.Test;

import java.sql.SQLException;

import static org.assertj.core.api.Assertions.assertThat;

class RefusedStatementOverrideTest {

    private final RefusedStatementOverride override = new RefusedStatementOverride();

    @Test
    void aRefusedStatementShouldKeepItsConnection() {
        assertThat(override.adjudicate(new SQLException("ON CONFLICT is not supported with rules", "0A000")))
                .isEqualTo(Override.DO_NOT_EVICT);
    }

    @Test
    void everythingElseShouldBeLeftToHikari() {
        assertThat(override.adjudicate(new SQLException("terminating connection", "57P01"))).isEqualTo(Override.CONTINUE_EVICT);
        assertThat(override.adjudicate(new SQLException("connection reset", "08006"))).isEqualTo(Override.CONTINUE_EVICT);
        assertThat(override.adjudicate(new SQLException("no state"))).isEqualTo(Override.CONTINUE_EVICT);
    }
}
