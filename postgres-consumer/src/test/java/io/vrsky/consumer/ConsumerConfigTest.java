package io.vrsky.consumer;

import io.vrsky.core.config.ConfigException;
import io.vrsky.core.config.SslMode;
import io.vrsky.core.model.Operation;
import io.vrsky.core.model.TableId;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConsumerConfigTest {

    private static Map<String, String> minimal() {
        Map<String, String> env = new HashMap<>();
        env.put("POSTGRES_INPUT_HOST", "db.example");
        env.put("POSTGRES_INPUT_USER", "cdc");
        env.put("POSTGRES_INPUT_PASSWORD", "s3cret");
        env.put("POSTGRES_INPUT_DATABASE", "Shop-DB");
        return env;
    }

    @Test
    void shouldApplyTheDefaultsOfTheDesign() {
        ConsumerConfig c = ConsumerConfig.fromEnv(minimal());

        assertThat(c.port()).isEqualTo(5432);
        assertThat(c.slot()).isEqualTo("vrsky_shop_db");
        assertThat(c.publication()).isEqualTo("vrsky_pub");
        assertThat(c.tables()).isEmpty();
        assertThat(c.operations()).isEmpty();
        assertThat(c.batchSize()).isEqualTo(100);
        assertThat(c.batchTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(c.sslMode()).isEqualTo(SslMode.PREFER);
        assertThat(c.nats().subject()).isEqualTo("vrsky.cdc.Shop-DB");
        assertThat(c.nats().stream()).isEqualTo("VRSKY_CDC");
        assertThat(c.nats().dlqSubject()).isEqualTo("vrsky.dlq.postgres-consumer");
        assertThat(c.healthPort()).isEqualTo(8080);
        assertThat(c.source()).isEqualTo("postgres-consumer/Shop-DB/vrsky_shop_db");
    }

    @Test
    void shouldReadTablesOperationsAndBatching() {
        Map<String, String> env = minimal();
        env.put("POSTGRES_INPUT_TABLES", "orders, sales.items ,orders");
        env.put("POSTGRES_INPUT_OPERATIONS", "insert,DELETE");
        env.put("POSTGRES_INPUT_BATCH_SIZE", "500");
        env.put("POSTGRES_INPUT_BATCH_TIMEOUT", "250ms");

        ConsumerConfig c = ConsumerConfig.fromEnv(env);

        assertThat(c.tables()).containsExactly(new TableId("public", "orders"), new TableId("sales", "items"));
        assertThat(c.operations()).containsExactlyInAnyOrder(Operation.INSERT, Operation.DELETE);
        assertThat(c.batchSize()).isEqualTo(500);
        assertThat(c.batchTimeout()).isEqualTo(Duration.ofMillis(250));
    }

    @Test
    void shouldReportEveryProblemAtOnceNamingTheVariable() {
        Map<String, String> env = new HashMap<>();
        env.put("POSTGRES_INPUT_PORT", "70000");
        env.put("POSTGRES_INPUT_REPLICATION_SLOT", "Bad-Slot");
        env.put("POSTGRES_INPUT_TABLES", "ok,drop table;x");
        env.put("POSTGRES_INPUT_OPERATIONS", "UPSERT");
        env.put("POSTGRES_INPUT_BATCH_TIMEOUT", "soon");
        env.put("POSTGRES_INPUT_SSLMODE", "maybe");
        env.put("NATS_SUBJECT", "vrsky.cdc.>");

        assertThatThrownBy(() -> ConsumerConfig.fromEnv(env)).isInstanceOfSatisfying(ConfigException.class, e -> {
            assertThat(e.problems()).anyMatch(p -> p.startsWith("POSTGRES_INPUT_HOST"))
                    .anyMatch(p -> p.startsWith("POSTGRES_INPUT_USER"))
                    .anyMatch(p -> p.startsWith("POSTGRES_INPUT_DATABASE"))
                    .anyMatch(p -> p.startsWith("POSTGRES_INPUT_PORT=70000"))
                    .anyMatch(p -> p.startsWith("POSTGRES_INPUT_REPLICATION_SLOT=Bad-Slot"))
                    .anyMatch(p -> p.startsWith("POSTGRES_INPUT_TABLES") && p.contains("drop table;x"))
                    .anyMatch(p -> p.startsWith("POSTGRES_INPUT_OPERATIONS") && p.contains("UPSERT"))
                    .anyMatch(p -> p.startsWith("POSTGRES_INPUT_BATCH_TIMEOUT=soon"))
                    .anyMatch(p -> p.startsWith("POSTGRES_INPUT_SSLMODE=maybe"))
                    .anyMatch(p -> p.startsWith("NATS_SUBJECT=vrsky.cdc.>"));
            assertThat(e.problems()).hasSize(10);
        });
    }

    @Test
    void shouldReadTheSnapshotSettingsWithTheirDefaults() {
        ConsumerConfig defaults = ConsumerConfig.fromEnv(minimal());
        assertThat(defaults.snapshot()).isEqualTo(new io.vrsky.consumer.snapshot.SnapshotSettings(
                io.vrsky.consumer.snapshot.SnapshotSettings.Mode.INITIAL, null, 2, 1000));

        Map<String, String> env = minimal();
        env.put("POSTGRES_INPUT_SNAPSHOT_MODE", "never");
        env.put("POSTGRES_INPUT_SIGNAL_TABLE", "ops.vrsky_signal");
        env.put("POSTGRES_INPUT_SNAPSHOT_PARALLELISM", "4");
        env.put("POSTGRES_INPUT_SNAPSHOT_CHUNK_ROWS", "5000");
        ConsumerConfig c = ConsumerConfig.fromEnv(env);
        assertThat(c.snapshot().mode()).isEqualTo(io.vrsky.consumer.snapshot.SnapshotSettings.Mode.NEVER);
        assertThat(c.snapshot().signalTable()).isEqualTo(new io.vrsky.core.model.TableId("ops", "vrsky_signal"));
        assertThat(c.snapshot().parallelism()).isEqualTo(4);
        assertThat(c.snapshot().chunkRows()).isEqualTo(5000);
    }

    @Test
    void shouldRefuseBadSnapshotSettingsNamingEachVariable() {
        Map<String, String> env = minimal();
        env.put("POSTGRES_INPUT_SNAPSHOT_MODE", "sometimes");
        env.put("POSTGRES_INPUT_SIGNAL_TABLE", "no_schema");
        env.put("POSTGRES_INPUT_SNAPSHOT_PARALLELISM", "17");
        env.put("POSTGRES_INPUT_SNAPSHOT_CHUNK_ROWS", "100001");
        env.put("POSTGRES_INPUT_OPERATIONS", "INSERT,READ");

        assertThatThrownBy(() -> ConsumerConfig.fromEnv(env)).isInstanceOf(io.vrsky.core.config.ConfigException.class)
                .hasMessageContaining("POSTGRES_INPUT_SNAPSHOT_MODE=sometimes").hasMessageContaining("POSTGRES_INPUT_SIGNAL_TABLE=no_schema")
                .hasMessageContaining("POSTGRES_INPUT_SNAPSHOT_PARALLELISM").hasMessageContaining("POSTGRES_INPUT_SNAPSHOT_CHUNK_ROWS")
                .hasMessageContaining("POSTGRES_INPUT_OPERATIONS contains 'READ'");
    }

    @Test
    void shouldReadTheEnvelopeFormat() {
        assertThat(ConsumerConfig.fromEnv(minimal()).compactEnvelopes()).as("default: the standard layout").isFalse();
        Map<String, String> env = minimal();
        env.put("POSTGRES_INPUT_ENVELOPE_FORMAT", "compact");
        assertThat(ConsumerConfig.fromEnv(env).compactEnvelopes()).isTrue();
        env.put("POSTGRES_INPUT_ENVELOPE_FORMAT", " standard ");
        assertThat(ConsumerConfig.fromEnv(env).compactEnvelopes()).isFalse();
        env.put("POSTGRES_INPUT_ENVELOPE_FORMAT", "binary");
        assertThatThrownBy(() -> ConsumerConfig.fromEnv(env)).isInstanceOf(io.vrsky.core.config.ConfigException.class)
                .hasMessageContaining("POSTGRES_INPUT_ENVELOPE_FORMAT=binary is not allowed: use standard or compact");
    }

    @Test
    void shouldNeverShowThePassword() {
        Map<String, String> env = minimal();
        env.put("POSTGRES_INPUT_BATCH_SIZE", "0");

        assertThat(ConsumerConfig.fromEnv(minimal()).toString()).doesNotContain("s3cret");
        assertThatThrownBy(() -> ConsumerConfig.fromEnv(env)).hasMessageNotContaining("s3cret");
    }

    @Test
    void shouldReadTheDependencyRetryTimeoutAndTheStreamLimits() {
        ConsumerConfig defaults = ConsumerConfig.fromEnv(minimal());
        Map<String, String> env = minimal();
        env.put("DEPENDENCY_RETRY_TIMEOUT", "30s");
        env.put("NATS_STREAM_MAX_AGE", "7d");
        env.put("NATS_STREAM_MAX_BYTES", "10GB");
        env.put("NATS_STREAM_DISCARD", "old");

        ConsumerConfig c = ConsumerConfig.fromEnv(env);

        assertThat(defaults.dependencyRetryTimeout()).isEqualTo(Duration.ofMinutes(5));
        assertThat(defaults.nats().limits()).isEqualTo(io.vrsky.core.config.StreamLimits.NONE);
        assertThat(c.dependencyRetryTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.nats().limits().describe()).isEqualTo("max age 7d, max bytes 10GB, discard old");
        assertThat(c.postgres().target()).isEqualTo("PostgreSQL at db.example:5432/Shop-DB");
    }

    @Test
    void shouldNameEachBadNewVariable() {
        Map<String, String> env = minimal();
        env.put("DEPENDENCY_RETRY_TIMEOUT", "1s");
        env.put("NATS_STREAM_MAX_BYTES", "lots");
        env.put("NATS_STREAM_DISCARD", "none");

        assertThatThrownBy(() -> ConsumerConfig.fromEnv(env)).isInstanceOfSatisfying(ConfigException.class, e ->
                assertThat(e.problems()).containsExactlyInAnyOrder(
                        "DEPENDENCY_RETRY_TIMEOUT=1s is out of range: allowed 10s..7d",
                        "NATS_STREAM_MAX_BYTES=lots is not a size: allowed forms are 1048576, 512MB, 10GB, 1TB",
                        "NATS_STREAM_DISCARD=none is not allowed: allowed new | old"));
    }

    @Test
    void shouldReadTheHeartbeatIntervalAndHealthBind() {
        assertThat(ConsumerConfig.fromEnv(minimal()).heartbeatInterval()).isEqualTo(Duration.ofSeconds(10));
        assertThat(ConsumerConfig.fromEnv(minimal()).healthBind()).isEqualTo("0.0.0.0");
        Map<String, String> env = minimal();
        env.put("POSTGRES_INPUT_HEARTBEAT_INTERVAL", "0");
        env.put("HEALTH_BIND", "127.0.0.1");
        ConsumerConfig off = ConsumerConfig.fromEnv(env);
        assertThat(off.heartbeatInterval()).isZero();
        assertThat(off.healthBind()).isEqualTo("127.0.0.1");
        env.put("POSTGRES_INPUT_HEARTBEAT_INTERVAL", "250ms");
        assertThat(ConsumerConfig.fromEnv(env).heartbeatInterval()).isEqualTo(Duration.ofMillis(250));
    }

    @Test
    void shouldRefuseABadHeartbeatIntervalAndHealthBind() {
        Map<String, String> env = minimal();
        env.put("POSTGRES_INPUT_HEARTBEAT_INTERVAL", "50ms");
        env.put("HEALTH_BIND", "300.1.1.1");
        assertThatThrownBy(() -> ConsumerConfig.fromEnv(env)).isInstanceOfSatisfying(ConfigException.class, e ->
                assertThat(e.problems()).containsExactlyInAnyOrder(
                        "POSTGRES_INPUT_HEARTBEAT_INTERVAL=50ms is out of range: allowed 0 (off) or 100ms..1h",
                        "HEALTH_BIND=300.1.1.1 is not an address: allowed a literal IPv4 or IPv6 address or a host name"
                                + " (0.0.0.0 = every interface)"));
        env.put("POSTGRES_INPUT_HEARTBEAT_INTERVAL", "often");
        env.remove("HEALTH_BIND");
        assertThatThrownBy(() -> ConsumerConfig.fromEnv(env)).isInstanceOfSatisfying(ConfigException.class, e ->
                assertThat(e.problems()).containsExactly("POSTGRES_INPUT_HEARTBEAT_INTERVAL=often is not a duration:"
                        + " allowed 0 (off) or 100ms..1h, written like 500ms, 10s, 1m"));
        env.put("POSTGRES_INPUT_HEARTBEAT_INTERVAL", "2h");
        assertThatThrownBy(() -> ConsumerConfig.fromEnv(env)).isInstanceOf(ConfigException.class);
    }
}
