package io.vrsky.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(RealServices.class)
@Timeout(120)
class StatusIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void shouldShowTheSlotsRetainedWalTheStreamItsDurableTheSinkPositionAndTheLag(PostgresServer pg, NatsServer nats) throws Exception {
        try (World w = new World(pg, nats, "status")) {
            w.sql(w.source, "CREATE TABLE items (id bigint PRIMARY KEY, note text)",
                    "CREATE PUBLICATION " + w.publication + " FOR TABLE items");
            w.createSlot();
            // WAL written after the slot was created stays retained while nobody reads the slot
            w.sql(w.source, "INSERT INTO items SELECT g, repeat('x', 200) FROM generate_series(1, 5000) g");
            w.createStream(Duration.ofMinutes(2));
            w.nats.jetStreamManagement().addOrUpdateConsumer(w.stream, ConsumerConfiguration.builder().durable(w.durable)
                    .filterSubject(w.subject).ackPolicy(AckPolicy.Explicit).build());
            String source = "postgres-consumer/" + w.source + "/" + w.slot;
            w.publishCdc(Journal.envelope(source, 700, "0/3000000", 0, true, new Journal.Row(1, 1, "a")), "0/3000000", 700, 0, true);
            w.publishCdc(Journal.envelope(source, 701, "0/3000800", 0, true, new Journal.Row(2, 1, "b")), "0/3000800", 701, 0, true);
            // the sink has applied the first of the two
            w.sql(w.sink, "CREATE TABLE vrsky_applied_position (source text PRIMARY KEY, commit_lsn pg_lsn NOT NULL,"
                            + " chunk integer NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())",
                    "INSERT INTO vrsky_applied_position (source, commit_lsn, chunk) VALUES ('" + source + "', '0/3000000', 0),"
                            + " ('replay:VRSKY_DLQ-9', '0/10', 0)");
            w.snapshotBucket().put(w.slot, ("{\"known\":[],\"snapshot\":{\"id\":\"s1\",\"kind\":\"backfill\","
                    + "\"tables\":[{\"table\":\"public.items\",\"state\":\"copying\",\"rows\":1200,\"nextChunk\":12}]},\"queue\":[]}")
                    .getBytes(StandardCharsets.UTF_8));

            AdminRun json = AdminRun.run(w.env(), "status", "--json");
            assertThat(json.exit()).as(json.toString()).isZero();
            JsonNode r = JSON.readTree(json.out());
            assertThat(r.path("formatVersion").asInt()).isEqualTo(1);
            JsonNode slot = r.path("source").path("slots").get(0);
            assertThat(slot.path("name").asText()).isEqualTo(w.slot);
            assertThat(slot.path("configured").asBoolean()).isTrue();
            assertThat(slot.path("active").asBoolean()).isFalse();
            assertThat(slot.path("activePid").isNull()).isTrue();
            assertThat(slot.path("retainedWalBytes").asLong()).isGreaterThan(1_000_000);
            assertThat(slot.path("walStatus").asText()).isEqualTo("reserved");
            assertThat(slot.path("confirmedFlushLsn").asText()).matches("[0-9A-F]+/[0-9A-F]+");
            assertThat(r.path("source").path("publication").path("tables").asInt()).isEqualTo(1);
            JsonNode stream = r.path("stream");
            assertThat(stream.path("name").asText()).isEqualTo(w.stream);
            assertThat(stream.path("messages").asLong()).isEqualTo(2);
            assertThat(stream.path("firstSequence").asLong()).isEqualTo(1);
            assertThat(stream.path("lastSequence").asLong()).isEqualTo(2);
            assertThat(stream.path("replicas").asInt()).isEqualTo(1);
            assertThat(stream.path("limits").path("discard").asText()).isEqualTo("old");
            JsonNode durable = stream.path("durables").get(0);
            assertThat(durable.path("name").asText()).isEqualTo(w.durable);
            assertThat(durable.path("configured").asBoolean()).isTrue();
            assertThat(durable.path("pending").asLong()).isEqualTo(2);
            assertThat(durable.path("ackFloor").asLong()).isZero();
            assertThat(r.path("sink").path("positions")).hasSize(2);
            assertThat(r.path("sink").path("positions").get(1).path("kind").asText()).isEqualTo("replay");
            JsonNode lag = r.path("lag").get(0);
            assertThat(lag.path("source").asText()).isEqualTo(source);
            assertThat(lag.path("streamCommitLsn").asText()).isEqualTo("0/3000800");
            assertThat(lag.path("sinkCommitLsn").asText()).isEqualTo("0/3000000");
            assertThat(lag.path("streamAheadBytes").asLong()).isEqualTo(0x800);
            assertThat(lag.path("slotConfirmedLsn").asText()).isEqualTo(slot.path("confirmedFlushLsn").asText());
            assertThat(r.path("deadLetters").path("stream").asText()).isEqualTo("VRSKY_DLQ");
            assertThat(r.path("snapshot").path("inProgress").asBoolean()).isTrue();
            assertThat(r.path("snapshot").path("summary").asText()).contains("public.items copying (1200 rows)");
            assertThat(r.path("snapshot").path("record").path("snapshot").path("id").asText()).isEqualTo("s1");
            assertThat(r.path("errors")).isEmpty();

            AdminRun text = AdminRun.run(w.env(), "status");
            assertThat(text.exit()).as(text.toString()).isZero();
            assertThat(text.out()).contains("source: PostgreSQL at " + pg.host() + ":" + pg.port() + "/" + w.source)
                    .containsPattern(w.slot + " \\*\\s+no\\s+-\\s+\\S+\\s+\\S+\\s+[0-9.]+ MiB\\s+reserved")
                    .contains("stream " + w.stream + ": 2 messages")
                    .containsPattern(w.durable + " \\*\\s+" + w.subject.replace(".", "\\.") + "\\s+2\\s+0\\s+0\\s+0")
                    .containsPattern(source + "\\s+0/3000800\\s+0/3000000\\s+2\\.0 KiB")
                    .contains("snapshot: snapshot s1 (backfill) in progress");
        }
    }

    @Test
    void shouldShowWhatItCanReachAndNameWhatItCannotWithExit3(PostgresServer pg, NatsServer nats) throws Exception {
        try (World w = new World(pg, nats, "statusdown")) {
            w.createSlot();
            AdminRun r = AdminRun.run(World.with(w.sourceEnv(), "NATS_URL", "nats://127.0.0.1:1"), "status");
            assertThat(r.exit()).as(r.toString()).isEqualTo(3);
            assertThat(r.out()).contains(w.slot + " *").contains("sink: not configured");
            assertThat(r.err().strip()).isEqualTo("NATS at nats://127.0.0.1:1 unreachable: Unable to connect to NATS servers:"
                    + " [nats://127.0.0.1:1]");
        }
    }

    @Test
    void shouldListEveryLogicalSlotOfTheDatabaseWithAllAndSayWhenTheConfiguredOneIsMissing(PostgresServer pg, NatsServer nats)
            throws Exception {
        try (World w = new World(pg, nats, "statusall")) {
            w.sql(w.source, "SELECT pg_create_logical_replication_slot('" + w.slot + "_other', 'pgoutput')");
            try {
                AdminRun one = AdminRun.run(w.env(), "status", "--json");
                assertThat(one.exit()).as(one.toString()).isEqualTo(4);
                assertThat(one.err().strip()).isEqualTo("replication slot " + w.slot + " does not exist in PostgreSQL at " + pg.host()
                        + ":" + pg.port() + "/" + w.source);
                JsonNode r = JSON.readTree(one.out());
                assertThat(r.path("source").path("missingSlot").asText()).isEqualTo(w.slot);
                assertThat(r.path("source").path("slots")).isEmpty();
                assertThat(r.path("stream").path("exists").asBoolean()).isFalse();
                assertThat(AdminRun.run(w.env(), "status").out()).contains("replication slot " + w.slot + " does not exist")
                        .contains("stream " + w.stream + ": does not exist");

                JsonNode all = JSON.readTree(AdminRun.run(w.env(), "status", "--json", "--all").out());
                assertThat(all.path("source").path("slots")).hasSize(1);
                assertThat(all.path("source").path("slots").get(0).path("name").asText()).isEqualTo(w.slot + "_other");
                assertThat(all.path("source").path("slots").get(0).path("configured").asBoolean()).isFalse();
            } finally {
                w.sql(w.source, "SELECT pg_drop_replication_slot('" + w.slot + "_other')");
            }
        }
    }
}
