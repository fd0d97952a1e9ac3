package io.vrsky.consumer.encode;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.vrsky.consumer.encode.ColumnCatalog.ColumnRow;
import io.vrsky.consumer.pgoutput.PgOutputMessage.Relation;
import io.vrsky.consumer.pgoutput.PgOutputMessage.RelationColumn;
import io.vrsky.core.codec.EnvelopeCodec;
import io.vrsky.core.model.Change;
import io.vrsky.core.model.ColumnInfo;
import io.vrsky.core.model.Envelope;
import io.vrsky.core.model.Operation;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class RelationCacheTest {

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
    private static final EnvelopeCodec CODEC = new EnvelopeCodec();

    private static final Relation ITEMS = new Relation(16400, "public", "items", 'd', List.of(
            new RelationColumn(true, "id", 20, -1),
            new RelationColumn(false, "name", 1043, 54),
            new RelationColumn(false, "note", 25, -1),
            new RelationColumn(false, "tags", 1007, -1),
            new RelationColumn(false, "gone", 23, -1)));

    private static RelationCache cache(List<ColumnRow> rows) {
        return new RelationCache(new TypeRegistry(new TestCatalog()), (relationId, columns) -> rows, new ValueDecoder());
    }

    @Test
    void shouldWriteTheColumnListWithWhatTheCatalogAddsExactlyAsEnvelopeCoreDoes() throws Exception {
        RelationInfo info = cache(List.of(
                new ColumnRow("bigint", 1, true, null, null, true),
                new ColumnRow("character varying(50)", 2, true, "'n/a'::character varying", "{n/a}", false),
                new ColumnRow("text", 4, false, "'he said \"hi\" \\'::text", "{\"he said \\\"hi\\\" \\\\\"}", false),
                new ColumnRow("integer[]", 5, false, "'{1,2}'::integer[]", "{\"{1,2}\"}", false),
                new ColumnRow("integer", null, false, null, null, false))).put(ITEMS);

        List<ColumnInfo> expected = List.of(
                new ColumnInfo("id", "int8", true, 1, null, "bigint", true, null, null),
                new ColumnInfo("name", "varchar", false, 2, 54, "character varying(50)", true, "'n/a'::character varying",
                        JSON.textNode("n/a")),
                new ColumnInfo("note", "text", false, 4, null, "text", false, "'he said \"hi\" \\'::text",
                        JSON.textNode("he said \"hi\" \\")),
                new ColumnInfo("tags", "int4[]", false, 5, null, "integer[]", false, "'{1,2}'::integer[]", JSON.arrayNode().add(1).add(2)),
                new ColumnInfo("gone", "int4", false, null, null, "integer", false, null, null));
        Change change = new Change(Operation.TRUNCATE, "public", "items", null, null, null, null, expected, null, null, List.of());
        String codec = new String(CODEC.encode(new Envelope(null, null, null, null, null, List.of(change))), StandardCharsets.UTF_8);
        String ours = new String(info.columnsJson(), StandardCharsets.UTF_8);

        assertThat(codec).contains("\"columns\":" + ours + ",");
        Change read = CODEC.decode(("{\"payload\":{\"changes\":[{\"op\":\"TRUNCATE\",\"table\":\"items\",\"columns\":" + ours + "}]}}")
                .getBytes(StandardCharsets.UTF_8)).changes().get(0);
        assertThat(read.columns()).isEqualTo(expected);
    }

    @Test
    void shouldFlagThePrimaryKeyUnderReplicaIdentityFull() throws Exception {
        Relation full = new Relation(16401, "public", "log", 'f', List.of(new RelationColumn(true, "id", 23, -1),
                new RelationColumn(true, "v", 25, -1)));
        RelationInfo info = cache(List.of(new ColumnRow("integer", 1, true, null, null, true),
                new ColumnRow("text", 2, false, null, null, false))).put(full);

        assertThat(info.columns()).extracting(RelationInfo.Column::key).containsExactly(true, false);
    }

    @Test
    void shouldTakeTheOneElementOfAnArrayLiteral() {
        assertThat(RelationCache.singleElement("{5}")).isEqualTo("5");
        assertThat(RelationCache.singleElement("{\"\"}")).isEmpty();
        assertThat(RelationCache.singleElement("{\"a \\\"b\\\" \\\\ c, {d}\"}")).isEqualTo("a \"b\" \\ c, {d}");
        assertThat(RelationCache.singleElement("{\"{1,2}\"}")).isEqualTo("{1,2}");
        assertThat(RelationCache.singleElement("{\"NULL\"}")).isEqualTo("NULL");
        assertThat(RelationCache.singleElement("{NULL}")).isNull();
        assertThat(RelationCache.singleElement("{1,2}")).isNull();
        assertThat(RelationCache.singleElement("{\"a\"b}")).isNull();
        assertThat(RelationCache.singleElement("5")).isNull();
        assertThat(RelationCache.singleElement("{}")).isNull();
    }
}
