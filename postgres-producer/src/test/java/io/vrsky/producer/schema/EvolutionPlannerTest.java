package io.vrsky.producer.schema;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.vrsky.core.model.ColumnInfo;
import io.vrsky.core.model.TableId;
import io.vrsky.producer.catalog.ColumnKind;
import io.vrsky.producer.catalog.ColumnMeta;
import io.vrsky.producer.catalog.TableMeta;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class EvolutionPlannerTest {

    private static final TableId ITEMS = new TableId("public", "items");

    /** A sink column as the catalog describes it. */
    private static ColumnMeta sink(String name, int attnum, String typname, int typmod, String sqlType, boolean notNull) {
        return new ColumnMeta(name, attnum, "pg_catalog." + typname, typname, ColumnKind.SCALAR, null, false, typname, typmod, sqlType,
                notNull, false, false);
    }

    private static final ColumnMeta SINK_ID = sink("id", 1, "int4", -1, "integer", true);

    private static ColumnInfo source(String name, String type, int attnum) {
        return new ColumnInfo(name, type, false, attnum, null, null, false, null, null);
    }

    private static final ColumnInfo ID = new ColumnInfo("id", "int4", true, 1, null, "integer", true, null, null);

    /** What the producer records of ID's type. */
    private static final Map<Integer, SourceType> ID_TYPE = Map.of(1, new SourceType("int4", -1));

    private static ColumnInfo varchar(String name, int attnum, int length) {
        return new ColumnInfo(name, "varchar", false, attnum, length + 4, "character varying(" + length + ")", false, null, null);
    }

    private static TableMeta table(ColumnMeta... columns) {
        return new TableMeta(ITEMS, List.of(columns), List.of("id"));
    }

    @Test
    void shouldPlanNothingWhenTheSinkHasTheSourcesColumnsAndTheyAreRecorded() {
        TableMeta t = table(SINK_ID, sink("note", 2, "text", -1, "text", false));
        EvolutionPlan plan = EvolutionPlanner.plan(t, List.of(ID, source("note", "text", 2)), Map.of(1, "id", 2, "note"), ID_TYPE);

        assertThat(plan.isEmpty()).isTrue();
    }

    @Test
    void shouldRecordEveryAttnumTheFirstTimeATableIsSeen() {
        TableMeta t = table(SINK_ID, sink("note", 2, "text", -1, "text", false));
        EvolutionPlan plan = EvolutionPlanner.plan(t, List.of(ID, source("note", "text", 2)), Map.of());

        assertThat(plan.changes()).isEmpty();
        assertThat(plan.mappingPuts()).isEqualTo(Map.of(1, "id", 2, "note"));
        assertThat(plan.typePuts()).isEqualTo(ID_TYPE);
    }

    @Test
    void shouldAddWhatTheSinkLacksAndWidenWhatTheSourceWidened() {
        TableMeta t = table(SINK_ID, sink("n", 2, "int4", -1, "integer", false), sink("name", 3, "varchar", 14, "character varying(10)",
                false));
        ColumnInfo colour = new ColumnInfo("colour", "text", false, 4, null, "text", false, "'red'::text",
                JsonNodeFactory.instance.textNode("red"));
        EvolutionPlan plan = EvolutionPlanner.plan(t, List.of(ID, source("n", "int8", 2),
                new ColumnInfo("name", "varchar", false, 3, 54, "character varying(50)", false, null, null), colour),
                Map.of(1, "id", 2, "n", 3, "name"));

        assertThat(plan.changes()).extracting(ColumnChange::kind, ColumnChange::column).containsExactly(
                org.assertj.core.groups.Tuple.tuple("widen_column", "n"), org.assertj.core.groups.Tuple.tuple("widen_column", "name"),
                org.assertj.core.groups.Tuple.tuple("add_column", "colour"));
        assertThat(plan.mappingPuts()).isEqualTo(Map.of(4, "colour"));
        assertThat(plan.refused()).isFalse();
    }

    @Test
    void shouldRefuseANarrowingAtTheSourceAndAnotherType() {
        TableMeta t = table(SINK_ID, sink("name", 2, "varchar", 54, "character varying(50)", false), sink("qty", 3, "int4", -1, "integer",
                false));
        // the source had varchar(50) when the producer recorded it, varchar(10) now: it narrowed
        EvolutionPlan plan = EvolutionPlanner.plan(t, List.of(ID, varchar("name", 2, 10),
                new ColumnInfo("qty", "text", false, 3, null, "text", false, null, null)), Map.of(1, "id", 2, "name", 3, "qty"),
                Map.of(1, new SourceType("int4", -1), 2, new SourceType("varchar", 54), 3, new SourceType("int4", -1)));

        assertThat(plan.refused()).isTrue();
        assertThat(plan.refusedTypes()).extracting(d -> d.column() + ": " + d.sinkType() + " / " + d.sourceType())
                .containsExactly("name: character varying(50) / character varying(10)", "qty: integer / text");
        assertThat(plan.refusedTypes().get(0).reason()).contains("narrowed");
    }

    @Test
    void shouldKeepASinkColumnThatWasWiderThanTheSourceFromTheStart() {
        TableMeta t = table(SINK_ID, sink("name", 2, "text", -1, "text", false),
                sink("amount", 3, "numeric", -1, "numeric", false));
        ColumnInfo amount = new ColumnInfo("amount", "numeric", false, 3, (12 << 16 | 2) + 4, "numeric(12,2)", false, null, null);
        // nothing recorded yet: the sink was made wider on purpose
        EvolutionPlan first = EvolutionPlanner.plan(t, List.of(ID, varchar("name", 2, 10), amount), Map.of());

        assertThat(first.refused()).isFalse();
        assertThat(first.changes()).isEmpty();
        assertThat(first.typePuts()).containsEntry(2, new SourceType("varchar", 14)).containsEntry(3, new SourceType("numeric", (12 << 16 | 2) + 4));
        // recorded as it is: still nothing to do; the source widening within what the sink holds: nothing to do either
        assertThat(EvolutionPlanner.plan(t, List.of(ID, varchar("name", 2, 10), amount), first.mappingPuts(), first.typePuts()).isEmpty())
                .isTrue();
        EvolutionPlan widened = EvolutionPlanner.plan(t, List.of(ID, varchar("name", 2, 30), amount), first.mappingPuts(), first.typePuts());
        assertThat(widened.refused()).isFalse();
        assertThat(widened.changes()).isEmpty();
        assertThat(widened.typePuts()).isEqualTo(Map.of(2, new SourceType("varchar", 34)));
        // but a narrowing at the source after that pauses
        assertThat(EvolutionPlanner.plan(t, List.of(ID, varchar("name", 2, 5), amount), first.mappingPuts(), first.typePuts()).refused())
                .isTrue();
    }

    @Test
    void shouldRefuseASinkOnlyNotNullColumnWithoutDefaultThatSourceRowsCannotFill() {
        TableMeta t = table(SINK_ID, sink("code", 2, "text", -1, "text", true), sink("note", 3, "text", -1, "text", false));
        // the source never had "code" as far as the record goes (dropped before the producer saw it)
        EvolutionPlan plan = EvolutionPlanner.plan(t, List.of(ID, source("note", "text", 3)), Map.of());

        assertThat(plan.refused()).isTrue();
        assertThat(plan.problems()).singleElement().asString().contains("\"code\"").contains("DROP NOT NULL");
        // recorded and dropped at the source: made nullable instead, no pause
        EvolutionPlan known = EvolutionPlanner.plan(t, List.of(ID, source("note", "text", 3)), Map.of(1, "id", 2, "code", 3, "note"));
        assertThat(known.refused()).isFalse();
        assertThat(known.changes()).containsExactly(new ColumnChange.DropNotNull("code"));
    }

    @Test
    void shouldRenameAKnownAttnumWithANewNameAndAddAnUnknownOne() {
        TableMeta t = table(SINK_ID, sink("note", 2, "text", -1, "text", false));
        EvolutionPlan plan = EvolutionPlanner.plan(t, List.of(ID, source("remark", "text", 2), source("extra", "text", 3)),
                Map.of(1, "id", 2, "note"));

        assertThat(plan.changes()).containsExactly(new ColumnChange.Rename("note", source("remark", "text", 2)),
                new ColumnChange.Add(source("extra", "text", 3)));
        assertThat(plan.mappingPuts()).isEqualTo(Map.of(2, "remark", 3, "extra"));
    }

    @Test
    void shouldNotRenameWhatTheSinkRenamedAlready() {
        TableMeta t = table(SINK_ID, sink("remark", 2, "text", -1, "text", false));
        EvolutionPlan plan = EvolutionPlanner.plan(t, List.of(ID, source("remark", "text", 2)), Map.of(1, "id", 2, "note"));

        assertThat(plan.changes()).isEmpty();
        assertThat(plan.mappingPuts()).isEqualTo(Map.of(2, "remark"));
    }

    @Test
    void shouldRefuseSwappedNamesAndANameTakenByADroppedColumn() {
        TableMeta t = table(SINK_ID, sink("a", 2, "text", -1, "text", false), sink("b", 3, "text", -1, "text", false));
        EvolutionPlan swapped = EvolutionPlanner.plan(t, List.of(ID, source("b", "text", 2), source("a", "text", 3)),
                Map.of(1, "id", 2, "a", 3, "b"));
        assertThat(swapped.refused()).isTrue();
        assertThat(swapped.problems()).allMatch(p -> p.contains("by hand"));

        EvolutionPlan readded = EvolutionPlanner.plan(t, List.of(ID, source("a", "text", 7), source("b", "text", 3)),
                Map.of(1, "id", 2, "a", 3, "b"));
        assertThat(readded.refused()).isTrue();
        assertThat(readded.problems()).singleElement().asString().contains("\"a\"", "dropped", "attnum 2");
    }

    @Test
    void shouldDropNotNullOfARecordedColumnTheSourceNoLongerHas() {
        TableMeta t = table(SINK_ID, sink("qty", 2, "int4", -1, "integer", true), sink("note", 3, "text", -1, "text", true));
        EvolutionPlan plan = EvolutionPlanner.plan(t, List.of(ID), Map.of(1, "id", 2, "qty", 3, "note"));

        assertThat(plan.changes()).containsExactly(new ColumnChange.DropNotNull("qty"), new ColumnChange.DropNotNull("note"));
        assertThat(plan.mappingDrops()).isEqualTo(Set.of(2, 3));
    }

    @Test
    void shouldLeaveSinkOnlyColumnsAloneAndMatchByNameWithoutAttnums() {
        TableMeta t = table(SINK_ID, sink("loaded", 2, "int4", -1, "integer", true), sink("note", 3, "text", -1, "text", false));
        // no attnums (another publisher): by name, nothing recorded, nothing dropped
        EvolutionPlan plan = EvolutionPlanner.plan(t, List.of(new ColumnInfo("id", "int4", true), new ColumnInfo("remark", "text", false)),
                Map.of(1, "id", 2, "loaded", 3, "note"));

        assertThat(plan.changes()).containsExactly(new ColumnChange.Add(new ColumnInfo("remark", "text", false)));
        assertThat(plan.mappingPuts()).isEmpty();
        assertThat(plan.mappingDrops()).isEmpty();
        // not tracked at all: the same
        assertThat(EvolutionPlanner.plan(t, List.of(ID), null).isEmpty()).isTrue();
    }

    @Test
    void shouldNotWidenAColumnWhenTheChangeGivesNoTypeModifier() {
        // a column entry with only "type" (another publisher, or a row without metadata) says nothing
        // of numeric(12,2)'s precision: it is not an unconstrained numeric
        TableMeta t = table(SINK_ID, sink("amount", 2, "numeric", (12 << 16 | 2) + 4, "numeric(12,2)", false));
        EvolutionPlan plan = EvolutionPlanner.plan(t, List.of(ID, source("amount", "numeric", 2)), Map.of(1, "id", 2, "amount"),
                ID_TYPE);

        assertThat(plan.isEmpty()).isTrue();
    }

    @Test
    void shouldTakeTheSameTypeTextOnBothSidesAsTheSameType() {
        // oidvector is an array type whose name is not _oid: the type texts say they are the same
        ColumnMeta vector = new ColumnMeta("v", 2, "pg_catalog.oidvector", "oidvector", ColumnKind.ARRAY, ColumnKind.SCALAR, false,
                "oidvector", -1, "oidvector", false, false, false);
        EvolutionPlan plan = EvolutionPlanner.plan(table(SINK_ID, vector),
                List.of(ID, new ColumnInfo("v", "oid[]", false, 2, null, "oidvector", false, null, null)), Map.of(1, "id", 2, "v"),
                Map.of(1, new SourceType("int4", -1), 2, new SourceType("_oid", -1)));

        assertThat(plan.isEmpty()).isTrue();
    }

    @Test
    void shouldRefuseAColumnOfUnknownTypeOrWithAnOverlongName() {
        TableMeta t = table(SINK_ID);
        EvolutionPlan plan = EvolutionPlanner.plan(t, List.of(new ColumnInfo("id", "int4", true), new ColumnInfo("x", null, false),
                new ColumnInfo("y".repeat(64), "text", false)), null);

        assertThat(plan.problems()).hasSize(2);
        assertThat(plan.changes()).isEmpty();
    }
}
