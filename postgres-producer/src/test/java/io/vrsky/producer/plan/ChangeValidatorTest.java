package io.vrsky.producer.plan;

import io.vrsky.core.model.Change;
import io.vrsky.core.model.ColumnInfo;
import io.vrsky.core.model.TableId;
import io.vrsky.producer.Envelopes;
import io.vrsky.producer.catalog.SchemaCatalog;
import io.vrsky.producer.catalog.TableMeta;
import io.vrsky.producer.catalog.TableWhitelist;
import io.vrsky.producer.sql.StatementShape.Kind;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;

import static io.vrsky.producer.Envelopes.delete;
import static io.vrsky.producer.Envelopes.insert;
import static io.vrsky.producer.Envelopes.lsn;
import static io.vrsky.producer.Envelopes.row;
import static io.vrsky.producer.Envelopes.update;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ChangeValidatorTest {

    private final ChangeValidator upsert = Tables.validator(ConflictStrategy.UPSERT);

    private RowChange prepare(ChangeValidator validator, Change change) throws Exception {
        return validator.prepare(null, change, new HashSet<>());
    }

    @Test
    void shouldRejectTablesOutsideTheWhitelistWhateverTheirName() {
        assertThatThrownBy(() -> prepare(upsert, insert("secrets", lsn(1), row("id", 1))))
                .isInstanceOf(ValidationException.class).hasMessageContaining("not in POSTGRES_OUTPUT_TABLES");
        assertThatThrownBy(() -> prepare(upsert, insert("orders; DROP TABLE orders", lsn(1), row("id", 1))))
                .isInstanceOf(ValidationException.class).hasMessageContaining("not in POSTGRES_OUTPUT_TABLES");
    }

    @Test
    void shouldRejectColumnsTheCatalogDoesNotKnow() {
        assertThatThrownBy(() -> prepare(upsert, insert("orders", lsn(1), row("id", 1, "note\" = 'x'; --", "v"))))
                .isInstanceOf(ValidationException.class).hasMessageContaining("does not exist in table public.orders");
        assertThatThrownBy(() -> prepare(upsert, delete("orders", lsn(1), row("id", 1, "ghost", 2))))
                .isInstanceOf(ValidationException.class).hasMessageContaining("\"ghost\"");
    }

    @Test
    void shouldRejectValuesThatDoNotFit() {
        assertThatThrownBy(() -> prepare(upsert, insert("orders", lsn(1), row("id", 1, "note",
                io.vrsky.producer.Envelopes.json(com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode())))))
                .isInstanceOf(ValidationException.class);
        assertThatThrownBy(() -> prepare(upsert, delete("orders", lsn(1), row("note", "no key"))))
                .isInstanceOf(ValidationException.class).hasMessageContaining("primary key column \"id\"");
    }

    @Test
    void shouldLeaveUnchangedToastColumnsOutOfTheUpdate() throws Exception {
        RowChange change = prepare(upsert, update("orders", lsn(1), row("id", 1), row("id", 1, "qty", 3), "note"));

        assertThat(change.shape().kind()).isEqualTo(Kind.UPDATE_BY_KEY);
        assertThat(change.shape().columns()).extracting(c -> c.name()).containsExactly("id", "qty");
        assertThat(change.values()).containsExactly("1", "3");
        assertThat(change.whole()).isFalse();
    }

    @Test
    void shouldFindTheRowByTheOldKeyWhenTheKeyChanges() throws Exception {
        RowChange change = prepare(upsert, update("orders", lsn(1), row("id", 1), row("id", 2, "note", "n", "qty", 1)));

        assertThat(change.keyValues()).containsExactly("1");
        assertThat(change.touchedKeys()).containsExactly(List.of("1"), List.of("2"));
        assertThat(change.whole()).isTrue();
    }

    @Test
    void shouldTakeTheKeyFromTheAfterImageWhenThereIsNoBeforeImage() throws Exception {
        RowChange change = prepare(upsert, update("orders", lsn(1), null, row("id", 7, "note", "n")));

        assertThat(change.keyValues()).containsExactly("7");
    }

    @Test
    void shouldMapInsertsByConflictStrategy() throws Exception {
        Change insert = insert("orders", lsn(1), row("id", 1, "note", "n"));

        assertThat(prepare(upsert, insert).shape().kind()).isEqualTo(Kind.UPSERT);
        assertThat(prepare(Tables.validator(ConflictStrategy.INSERT), insert).shape().kind()).isEqualTo(Kind.INSERT);
        RowChange asUpdate = prepare(Tables.validator(ConflictStrategy.UPDATE), insert);
        assertThat(asUpdate.shape().kind()).isEqualTo(Kind.UPDATE_BY_KEY);
        assertThat(asUpdate.onMissing()).isEqualTo(MissingRowPolicy.FAIL);
    }

    @Test
    void upsertShouldUpdateThenInsertWhereRulesForbidOnConflict() throws Exception {
        TableMeta ruled = new TableMeta(Tables.ORDERS_ID, Tables.ORDERS.columns(), Tables.ORDERS.primaryKey(), false, false);
        ChangeValidator validator = new ChangeValidator(SchemaCatalog.fixed(List.of(ruled)), TableWhitelist.of(Tables.ORDERS_ID),
                ConflictStrategy.UPSERT);

        RowChange change = prepare(validator, insert("orders", lsn(1), row("id", 1, "note", "n")));

        assertThat(change.shape().kind()).isEqualTo(Kind.UPDATE_BY_KEY);
        assertThat(change.onMissing()).isEqualTo(MissingRowPolicy.INSERT);
        assertThat(change.keyValues()).containsExactly("1");
        assertThat(change.whole()).isTrue();
    }

    @Test
    void shouldMatchTheWholeBeforeImageForTablesWithoutPrimaryKey() throws Exception {
        RowChange del = prepare(upsert, delete("log", lsn(1), row("b", "x", "a", 1)));

        assertThat(del.shape().kind()).isEqualTo(Kind.DELETE_BY_IDENTITY);
        assertThat(del.shape().key()).extracting(c -> c.name()).containsExactly("a", "b");
        assertThat(del.keyValues()).containsExactly("1", "x");
        assertThatThrownBy(() -> prepare(upsert, update("log", lsn(1), null, row("a", 2))))
                .isInstanceOf(ValidationException.class).hasMessageContaining("REPLICA IDENTITY FULL");
    }

    @Test
    void shouldReportAColumnTheSinkLacksAsASchemaDifferenceWhenTheChangeCarriesItsColumns() {
        Change change = Envelopes.withColumns(insert("orders", lsn(1), row("id", 1, "colour", "red")), "id", "int8", "colour", "text");
        assertThatThrownBy(() -> prepare(upsert, change)).isInstanceOfSatisfying(SchemaMismatchException.class, e -> {
            SchemaDifference d = e.difference();
            assertThat(d.table()).isEqualTo(Tables.ORDERS_ID);
            assertThat(d.tableMissing()).isFalse();
            assertThat(d.missingColumns()).containsExactly(new ColumnInfo("colour", "text", false));
            assertThat(e.getMessage()).contains("public.orders", "\"colour\" (text)");
        });
    }

    @Test
    void shouldReportAWhitelistedTableMissingInTheSinkAsASchemaDifference() {
        ChangeValidator validator = new ChangeValidator(SchemaCatalog.fixed(List.of(Tables.ORDERS)),
                TableWhitelist.of(Tables.ORDERS_ID, new TableId("public", "ghost")), ConflictStrategy.UPSERT);
        Change described = Envelopes.withColumns(insert("ghost", lsn(1), row("id", 1)), "id", "int8");
        assertThatThrownBy(() -> prepare(validator, described)).isInstanceOfSatisfying(SchemaMismatchException.class,
                e -> assertThat(e.difference().tableMissing()).isTrue());
        // another component's minimal envelope names no columns: bad input
        assertThatThrownBy(() -> prepare(validator, insert("ghost", lsn(1), row("id", 1))))
                .isInstanceOf(ValidationException.class).hasMessageContaining("does not exist");
    }

    @Test
    void shouldAskThePolicyOncePerColumnListAndTable() throws Exception {
        List<Change> seen = new java.util.ArrayList<>();
        ChangeValidator validator = new ChangeValidator(SchemaCatalog.fixed(List.of(Tables.ORDERS)), TableWhitelist.of(Tables.ORDERS_ID),
                ConflictStrategy.UPSERT, (connection, source, table, change, before) -> {
                    seen.add(change);
                    return SchemaPolicy.PAUSE_ON_MISSING.reconcile(connection, source, table, change, before);
                });
        Change change = Envelopes.withColumns(insert("orders", lsn(1), row("id", 1, "qty", 2)), "id", "bigint", "qty", "int8");
        // the phase-1 policy applies a type difference alone: the value is cast to the sink's type
        assertThat(prepare(validator, change).values()).containsExactly("1", "2");
        assertThat(ChangeValidator.difference(Tables.ORDERS, change).typeDifferences())
                .containsExactly(new SchemaDifference.TypeDifference("qty", "integer", "int8"));
        assertThat(seen).hasSize(1);
        // the same column list again is not compared again, another one is
        prepare(validator, change);
        assertThat(seen).hasSize(1);
        prepare(validator, Envelopes.withColumns(insert("orders", lsn(2), row("id", 1)), "id", "bigint"));
        assertThat(seen).hasSize(2);
    }

    @Test
    void shouldPauseWhenAnImageNamesAColumnItsOwnColumnListDoesNot() {
        Change change = Envelopes.withColumns(insert("orders", lsn(1), row("id", 1, "ghost", 2)), "id", "bigint");
        assertThatThrownBy(() -> prepare(upsert, change)).isInstanceOfSatisfying(SchemaMismatchException.class,
                e -> assertThat(e.getMessage()).contains("\"ghost\""));
    }
}
