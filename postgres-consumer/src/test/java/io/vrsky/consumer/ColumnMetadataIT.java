package io.vrsky.consumer;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.vrsky.consumer.ItSupport.StreamReader;
import io.vrsky.consumer.replication.ReplicationLoop;
import io.vrsky.core.model.Change;
import io.vrsky.core.model.ColumnInfo;
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

/**
 * The column entries the consumer publishes carry what the producer needs to follow schema changes:
 * attnum (stable across renames), typmod and the full type text, NOT NULL, the default's text and
 * the value rows that existed before an {@code ADD COLUMN ... DEFAULT} hold. Each DDL is read by the
 * consumer before the next one runs (the catalog is looked up when a Relation message is handled).
 */
@ExtendWith(RealServices.class)
@SuppressWarnings("try")
class ColumnMetadataIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private static Map<String, ColumnInfo> columnsOfChange(StreamReader reader, int index) {
        await("change " + index).atMost(WAIT).until(() -> reader.changes().size() > index);
        Change change = ItSupport.unchecked(reader::changes).get(index);
        return change.columns().stream().collect(Collectors.toMap(ColumnInfo::name, Function.identity(), (a, b) -> a,
                java.util.LinkedHashMap::new));
    }

    @Test
    @Timeout(120)
    void shouldDescribeColumnsWithAttnumTypmodTypeTextNotNullDefaultAndTheExistingRowsValue(PostgresServer pg, NatsServer nats)
            throws Exception {
        String name = ItSupport.unique("colmeta");
        String db = pg.createDatabase(name);
        ItSupport.sql(pg, db, "CREATE TABLE items (id int8 PRIMARY KEY, name varchar(10) NOT NULL, amount numeric(12,2),"
                + " added timestamp(3) DEFAULT now())");
        Map<String, String> env = ItSupport.env(pg, nats, db, name);
        try (ConsumerService svc = ItSupport.start(env); StreamReader reader = new StreamReader(nats, env.get("NATS_STREAM"))) {
            await("streaming").atMost(WAIT).until(() -> svc.state() == ReplicationLoop.State.STREAMING);
            ItSupport.sql(pg, db, "INSERT INTO items (id, name, amount) VALUES (1, 'a', 1.50)");
            Map<String, ColumnInfo> first = columnsOfChange(reader, 0);
            assertThat(first.get("id")).isEqualTo(new ColumnInfo("id", "int8", true, 1, null, "bigint", true, null, null));
            assertThat(first.get("name")).isEqualTo(new ColumnInfo("name", "varchar", false, 2, 14, "character varying(10)", true,
                    null, null));
            assertThat(first.get("amount")).isEqualTo(new ColumnInfo("amount", "numeric", false, 3, 786438, "numeric(12,2)", false,
                    null, null));
            assertThat(first.get("added")).isEqualTo(new ColumnInfo("added", "timestamp", false, 4, 3,
                    "timestamp(3) without time zone", false, "now()", null));

            // columns added with defaults: existing rows hold the default's value (attmissingval)
            ItSupport.sql(pg, db, "ALTER TABLE items ADD COLUMN vip bool NOT NULL DEFAULT false, ADD COLUMN note text DEFAULT 'n/a',"
                    + " ADD COLUMN tags int4[] DEFAULT '{1,2}', ADD COLUMN seen timestamptz DEFAULT '2026-02-17 10:11:12.5+00',"
                    + " ADD COLUMN plain int", "INSERT INTO items (id, name) VALUES (2, 'b')");
            Map<String, ColumnInfo> added = columnsOfChange(reader, 1);
            assertThat(added.get("vip")).isEqualTo(new ColumnInfo("vip", "bool", false, 5, null, "boolean", true, "false",
                    JSON.booleanNode(false)));
            assertThat(added.get("note")).isEqualTo(new ColumnInfo("note", "text", false, 6, null, "text", false, "'n/a'::text",
                    JSON.textNode("n/a")));
            assertThat(added.get("tags")).isEqualTo(new ColumnInfo("tags", "int4[]", false, 7, null, "integer[]", false,
                    "'{1,2}'::integer[]", JSON.arrayNode().add(1).add(2)));
            assertThat(added.get("seen").existingRowsValue()).isEqualTo(JSON.textNode("2026-02-17T10:11:12.500000Z"));
            assertThat(added.get("plain")).isEqualTo(new ColumnInfo("plain", "int4", false, 9, null, "integer", false, null, null));

            // a rename keeps the attnum; a widened type has a new typmod; a dropped column is gone, the others keep theirs
            ItSupport.sql(pg, db, "ALTER TABLE items RENAME COLUMN note TO remark", "ALTER TABLE items ALTER COLUMN name TYPE varchar(50)",
                    "ALTER TABLE items DROP COLUMN amount", "INSERT INTO items (id, name) VALUES (3, 'c')");
            Map<String, ColumnInfo> after = columnsOfChange(reader, 2);
            assertThat(after).doesNotContainKeys("amount", "note");
            assertThat(after.get("remark").attnum()).isEqualTo(6);
            assertThat(after.get("name")).isEqualTo(new ColumnInfo("name", "varchar", false, 2, 54, "character varying(50)", true,
                    null, null));
            assertThat(after.get("plain").attnum()).isEqualTo(9);
            assertThat(List.copyOf(after.keySet())).containsExactly("id", "name", "added", "vip", "remark", "tags", "seen", "plain");
        }
    }
}
