package io.vrsky.consumer.tx;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.vrsky.consumer.encode.ChangeEncoder;
import io.vrsky.consumer.encode.RelationCache;
import io.vrsky.consumer.encode.TestCatalog;
import io.vrsky.consumer.encode.TypeRegistry;
import io.vrsky.consumer.encode.ValueDecoder;
import io.vrsky.consumer.filter.OperationFilter;
import io.vrsky.consumer.filter.TableFilter;
import io.vrsky.consumer.pgoutput.Fixtures;
import io.vrsky.consumer.pgoutput.PgOutputDecoder;
import io.vrsky.core.model.Change;
import io.vrsky.core.model.ColumnInfo;
import io.vrsky.core.model.Lsn;
import io.vrsky.core.model.Operation;
import io.vrsky.core.model.TableId;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TransactionAssemblerTest {

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private final Recording.Transactions sink = new Recording.Transactions();
    private final Recording.DeadLetterRecorder dlq = new Recording.DeadLetterRecorder();

    private TransactionAssembler assembler(TableFilter tables, OperationFilter ops, Set<String> primaryKey) {
        return assembler(tables, ops, primaryKey, 1 << 20);
    }

    private TransactionAssembler assembler(TableFilter tables, OperationFilter ops, Set<String> primaryKey, long maxChangeBytes) {
        return new TransactionAssembler(new PgOutputDecoder(), new RelationCache(new TypeRegistry(new TestCatalog()), id -> primaryKey),
                tables, ops, new ChangeEncoder(new ValueDecoder()), maxChangeBytes, sink, dlq);
    }

    /** Change {@code i} as a JSON tree. */
    private JsonNode raw(int i) throws java.io.IOException {
        return new com.fasterxml.jackson.databind.ObjectMapper().readTree(sink.changes.get(i).json());
    }

    private static void feed(TransactionAssembler assembler, String fixture) throws Exception {
        for (Fixtures.Captured c : Fixtures.load(fixture)) {
            assembler.accept(c.buffer(), c.lsn());
        }
    }

    @Test
    void shouldAssembleCapturedTransactionsIntoChangesWithBeforeAndAfter() throws Exception {
        feed(assembler(TableFilter.all(), OperationFilter.all(), Set.of()), "crud");

        List<Change> changes = sink.decoded();
        assertThat(changes).extracting(Change::op)
                .containsExactly(Operation.INSERT, Operation.UPDATE, Operation.UPDATE, Operation.UPDATE, Operation.DELETE);
        Change insert = changes.get(0);
        assertThat(insert.tableId()).isEqualTo(new TableId("public", "orders"));
        assertThat(insert.columns()).containsExactly(new ColumnInfo("id", "int8", true), new ColumnInfo("note", "text", false),
                new ColumnInfo("amount", "numeric", false, null, 786438, null, false, null, null), // numeric(12,2): pgoutput's typmod
                new ColumnInfo("paid", "bool", false));
        assertThat(insert.before()).isNull();
        assertThat(insert.after()).containsEntry("id", JSON.numberNode(1)).containsEntry("note", JSON.textNode("first"))
                .containsEntry("amount", JSON.textNode("12.50")).containsEntry("paid", JSON.booleanNode(false));
        assertThat(insert.txId()).isEqualTo(0x2df);
        assertThat(insert.commitLsn()).isEqualTo(Lsn.parse("0/195AFB0"));
        assertThat(insert.lsn()).isEqualTo(Lsn.parse("0/195AEC0"));
        assertThat(changes.get(1).before()).containsExactly(java.util.Map.entry("id", JSON.numberNode(1)));
        assertThat(changes.get(2).before()).containsExactly(java.util.Map.entry("id", JSON.numberNode(1)));
        assertThat(changes.get(2).after()).containsEntry("id", JSON.numberNode(2));
        assertThat(changes.get(3).after()).containsEntry("note", JSON.nullNode());
        assertThat(changes.get(4).before()).containsExactly(java.util.Map.entry("id", JSON.numberNode(2)));
        assertThat(changes.get(4).after()).isNull();
        assertThat(sink.commits).hasSize(5);
        assertThat(dlq.errors).isEmpty();
    }

    @Test
    void shouldKeepWholeBeforeImagesAndMarkThePrimaryKeyUnderReplicaIdentityFull() throws Exception {
        feed(assembler(TableFilter.all(), OperationFilter.all(), Set.of("id")), "replica_full");

        List<Change> changes = sink.decoded();
        Change update = changes.get(1);
        assertThat(update.before()).containsEntry("id", JSON.numberNode(1)).containsEntry("payload", JSON.textNode("a"))
                .containsEntry("n", JSON.numberNode(1));
        assertThat(update.columns()).extracting(ColumnInfo::key).containsExactly(true, false, false);
        assertThat(changes.get(2).before()).containsEntry("n", JSON.numberNode(2));
    }

    @Test
    void shouldLeaveUnchangedToastOutOfAfterAndListIt() throws Exception {
        feed(assembler(TableFilter.all(), OperationFilter.all(), Set.of()), "toast");

        Change update = sink.decoded().get(1);
        assertThat(update.after()).containsOnlyKeys("id", "version");
        assertThat(update.unchangedToast()).containsExactly("body");
    }

    @Test
    void shouldEmitOneTruncateChangePerTable() throws Exception {
        feed(assembler(TableFilter.all(), OperationFilter.all(), Set.of()), "truncate");

        List<Change> changes = sink.decoded();
        assertThat(changes).extracting(Change::op).containsExactly(Operation.INSERT, Operation.TRUNCATE, Operation.TRUNCATE);
        assertThat(changes.get(1).table()).isEqualTo("other");
        assertThat(changes.get(2).table()).isEqualTo("audit");
        assertThat(changes.get(2).before()).isNull();
        assertThat(changes.get(2).after()).isNull();
    }

    @Test
    void shouldConvertEnumsDomainsArraysAndJsonOfACapturedRow() throws Exception {
        feed(assembler(TableFilter.all(), OperationFilter.all(), Set.of()), "types");

        Change row = sink.decoded().get(0);
        assertThat(row.columns()).extracting(ColumnInfo::type).containsExactly("int4", "mood", "positive_int", "text[]", "int4[]",
                "int4[]", "timestamptz", "bytea", "jsonb", "uuid");
        assertThat(row.after().get("m").asText()).isEqualTo("happy");
        assertThat(row.after().get("p").intValue()).isEqualTo(7);
        assertThat(row.after().get("tags").toString()).isEqualTo("[\"a b\",\"c\\\"d\",null]");
        assertThat(row.after().get("grid").toString()).isEqualTo("[[1,2],[3,4]]");
        assertThat(row.after().get("ts").asText()).isEqualTo("2026-02-17T10:00:00.123456Z");
        assertThat(row.after().get("b").asText()).isEqualTo("AP8Q");
        assertThat(row.after().get("j").textValue()).isEqualTo("{\"k\": [1, true]}");
    }

    @Test
    void shouldSkipFilteredTablesAndOperationsButStillCommit() throws Exception {
        TransactionAssembler a = assembler(new TableFilter(List.of(new TableId("public", "orders"))),
                new OperationFilter(List.of(Operation.INSERT, Operation.DELETE)), Set.of());
        feed(a, "crud");
        feed(a, "replica_full");

        assertThat(sink.decoded()).extracting(Change::op).containsExactly(Operation.INSERT, Operation.DELETE);
        assertThat(sink.commits).hasSize(8);
        assertThat(a.filtered()).isEqualTo(6);
    }

    @Test
    void shouldDeadLetterARowOfAnUnknownRelationAndPutAPlaceholderInItsPlace() throws Exception {
        TransactionAssembler a = assembler(TableFilter.all(), OperationFilter.all(), Set.of());
        List<Fixtures.Captured> crud = Fixtures.load("crud");
        a.accept(crud.get(0).buffer(), crud.get(0).lsn()); // Begin, but no Relation
        a.accept(crud.get(2).buffer(), crud.get(2).lsn()); // Insert
        a.accept(crud.get(3).buffer(), crud.get(3).lsn()); // Commit

        assertThat(dlq.errors).singleElement().asString().contains("relation id").contains("0/195AEC0");
        assertThat(dlq.bodies.get(0)).isEqualTo(crud.get(2).bytes());
        assertThat(dlq.positions).containsExactly("735:0");
        assertThat(sink.events).containsExactly("begin 735", "INSERT .relation 16396", "commit 735");
        JsonNode placeholder = raw(0);
        assertThat(placeholder.get("undecodable").get("error").textValue()).contains("relation id 16396");
        assertThat(placeholder.get("table").textValue()).isEqualTo("relation 16396");
        assertThat(placeholder.get("op").textValue()).isEqualTo("INSERT");
        assertThat(placeholder.get("after").isNull()).isTrue();
    }

    @Test
    void shouldDeadLetterAValueThatCannotBeConvertedAndPutAPlaceholderWithTheKeyInItsPlace() throws Exception {
        TransactionAssembler a = assembler(TableFilter.all(), OperationFilter.all(), Set.of());
        List<Fixtures.Captured> crud = Fixtures.load("crud");
        byte[] bad = crud.get(2).bytes().clone();
        bad[13] = (byte) 'x'; // the id "1" becomes "x": not an int8
        a.accept(crud.get(0).buffer(), crud.get(0).lsn());
        a.accept(crud.get(1).buffer(), crud.get(1).lsn());
        a.accept(ByteBuffer.wrap(bad), crud.get(2).lsn());
        a.accept(crud.get(3).buffer(), crud.get(3).lsn());

        assertThat(dlq.errors).singleElement().asString().contains("column id (int8)").doesNotContain("'x'");
        assertThat(dlq.positions).containsExactly("735:0");
        assertThat(sink.commits).hasSize(1);
        JsonNode placeholder = raw(0);
        assertThat(placeholder.get("undecodable").get("error").textValue()).contains("column id (int8)");
        assertThat(placeholder.get("table").textValue()).isEqualTo("orders");
        assertThat(placeholder.get("key").toString()).as("the key columns that convert (the id does not)").isEqualTo("{}");
        assertThat(placeholder.get("before").isNull()).isTrue();
        assertThat(placeholder.get("after").isNull()).isTrue();
        assertThat(placeholder.get("columns")).isNotEmpty();
    }

    @Test
    void shouldPutAnOversizedPlaceholderWithTheKeyInPlaceOfAChangeTooLargeForAMessage() throws Exception {
        TransactionAssembler a = assembler(TableFilter.all(), OperationFilter.all(), Set.of(), 4096);
        feed(a, "toast"); // an insert with a 12,800-character text, then an update that leaves it alone

        JsonNode first = raw(0);
        assertThat(first.get("op").textValue()).isEqualTo("INSERT");
        assertThat(first.get("oversized").get("limit").longValue()).isEqualTo(4096);
        assertThat(first.get("oversized").get("bytes").longValue()).isGreaterThan(12_800);
        assertThat(first.get("key").toString()).isEqualTo("{\"id\":1}");
        assertThat(first.get("before").isNull()).isTrue();
        assertThat(first.get("after").isNull()).isTrue();
        assertThat(first.get("unchangedToast")).isEmpty();
        assertThat(first.get("columns")).hasSize(3);
        assertThat(raw(1).has("oversized")).isFalse();
        assertThat(sink.changes).allSatisfy(c -> assertThat(c.size()).isLessThanOrEqualTo(4096));
        assertThat(dlq.errors).isEmpty();
    }

    @Test
    void shouldRejectACommitOutsideATransaction() {
        TransactionAssembler a = assembler(TableFilter.all(), OperationFilter.all(), Set.of());
        Fixtures.Captured commit = Fixtures.load("crud").get(3);

        assertThatThrownBy(() -> a.accept(commit.buffer(), commit.lsn())).isInstanceOf(ProtocolException.class);
    }
}
