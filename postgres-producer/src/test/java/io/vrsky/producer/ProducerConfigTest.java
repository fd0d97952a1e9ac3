package io.vrsky.producer;

import io.vrsky.core.config.ConfigException;
import io.vrsky.core.config.SslMode;
import io.vrsky.core.model.TableId;
import io.vrsky.producer.plan.ConflictStrategy;
import io.vrsky.producer.schema.EvolutionMode;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class ProducerConfigTest {

    private static Map<String, String> minimal() {
        Map<String, String> env = new HashMap<>();
        env.put("POSTGRES_OUTPUT_HOST", "db.example");
        env.put("POSTGRES_OUTPUT_USER", "writer");
        env.put("POSTGRES_OUTPUT_PASSWORD", "s3cret-pw");
        env.put("POSTGRES_OUTPUT_DATABASE", "sink");
        env.put("POSTGRES_OUTPUT_TABLES", "orders, audit.events");
        return env;
    }

    @Test
    void shouldApplyTheDefaultsOfTheDesign() {
        ProducerConfig config = ProducerConfig.fromEnv(minimal());

        assertThat(config.port()).isEqualTo(5432);
        assertThat(config.batchSize()).isEqualTo(100);
        assertThat(config.flushInterval()).isEqualTo(Duration.ofSeconds(5));
        assertThat(config.conflictStrategy()).isEqualTo(ConflictStrategy.UPSERT);
        assertThat(config.sslMode()).isEqualTo(SslMode.PREFER);
        assertThat(config.nats().subject()).isEqualTo("vrsky.cdc.>");
        assertThat(config.nats().stream()).isEqualTo("VRSKY_CDC");
        assertThat(config.nats().dlqSubject()).isEqualTo("vrsky.dlq.postgres-producer");
        assertThat(config.durable()).isEqualTo("postgres-producer");
        assertThat(config.healthPort()).isEqualTo(8080);
        assertThat(config.schemaEvolution()).isEqualTo(EvolutionMode.ADDITIVE);
        assertThat(config.tables().tables()).containsExactly(new TableId("public", "orders"), new TableId("audit", "events"));
    }

    @Test
    void shouldReadEveryVariable() {
        Map<String, String> env = minimal();
        env.put("POSTGRES_OUTPUT_PORT", "6543");
        env.put("POSTGRES_OUTPUT_BATCH_SIZE", "1000");
        env.put("POSTGRES_OUTPUT_FLUSH_INTERVAL", "500ms");
        env.put("POSTGRES_OUTPUT_CONFLICT_STRATEGY", "update");
        env.put("POSTGRES_OUTPUT_POOL_SIZE", "8");
        env.put("POSTGRES_OUTPUT_SSLMODE", "verify-full");
        env.put("NATS_DURABLE", "sink-1");
        env.put("NATS_ACK_WAIT", "2m");
        env.put("HEALTH_PORT", "0");
        env.put("POSTGRES_OUTPUT_SCHEMA_EVOLUTION", "none");

        ProducerConfig config = ProducerConfig.fromEnv(env);

        assertThat(config.port()).isEqualTo(6543);
        assertThat(config.batchSize()).isEqualTo(1000);
        assertThat(config.flushInterval()).isEqualTo(Duration.ofMillis(500));
        assertThat(config.conflictStrategy()).isEqualTo(ConflictStrategy.UPDATE);
        assertThat(config.poolSize()).isEqualTo(8);
        assertThat(config.sslMode()).isEqualTo(SslMode.VERIFY_FULL);
        assertThat(config.durable()).isEqualTo("sink-1");
        assertThat(config.ackWait()).isEqualTo(Duration.ofMinutes(2));
        assertThat(config.healthPort()).isZero();
        assertThat(config.schemaEvolution()).isEqualTo(EvolutionMode.NONE);
    }

    @Test
    void shouldReportEveryProblemNamingItsVariable() {
        Map<String, String> env = new HashMap<>();
        env.put("POSTGRES_OUTPUT_BATCH_SIZE", "1001");
        env.put("POSTGRES_OUTPUT_FLUSH_INTERVAL", "soon");
        env.put("POSTGRES_OUTPUT_CONFLICT_STRATEGY", "MERGE");
        env.put("NATS_DURABLE", "bad name");
        env.put("LOG_FORMAT", "xml");
        env.put("POSTGRES_OUTPUT_SCHEMA_EVOLUTION", "drop-everything");

        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ProducerConfig.fromEnv(env));

        assertThat(e.problems()).anySatisfy(p -> assertThat(p).startsWith("POSTGRES_OUTPUT_HOST is required"))
                .anySatisfy(p -> assertThat(p).startsWith("POSTGRES_OUTPUT_USER is required"))
                .anySatisfy(p -> assertThat(p).startsWith("POSTGRES_OUTPUT_DATABASE is required"))
                .anySatisfy(p -> assertThat(p).startsWith("POSTGRES_OUTPUT_TABLES is required"))
                .anySatisfy(p -> assertThat(p).startsWith("POSTGRES_OUTPUT_BATCH_SIZE=1001 is out of range: allowed 1..1000"))
                .anySatisfy(p -> assertThat(p).startsWith("POSTGRES_OUTPUT_FLUSH_INTERVAL=soon"))
                .anySatisfy(p -> assertThat(p).startsWith("POSTGRES_OUTPUT_CONFLICT_STRATEGY=MERGE is not allowed: allowed UPSERT | INSERT | UPDATE"))
                .anySatisfy(p -> assertThat(p).startsWith("NATS_DURABLE=bad name"))
                .anySatisfy(p -> assertThat(p).startsWith("LOG_FORMAT=xml"))
                .anySatisfy(p -> assertThat(p).startsWith("POSTGRES_OUTPUT_SCHEMA_EVOLUTION=drop-everything is not allowed: allowed ADDITIVE | NONE"));
    }

    @Test
    void shouldRejectBadTableNamesAndTheOwnPositionTable() {
        Map<String, String> env = minimal();
        env.put("POSTGRES_OUTPUT_TABLES", "a.b.c,ok,\"quoted\",vrsky_applied_position,public.vrsky_source_columns");

        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ProducerConfig.fromEnv(env));

        assertThat(e.problems()).hasSize(4).allSatisfy(p -> assertThat(p).startsWith("POSTGRES_OUTPUT_TABLES"));
        assertThat(String.join("\n", e.problems())).contains("'a.b.c'", "'\"quoted\"'", "vrsky_applied_position", "vrsky_source_columns");
    }

    @Test
    void shouldRejectABatchSizeOfZero() {
        Map<String, String> env = minimal();
        env.put("POSTGRES_OUTPUT_BATCH_SIZE", "0");

        assertThatThrownBy(() -> ProducerConfig.fromEnv(env)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("POSTGRES_OUTPUT_BATCH_SIZE=0 is out of range");
    }

    @Test
    void shouldNeverShowThePassword() {
        ProducerConfig config = ProducerConfig.fromEnv(minimal());

        assertThat(config.toString()).doesNotContain("s3cret-pw").contains("writer", "db.example");
        Map<String, String> env = minimal();
        env.put("POSTGRES_OUTPUT_PORT", "x");
        assertThatThrownBy(() -> ProducerConfig.fromEnv(env)).hasMessageNotContaining("s3cret-pw");
    }

    @Test
    void shouldReadTheDependencyRetryTimeoutAndTheStreamLimits() {
        ProducerConfig defaults = ProducerConfig.fromEnv(minimal());
        Map<String, String> env = minimal();
        env.put("DEPENDENCY_RETRY_TIMEOUT", "10s");
        env.put("NATS_STREAM_MAX_BYTES", "512MB");

        ProducerConfig config = ProducerConfig.fromEnv(env);

        assertThat(defaults.dependencyRetryTimeout()).isEqualTo(Duration.ofMinutes(5));
        assertThat(config.dependencyRetryTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(config.nats().limits().describe()).isEqualTo("max bytes 512MB, discard new");
        assertThat(config.postgres().target()).isEqualTo("PostgreSQL at db.example:5432/sink");
        assertThat(config.postgres().jdbcUrl()).isEqualTo(config.jdbcUrl());
    }

    @Test
    void shouldNameABadDependencyRetryTimeout() {
        Map<String, String> env = minimal();
        env.put("DEPENDENCY_RETRY_TIMEOUT", "forever");

        assertThatThrownBy(() -> ProducerConfig.fromEnv(env)).isInstanceOf(ConfigException.class)
                .hasMessage("DEPENDENCY_RETRY_TIMEOUT=forever is not a duration: allowed forms are 500ms, 5s, 1m, 1h");
    }
}
