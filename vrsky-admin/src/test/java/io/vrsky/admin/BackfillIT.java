package io.vrsky.admin;

import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(RealServices.class)
@Timeout(60)
class BackfillIT {

    /** The signal table as postgres-consumer creates it. */
    private static final String SIGNALS = "CREATE TABLE public.vrsky_signal (id bigserial PRIMARY KEY, kind text NOT NULL, tables text,"
            + " created_at timestamptz DEFAULT now())";

    @Test
    void shouldInsertTheSignalRowForStreamedTablesAndRefuseOthers(PostgresServer pg, NatsServer nats) throws Exception {
        try (World w = new World(pg, nats, "backfill")) {
            w.sql(w.source, "CREATE TABLE a (id int PRIMARY KEY)", "CREATE TABLE b (id int PRIMARY KEY)",
                    "CREATE SCHEMA sales", "CREATE TABLE sales.c (id int PRIMARY KEY)", SIGNALS,
                    "CREATE PUBLICATION " + w.publication + " FOR TABLE a, sales.c, public.vrsky_signal");
            Map<String, String> env = World.with(w.sourceEnv(), "POSTGRES_INPUT_SIGNAL_TABLE", "public.vrsky_signal");

            AdminRun ok = AdminRun.run(env, "backfill", "a", "sales.c");
            assertThat(ok.exit()).as(ok.toString()).isZero();
            assertThat(ok.out()).startsWith("asked for a backfill of public.a, sales.c: signal row 1 in public.vrsky_signal");
            assertThat(w.text(w.source, "SELECT kind || ' ' || tables FROM vrsky_signal WHERE id = 1")).isEqualTo("backfill public.a,sales.c");

            AdminRun refused = AdminRun.run(env, "backfill", "public.a", "b", "vrsky_signal");
            assertThat(refused.exit()).as(refused.toString()).isEqualTo(1);
            assertThat(refused.err().lines()).containsExactly(
                    "table public.b is not streamed by this consumer (not in publication " + w.publication + "): it cannot be backfilled",
                    "table public.vrsky_signal is the signal table itself: it is never copied",
                    "nothing asked");
            assertThat(w.count(w.source, "SELECT count(*) FROM vrsky_signal")).isEqualTo(1);

            AdminRun snapshot = AdminRun.run(env, "snapshot");
            assertThat(snapshot.exit()).as(snapshot.toString()).isZero();
            assertThat(w.text(w.source, "SELECT tables FROM vrsky_signal WHERE id = 2")).isEqualTo("public.a,sales.c");

            // POSTGRES_INPUT_TABLES narrows what the consumer streams
            AdminRun narrowed = AdminRun.run(World.with(env, "POSTGRES_INPUT_TABLES", "public.a"), "backfill", "sales.c");
            assertThat(narrowed.exit()).isEqualTo(1);
            assertThat(narrowed.err()).contains("table sales.c is not streamed by this consumer (not in publication " + w.publication
                    + " or not in POSTGRES_INPUT_TABLES)");
        }
    }

    @Test
    void shouldNameTheMissingVariableThePublicationOrTheSignalTable(PostgresServer pg, NatsServer nats) throws Exception {
        try (World w = new World(pg, nats, "backfillmissing")) {
            AdminRun unset = AdminRun.run(w.sourceEnv(), "backfill", "a");
            assertThat(unset.exit()).isEqualTo(2);
            assertThat(unset.err()).startsWith("POSTGRES_INPUT_SIGNAL_TABLE is not set");

            Map<String, String> env = World.with(w.sourceEnv(), "POSTGRES_INPUT_SIGNAL_TABLE", "public.vrsky_signal");
            AdminRun noPublication = AdminRun.run(env, "snapshot");
            assertThat(noPublication.exit()).isEqualTo(4);
            assertThat(noPublication.err()).startsWith("publication " + w.publication + " does not exist in PostgreSQL at ");

            w.sql(w.source, "CREATE TABLE a (id int PRIMARY KEY)", "CREATE PUBLICATION " + w.publication + " FOR TABLE a");
            AdminRun noTable = AdminRun.run(env, "backfill", "a");
            assertThat(noTable.exit()).isEqualTo(4);
            assertThat(noTable.err()).startsWith("signal table public.vrsky_signal does not exist in PostgreSQL at ");

            AdminRun badName = AdminRun.run(env, "backfill", "a;drop");
            assertThat(badName.exit()).isEqualTo(2);
        }
    }
}
