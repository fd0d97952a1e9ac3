package io.vrsky.consumer;

import com.fasterxml.jackson.databind.JsonNode;
import io.vrsky.consumer.ItSupport.StreamReader;
import io.vrsky.consumer.ItSupport.Stored;
import io.vrsky.consumer.replication.ReplicationLoop;
import io.vrsky.core.model.Change;
import io.vrsky.core.model.ColumnInfo;
import io.vrsky.core.model.Operation;
import io.vrsky.core.nats.CdcHeaders;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** What the consumer publishes for each kind of change, against a real PostgreSQL and NATS. */
@ExtendWith(RealServices.class)
@SuppressWarnings("try") // the service runs while the block runs, though the block never names it
class CaptureIT {

    private static final Duration WAIT = Duration.ofSeconds(30);

    private static ConsumerService startStreaming(Map<String, String> env) throws Exception {
        ConsumerService svc = ItSupport.start(env);
        await("streaming").atMost(WAIT).until(() -> svc.state() == ReplicationLoop.State.STREAMING);
        return svc;
    }

    private static List<Change> awaitChanges(StreamReader reader, int count) {
        await("changes published").atMost(WAIT).until(() -> reader.changes().size() >= count);
        return ItSupport.unchecked(reader::changes);
    }

    @Test
    @Timeout(90)
    void shouldCreateTheSlotAndPublicationThenReuseThemAfterARestart(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("setup");
        String db = pg.createDatabase(name);
        ItSupport.sql(pg, db, "CREATE TABLE a (id int PRIMARY KEY)", "CREATE TABLE b (id int PRIMARY KEY)");
        Map<String, String> env = ItSupport.env(pg, nats, db, name);
        env.put("POSTGRES_INPUT_TABLES", "a");
        env.put("POSTGRES_INPUT_OPERATIONS", "INSERT,UPDATE");

        try (ConsumerService svc = startStreaming(env)) {
            assertThat(ItSupport.queryString(pg, db, "SELECT plugin || ':' || database FROM pg_replication_slots WHERE slot_name = 'slot_" + name + "'"))
                    .isEqualTo("pgoutput:" + db);
            assertThat(ItSupport.queryString(pg, db, "SELECT string_agg(tablename, ',') FROM pg_publication_tables WHERE pubname = 'pub_" + name + "'"))
                    .isEqualTo("a");
            assertThat(ItSupport.queryString(pg, db, "SELECT pubinsert::text || pubupdate || pubdelete || pubtruncate FROM pg_publication WHERE pubname = 'pub_" + name + "'"))
                    .isEqualTo("truetruefalsefalse");
            assertThat(ItSupport.http(svc.healthPort(), "/health/ready").statusCode()).isEqualTo(200);
            assertThat(ItSupport.http(svc.healthPort(), "/health/live").statusCode()).isEqualTo(200);
        }
        try (ConsumerService svc = startStreaming(env)) {
            assertThat(ItSupport.queryString(pg, db, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'slot_" + name + "'")).isEqualTo("1");
            assertThat(svc.state()).isEqualTo(ReplicationLoop.State.STREAMING);
        }
    }

    @Test
    @Timeout(90)
    void shouldPublishInsertUpdateDeleteAndTruncateWithBeforeAndAfterValues(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("crud");
        String db = pg.createDatabase(name);
        ItSupport.sql(pg, db, "CREATE TABLE orders (id int8 PRIMARY KEY, note text, amount numeric(10,2))");
        Map<String, String> env = ItSupport.env(pg, nats, db, name);
        try (ConsumerService svc = startStreaming(env); StreamReader reader = new StreamReader(nats, env.get("NATS_STREAM"))) {
            ItSupport.sql(pg, db,
                    "INSERT INTO orders VALUES (1, 'old', 9.99)",
                    "UPDATE orders SET note = 'new' WHERE id = 1",
                    "UPDATE orders SET id = 2 WHERE id = 1",
                    "DELETE FROM orders WHERE id = 2",
                    "INSERT INTO orders VALUES (3, NULL, 1)",
                    "TRUNCATE orders");

            List<Change> changes = awaitChanges(reader, 6);

            assertThat(changes).extracting(Change::op).containsExactly(Operation.INSERT, Operation.UPDATE, Operation.UPDATE,
                    Operation.DELETE, Operation.INSERT, Operation.TRUNCATE);
            Change insert = changes.get(0);
            assertThat(insert.schema()).isEqualTo("public");
            assertThat(insert.table()).isEqualTo("orders");
            assertThat(insert.before()).isNull();
            assertThat(insert.after().get("id").longValue()).isEqualTo(1);
            assertThat(insert.after().get("note").textValue()).isEqualTo("old");
            assertThat(insert.after().get("amount").textValue()).isEqualTo("9.99");
            assertThat(insert.columns()).containsExactly(new ColumnInfo("id", "int8", true, 1, null, "bigint", true, null, null),
                    new ColumnInfo("note", "text", false, 2, null, "text", false, null, null),
                    new ColumnInfo("amount", "numeric", false, 3, 655366, "numeric(10,2)", false, null, null));
            Change update = changes.get(1);
            assertThat(update.before()).containsOnlyKeys("id");
            assertThat(update.after().get("note").textValue()).isEqualTo("new");
            Change keyChange = changes.get(2);
            assertThat(keyChange.before().get("id").longValue()).isEqualTo(1);
            assertThat(keyChange.after().get("id").longValue()).isEqualTo(2);
            Change delete = changes.get(3);
            assertThat(delete.before().get("id").longValue()).isEqualTo(2);
            assertThat(delete.after()).isNull();
            assertThat(changes.get(4).after().get("note").isNull()).isTrue();
            assertThat(changes.get(5).before()).isNull();
            assertThat(changes.get(5).after()).isNull();

            for (Stored s : reader.all()) {
                Change last = s.envelope().changes().get(s.envelope().changes().size() - 1);
                assertThat(s.header(CdcHeaders.MSG_ID)).isEqualTo("slot_" + name + ":" + last.commitLsn() + ":0");
                assertThat(s.header(CdcHeaders.COMMIT_LSN)).isEqualTo(last.commitLsn().toString());
                assertThat(s.header(CdcHeaders.TX_ID)).isEqualTo(last.txId().toString());
                assertThat(s.header(CdcHeaders.CHUNK)).isEqualTo("0");
                assertThat(s.header(CdcHeaders.LAST_CHUNK)).isEqualTo("true");
                assertThat(s.envelope().source()).isEqualTo("postgres-consumer/" + db + "/slot_" + name);
                assertThat(s.envelope().type()).isEqualTo("vrsky.cdc.transaction");
                assertThat(s.envelope().metadata().commitLsn()).isEqualTo(last.commitLsn());
                assertThat(s.envelope().metadata().changeCount()).isEqualTo(s.envelope().changes().size());
            }
            await("metrics").atMost(WAIT).until(() -> svc.metrics().changesPublished() >= 6);
            String metrics = ItSupport.http(svc.healthPort(), "/metrics").body();
            assertThat(metrics).contains("vrsky_consumer_changes_published_total{op=\"INSERT\",slot=\"slot_" + name + "\",table=\"public.orders\"} 2.0")
                    .contains("vrsky_consumer_transactions_published_total").contains("vrsky_consumer_publish_latency_seconds_count")
                    .contains("vrsky_consumer_confirmed_lsn").contains("vrsky_consumer_replication_lag_bytes")
                    .contains("vrsky_consumer_reconnects_total").contains("vrsky_consumer_dlq_total");
        }
    }

    @Test
    @Timeout(90)
    void shouldPublishAMultiTableTransactionInOneMessage(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("multi");
        String db = pg.createDatabase(name);
        ItSupport.sql(pg, db, "CREATE TABLE a (id int PRIMARY KEY)", "CREATE TABLE b (id int PRIMARY KEY, v text)");
        Map<String, String> env = ItSupport.env(pg, nats, db, name);
        try (ConsumerService svc = startStreaming(env); StreamReader reader = new StreamReader(nats, env.get("NATS_STREAM"))) {
            ItSupport.sql(pg, db, "BEGIN", "INSERT INTO a VALUES (1)", "INSERT INTO b VALUES (1, 'x')", "UPDATE a SET id = 2",
                    "DELETE FROM b", "COMMIT");

            List<Change> changes = awaitChanges(reader, 4);

            assertThat(reader.all()).hasSize(1);
            assertThat(changes).extracting(Change::table).containsExactly("a", "b", "a", "b");
            assertThat(changes).extracting(Change::txId).containsOnly(changes.get(0).txId());
            assertThat(reader.all().get(0).envelope().metadata().transactionCount()).isEqualTo(1);
        }
    }

    @Test
    @Timeout(90)
    void shouldPublishOnlyTheConfiguredTablesEvenWhenThePublicationCoversAll(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("tables");
        String db = pg.createDatabase(name);
        ItSupport.sql(pg, db, "CREATE TABLE wanted (id int PRIMARY KEY)", "CREATE TABLE unwanted (id int PRIMARY KEY)",
                "CREATE PUBLICATION pub_" + name + " FOR ALL TABLES");
        Map<String, String> env = ItSupport.env(pg, nats, db, name);
        env.put("POSTGRES_INPUT_TABLES", "public.wanted");
        try (ConsumerService svc = startStreaming(env); StreamReader reader = new StreamReader(nats, env.get("NATS_STREAM"))) {
            ItSupport.sql(pg, db, "INSERT INTO unwanted VALUES (1)", "INSERT INTO wanted VALUES (1)",
                    "BEGIN", "INSERT INTO unwanted VALUES (2)", "INSERT INTO wanted VALUES (2)", "COMMIT",
                    "INSERT INTO unwanted VALUES (3)", "INSERT INTO wanted VALUES (3)");

            List<Change> changes = awaitChanges(reader, 3);

            assertThat(changes).extracting(Change::table).containsOnly("wanted");
            assertThat(changes).extracting(c -> c.after().get("id").intValue()).containsExactly(1, 2, 3);
        }
    }

    @Test
    @Timeout(90)
    void shouldWarnWhenAnExistingPublicationPublishesLessThanConfigured(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("narrowpub");
        String db = pg.createDatabase(name);
        ItSupport.sql(pg, db, "CREATE TABLE a (id int PRIMARY KEY, v text)", "CREATE TABLE b (id int PRIMARY KEY, v text)",
                "CREATE PUBLICATION pub_" + name + " FOR TABLE a WHERE (id > 10), b (id) WITH (publish = 'insert, delete')");
        Map<String, String> env = ItSupport.env(pg, nats, db, name);
        try (LogLines log = LogLines.capture("io.vrsky.consumer"); ConsumerService svc = startStreaming(env)) {
            assertThat(log.lines()).filteredOn(line -> line.startsWith("WARN ")).anySatisfy(line -> assertThat(line)
                    .contains("publication pub_" + name + " does not publish UPDATE, TRUNCATE").contains("not captured"))
                    .anySatisfy(line -> assertThat(line).contains("the rows matching a WHERE filter of table public.a"))
                    .anySatisfy(line -> assertThat(line).contains("a column list of table public.b"));
        }
    }

    @Test
    @Timeout(90)
    void shouldPublishOnlyTheConfiguredOperations(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("ops");
        String db = pg.createDatabase(name);
        ItSupport.sql(pg, db, "CREATE TABLE t (id int PRIMARY KEY, v int)");
        Map<String, String> env = ItSupport.env(pg, nats, db, name);
        env.put("POSTGRES_INPUT_OPERATIONS", "INSERT,DELETE");
        try (ConsumerService svc = startStreaming(env); StreamReader reader = new StreamReader(nats, env.get("NATS_STREAM"))) {
            ItSupport.sql(pg, db, "INSERT INTO t VALUES (1, 1)", "UPDATE t SET v = 2", "DELETE FROM t", "INSERT INTO t VALUES (5, 5)",
                    "TRUNCATE t", "INSERT INTO t VALUES (6, 6)");

            List<Change> changes = awaitChanges(reader, 4);

            assertThat(changes).extracting(Change::op).containsExactly(Operation.INSERT, Operation.DELETE, Operation.INSERT, Operation.INSERT);
        }
    }

    @Test
    @Timeout(90)
    void shouldPublishWholeBeforeImagesUnderReplicaIdentityFullAndListUnchangedToast(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("images");
        String db = pg.createDatabase(name);
        ItSupport.sql(pg, db, "CREATE TABLE full_t (id int PRIMARY KEY, a text, b int)", "ALTER TABLE full_t REPLICA IDENTITY FULL",
                "CREATE TABLE docs (id int PRIMARY KEY, body text, version int)", "ALTER TABLE docs ALTER COLUMN body SET STORAGE EXTERNAL");
        Map<String, String> env = ItSupport.env(pg, nats, db, name);
        try (ConsumerService svc = startStreaming(env); StreamReader reader = new StreamReader(nats, env.get("NATS_STREAM"))) {
            ItSupport.sql(pg, db, "INSERT INTO full_t VALUES (1, 'x', 1)", "UPDATE full_t SET b = 2", "DELETE FROM full_t",
                    "INSERT INTO docs SELECT 1, string_agg(md5(g::text), ''), 1 FROM generate_series(1, 500) g",
                    "UPDATE docs SET version = 2");

            List<Change> changes = awaitChanges(reader, 5);

            Change update = changes.get(1);
            assertThat(update.before()).containsOnlyKeys("id", "a", "b");
            assertThat(update.before().get("b").intValue()).isEqualTo(1);
            assertThat(update.after().get("b").intValue()).isEqualTo(2);
            assertThat(update.columns()).extracting(ColumnInfo::key).containsExactly(true, false, false);
            Change delete = changes.get(2);
            assertThat(delete.before()).containsOnlyKeys("id", "a", "b");
            Change toastInsert = changes.get(3);
            assertThat(toastInsert.after().get("body").textValue()).hasSize(500 * 32);
            Change toastUpdate = changes.get(4);
            assertThat(toastUpdate.after()).containsOnlyKeys("id", "version");
            assertThat(toastUpdate.unchangedToast()).containsExactly("body");
        }
    }

    @Test
    @Timeout(90)
    void shouldConvertAWideTableOfTypes(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("types");
        String db = pg.createDatabase(name);
        ItSupport.sql(pg, db,
                "CREATE TYPE mood AS ENUM ('sad', 'happy')",
                "CREATE DOMAIN positive AS int4 CHECK (VALUE > 0)",
                "CREATE DOMAIN doc AS jsonb",
                "CREATE TABLE wide (id int PRIMARY KEY, i2 int2, i8 int8, f4 float4, f8 float8, f8nan float8, f8inf float8,"
                        + " num numeric(30,10), b bool, t text, vc varchar(10), ch char(3), d date, tm time, tmtz timetz,"
                        + " ts timestamp, tstz timestamptz, iv interval, u uuid, j json, jb jsonb, by bytea, ip inet, cidr_ cidr,"
                        + " mac macaddr, ia int4[], ta text[], ja jsonb[], grid int8[][], m mood, ma mood[], p positive, dj doc,"
                        + " bits bit(3), pt point, nothing text)");
        Map<String, String> env = ItSupport.env(pg, nats, db, name);
        try (ConsumerService svc = startStreaming(env); StreamReader reader = new StreamReader(nats, env.get("NATS_STREAM"))) {
            ItSupport.sql(pg, db, "INSERT INTO wide VALUES (1, -32768, 9223372036854775807, 1.5, -2.25e-10, 'NaN', '-Infinity',"
                    + " 12345678901234567890.0123456789, true, 'tab\tquote\"', 'short', 'ab', '2026-02-17', '10:11:12.5', '10:11:12+02',"
                    + " '2026-02-17 10:11:12.123', '2026-02-17 12:11:12.654321+02', '1 day 02:00:00', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',"
                    + " '{\"a\": 1}', '{\"b\": [true, null]}', '\\x0001ff', '10.0.0.1', '10.0.0.0/8', '08:00:2b:01:02:03',"
                    + " '{1,NULL,3}', '{\"x y\",\"\\\\\",z}', ARRAY['{\"k\": 1}'::jsonb, '[]'::jsonb], '{{1,2},{3,4}}', 'happy', '{sad,happy}',"
                    + " 5, '{\"d\": 2}', B'101', '(1,2)', NULL)");

            Change row = awaitChanges(reader, 1).get(0);
            Map<String, String> types = row.columns().stream().collect(Collectors.toMap(ColumnInfo::name, ColumnInfo::type));
            Map<String, JsonNode> v = row.after();
            Function<String, String> json = col -> v.get(col).toString();

            assertThat(types).containsEntry("i2", "int2").containsEntry("f4", "float4").containsEntry("ch", "bpchar")
                    .containsEntry("vc", "varchar").containsEntry("tstz", "timestamptz").containsEntry("ia", "int4[]")
                    .containsEntry("ja", "jsonb[]").containsEntry("grid", "int8[]").containsEntry("m", "mood")
                    .containsEntry("ma", "mood[]").containsEntry("p", "positive").containsEntry("dj", "doc")
                    .containsEntry("by", "bytea").containsEntry("ip", "inet");
            assertThat(json.apply("i2")).isEqualTo("-32768");
            assertThat(json.apply("i8")).isEqualTo("9223372036854775807");
            assertThat(v.get("f4").doubleValue()).isEqualTo(1.5);
            assertThat(v.get("f8").doubleValue()).isEqualTo(-2.25e-10);
            assertThat(json.apply("f8nan")).isEqualTo("\"NaN\"");
            assertThat(json.apply("f8inf")).isEqualTo("\"-Infinity\"");
            assertThat(json.apply("num")).isEqualTo("\"12345678901234567890.0123456789\"");
            assertThat(json.apply("b")).isEqualTo("true");
            assertThat(v.get("t").textValue()).isEqualTo("tab\tquote\"");
            assertThat(v.get("ch").textValue()).isEqualTo("ab ");
            assertThat(json.apply("d")).isEqualTo("\"2026-02-17\"");
            assertThat(json.apply("tm")).isEqualTo("\"10:11:12.5\"");
            assertThat(json.apply("tmtz")).isEqualTo("\"10:11:12+02\"");
            assertThat(json.apply("ts")).isEqualTo("\"2026-02-17T10:11:12.123000\"");
            assertThat(json.apply("tstz")).isEqualTo("\"2026-02-17T10:11:12.654321Z\"");
            assertThat(json.apply("iv")).isEqualTo("\"1 day 02:00:00\"");
            assertThat(json.apply("u")).isEqualTo("\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"");
            assertThat(v.get("j").textValue()).isEqualTo("{\"a\": 1}");
            assertThat(v.get("jb").textValue()).isEqualTo("{\"b\": [true, null]}");
            assertThat(json.apply("by")).isEqualTo("\"AAH/\"");
            assertThat(json.apply("ip")).isEqualTo("\"10.0.0.1\"");
            assertThat(json.apply("cidr_")).isEqualTo("\"10.0.0.0/8\"");
            assertThat(json.apply("mac")).isEqualTo("\"08:00:2b:01:02:03\"");
            assertThat(json.apply("ia")).isEqualTo("[1,null,3]");
            assertThat(json.apply("ta")).isEqualTo("[\"x y\",\"\\\\\",\"z\"]");
            assertThat(json.apply("ja")).isEqualTo("[\"{\\\"k\\\": 1}\",\"[]\"]");
            assertThat(json.apply("grid")).isEqualTo("[[1,2],[3,4]]");
            assertThat(json.apply("m")).isEqualTo("\"happy\"");
            assertThat(json.apply("ma")).isEqualTo("[\"sad\",\"happy\"]");
            assertThat(json.apply("p")).isEqualTo("5");
            assertThat(v.get("dj").textValue()).isEqualTo("{\"d\": 2}");
            assertThat(json.apply("bits")).isEqualTo("\"101\"");
            assertThat(json.apply("pt")).isEqualTo("\"(1,2)\"");
            assertThat(v.get("nothing").isNull()).isTrue();
            assertThat(svc.metrics().dlqCount()).isZero();
        }
    }

    @Test
    @Timeout(90)
    void shouldCarryJsonAsTheTextOfTheDocumentAndKeepSqlNullApart(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("jsontext");
        String db = pg.createDatabase(name);
        ItSupport.sql(pg, db, "CREATE TABLE docs (id int PRIMARY KEY, j json, jb jsonb, jba jsonb[], ja json[])");
        Map<String, String> env = ItSupport.env(pg, nats, db, name);
        try (ConsumerService svc = startStreaming(env); StreamReader reader = new StreamReader(nats, env.get("NATS_STREAM"))) {
            ItSupport.sql(pg, db, "INSERT INTO docs VALUES (1, '{\"a\": 1,  \"a\": [2, 3.10]}', 'null',"
                            + " ARRAY['{\"k\": 1}'::jsonb, 'null'::jsonb, NULL], ARRAY['{ \"x\" : 1 }'::json])",
                    "INSERT INTO docs VALUES (2, NULL, NULL, NULL, NULL)");

            List<Change> changes = awaitChanges(reader, 2);

            Map<String, JsonNode> row = changes.get(0).after();
            assertThat(row.get("j").textValue()).isEqualTo("{\"a\": 1,  \"a\": [2, 3.10]}"); // spacing, duplicate key, digits
            assertThat(row.get("jb").isTextual()).isTrue();
            assertThat(row.get("jb").textValue()).isEqualTo("null"); // the document null, not SQL NULL
            assertThat(row.get("jba").toString()).isEqualTo("[\"{\\\"k\\\": 1}\",\"null\",null]");
            assertThat(row.get("ja").toString()).isEqualTo("[\"{ \\\"x\\\" : 1 }\"]");
            Map<String, JsonNode> nulls = changes.get(1).after();
            assertThat(List.of("j", "jb", "jba", "ja")).allSatisfy(column -> assertThat(nulls.get(column).isNull()).isTrue());
            String body = new String(reader.all().get(0).body(), java.nio.charset.StandardCharsets.UTF_8);
            assertThat(body).contains("\"j\":\"{\\\"a\\\": 1,  \\\"a\\\": [2, 3.10]}\"", "\"jb\":\"null\"");
        }
    }

    @Test
    @Timeout(120)
    void shouldPutAPlaceholderInItsTransactionForAChangeTooLargeForAnyMessage(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("oversized");
        String db = pg.createDatabase(name);
        ItSupport.sql(pg, db, "CREATE TABLE t (id int PRIMARY KEY, body text)");
        Map<String, String> env = ItSupport.env(pg, nats, db, name);
        try (LogLines warnings = LogLines.capture("io.vrsky.consumer");
             ConsumerService svc = startStreaming(env); StreamReader reader = new StreamReader(nats, env.get("NATS_STREAM"))) {
            ItSupport.sql(pg, db, "BEGIN", "INSERT INTO t VALUES (1, 'small')",
                    "INSERT INTO t SELECT 2, string_agg(md5(g::text), '') FROM generate_series(1, 160000) g",
                    "INSERT INTO t VALUES (3, 'small')", "COMMIT", "INSERT INTO t VALUES (4, 'small')");

            List<Change> changes = awaitChanges(reader, 4);

            Stored first = reader.all().get(0);
            JsonNode payload = ItSupport.json(first.body()).get("payload").get("changes");
            assertThat(payload).hasSizeGreaterThanOrEqualTo(3);
            assertThat(payload.get(0).get("after").get("id").intValue()).isEqualTo(1);
            JsonNode placeholder = payload.get(1);
            assertThat(placeholder.get("op").textValue()).isEqualTo("INSERT");
            assertThat(placeholder.get("table").textValue()).isEqualTo("t");
            assertThat(placeholder.get("before").isNull()).isTrue();
            assertThat(placeholder.get("after").isNull()).isTrue();
            assertThat(placeholder.get("key").toString()).isEqualTo("{\"id\":2}");
            assertThat(placeholder.get("unchangedToast")).isEmpty();
            assertThat(placeholder.get("oversized").get("bytes").longValue()).isGreaterThan(5_000_000);
            long limit = placeholder.get("oversized").get("limit").longValue();
            assertThat(limit).isBetween(512L * 1024, 1024L * 1024);
            assertThat(placeholder.get("columns")).hasSize(2);
            assertThat(payload.get(2).get("after").get("id").intValue()).isEqualTo(3);
            assertThat(first.header(CdcHeaders.LAST_CHUNK)).isEqualTo("true");
            assertThat(changes).extracting(Change::txId).first().isEqualTo(changes.get(2).txId());
            assertThat(svc.metrics().dlqCount()).isZero();
            String txId = changes.get(0).txId().toString();
            assertThat(warnings.lines()).anySatisfy(line -> assertThat(line).startsWith("WARN ").contains("public.t")
                    .contains("{\"id\":2}").contains("txId " + txId).contains(changes.get(1).lsn().toString())
                    .contains(Long.toString(placeholder.get("oversized").get("bytes").longValue())));
        }
    }

    /**
     * A value the consumer cannot convert: the test makes the consumer's catalog lookups see the
     * domain {@code weird} (over text) as a domain over int8, through a view that shadows pg_type
     * on the database's search_path. The row is dead-lettered once, under a msg id, even when the
     * transaction is read again after a restart (the slot is put back before it), and its
     * transaction carries an {@code undecodable} placeholder in its place.
     */
    @Test
    @Timeout(120)
    void shouldDeadLetterAnUndecodableRowOnceAndPutAPlaceholderInItsTransaction(PostgresServer pg, NatsServer nats) throws Exception {
        String name = ItSupport.unique("undecodable");
        String db = pg.createDatabase(name);
        ItSupport.sql(pg, db, "CREATE DOMAIN weird AS text", "CREATE TABLE t (id int PRIMARY KEY, \"wé\" weird, v text)",
                "CREATE VIEW public.pg_type AS SELECT oid, typname, typtype, typcategory, typelem,"
                        + " CASE WHEN oid = 'weird'::regtype THEN 'int8'::regtype::oid ELSE typbasetype END AS typbasetype,"
                        + " typdelim, typnamespace FROM pg_catalog.pg_type",
                "ALTER DATABASE " + db + " SET search_path = public, pg_catalog");
        Map<String, String> env = ItSupport.env(pg, nats, db, name);
        String slot = env.get("POSTGRES_INPUT_REPLICATION_SLOT");
        try (ConsumerService svc = startStreaming(env)) {
            assertThat(svc.state()).isEqualTo(ReplicationLoop.State.STREAMING); // slot and publication exist now
        }
        ItSupport.sql(pg, db, "SELECT pg_copy_logical_replication_slot('" + slot + "', '" + slot + "_before')",
                "BEGIN", "INSERT INTO t VALUES (1, NULL, 'a')", "INSERT INTO t VALUES (2, 'not a number', 'b')",
                "INSERT INTO t VALUES (3, NULL, 'c')", "COMMIT");
        try (StreamReader reader = new StreamReader(nats, env.get("NATS_STREAM"));
             StreamReader dlq = new StreamReader(nats, "VRSKY_DLQ")) {
            try (ConsumerService svc = startStreaming(env)) {
                await().atMost(WAIT).until(() -> reader.changes().size() >= 3);
            }
            ItSupport.sql(pg, db, "SELECT pg_drop_replication_slot('" + slot + "')",
                    "SELECT pg_copy_logical_replication_slot('" + slot + "_before', '" + slot + "')");
            try (ConsumerService svc = startStreaming(env)) {
                await("the transaction read again").atMost(WAIT).until(() -> svc.metrics().registry()
                        .find("vrsky.consumer.messages.duplicate").counter().count() >= 1);
            }

            Stored message = reader.all().get(0);
            JsonNode payload = ItSupport.json(message.body()).get("payload").get("changes");
            assertThat(payload).hasSize(3);
            JsonNode placeholder = payload.get(1);
            assertThat(placeholder.get("key").toString()).isEqualTo("{\"id\":2}");
            assertThat(placeholder.get("undecodable").get("error").textValue()).contains("column wé (weird)")
                    .doesNotContain("not a number");
            assertThat(placeholder.get("after").isNull()).isTrue();
            List<Stored> dead = dlq.all().stream().filter(m -> env.get("NATS_DLQ_SUBJECT").equals(m.subject())).toList();
            assertThat(dead).hasSize(1);
            String commitLsn = message.header(CdcHeaders.COMMIT_LSN);
            assertThat(dead.get(0).header("Nats-Msg-Id")).isEqualTo(slot + ":dlq:" + commitLsn + ":1");
            assertThat(dead.get(0).header("Vrsky-Error-Class")).isEqualTo("decode");
            assertThat(dead.get(0).header("Vrsky-Error")).contains("column w\\u00e9 (weird)"); // a valid header value
            assertThat(dead.get(0).body()[0]).isEqualTo((byte) 'I');
        }
    }
}
