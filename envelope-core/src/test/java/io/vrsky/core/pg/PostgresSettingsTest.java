package io.vrsky.core.pg;

import io.vrsky.core.config.ConfigException;
import io.vrsky.core.config.Env;
import io.vrsky.core.config.SslMode;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PostgresSettingsTest {

    private static PostgresSettings read(Map<String, String> vars, String direction) {
        Env env = new Env(vars);
        PostgresSettings pg = PostgresSettings.read(env, direction);
        env.validate();
        return pg;
    }

    @Test
    void shouldReadTheOutputVariablesWithTheirDefaults() {
        PostgresSettings pg = read(Map.of("POSTGRES_OUTPUT_HOST", "db", "POSTGRES_OUTPUT_USER", "writer",
                "POSTGRES_OUTPUT_PASSWORD", "s3cret", "POSTGRES_OUTPUT_DATABASE", "sink"), PostgresSettings.OUTPUT);

        assertThat(pg).isEqualTo(new PostgresSettings("db", 5432, "writer", "s3cret", "sink", SslMode.PREFER));
        assertThat(pg.jdbcUrl()).isEqualTo("jdbc:postgresql://db:5432/sink");
        assertThat(pg.target()).isEqualTo("PostgreSQL at db:5432/sink");
        assertThat(pg.toString()).doesNotContain("s3cret");
    }

    @Test
    void shouldBracketAnIpv6HostOnce() {
        assertThat(new PostgresSettings("::1", 5433, "u", "", "d", SslMode.DISABLE).jdbcUrl()).isEqualTo("jdbc:postgresql://[::1]:5433/d");
        assertThat(new PostgresSettings("[::1]", 5433, "u", "", "d", SslMode.DISABLE).jdbcUrl()).isEqualTo("jdbc:postgresql://[::1]:5433/d");
        assertThat(new PostgresSettings("fe80::1", 5432, "u", "", "d", SslMode.DISABLE).target()).isEqualTo("PostgreSQL at [fe80::1]:5432/d");
    }

    @Test
    void shouldReportEachProblemNamingTheVariableAndNeverThePassword() {
        assertThatThrownBy(() -> read(Map.of("POSTGRES_INPUT_PORT", "99999", "POSTGRES_INPUT_PASSWORD", "do-not-print",
                "POSTGRES_INPUT_SSLMODE", "maybe"), PostgresSettings.INPUT))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems()).containsExactly(
                        "POSTGRES_INPUT_HOST is required (the PostgreSQL host to capture changes from)",
                        "POSTGRES_INPUT_PORT=99999 is out of range: allowed 1..65535",
                        "POSTGRES_INPUT_USER is required (a role with the REPLICATION privilege)",
                        "POSTGRES_INPUT_DATABASE is required (the database to capture changes from)",
                        "POSTGRES_INPUT_SSLMODE=maybe is not allowed: allowed disable | allow | prefer | require | verify-ca | verify-full"))
                .hasMessageNotContaining("do-not-print");
    }
}
