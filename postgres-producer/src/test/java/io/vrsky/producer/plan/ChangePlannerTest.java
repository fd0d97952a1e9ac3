package io.vrsky.producer.plan;

import io.vrsky.core.model.Change;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

import static io.vrsky.producer.Envelopes.delete;
import static io.vrsky.producer.Envelopes.insert;
import static io.vrsky.producer.Envelopes.lsn;
import static io.vrsky.producer.Envelopes.row;
import static io.vrsky.producer.Envelopes.update;
import static org.assertj.core.api.Assertions.assertThat;

class ChangePlannerTest {

    private final ChangeValidator validator = Tables.validator(ConflictStrategy.UPSERT);

    private List<Run> plan(Change... changes) throws Exception {
        List<RowChange> rows = new ArrayList<>();
        for (Change c : changes) {
            rows.add(validator.prepare(null, c, new HashSet<>()));
        }
        return ChangePlanner.plan(rows);
    }

    @Test
    void shouldPutConsecutiveChangesOfOneTableAndOperationIntoOneStatement() throws Exception {
        List<Run> runs = plan(
                insert("orders", lsn(1), row("id", 1, "note", "a")),
                insert("orders", lsn(2), row("id", 2, "note", "b")),
                insert("orders", lsn(3), row("id", 3, "note", "c")),
                delete("orders", lsn(4), row("id", 7)),
                delete("orders", lsn(4), row("id", 8)));

        assertThat(runs).extracting(r -> r.rows().size()).containsExactly(3, 2);
    }

    @Test
    void shouldSplitWhereAKeyRepeats() throws Exception {
        List<Run> runs = plan(
                insert("orders", lsn(1), row("id", 1, "note", "a")),
                insert("orders", lsn(1), row("id", 2, "note", "b")),
                insert("orders", lsn(2), row("id", 1, "note", "again")));

        assertThat(runs).extracting(r -> r.rows().size()).containsExactly(2, 1);
    }

    @Test
    void shouldSplitUpdatesWhenOneMovesARowToAKeyAnotherReads() throws Exception {
        List<Run> runs = plan(
                update("orders", lsn(1), row("id", 1), row("id", 2, "note", "x")),
                update("orders", lsn(1), row("id", 2), row("id", 3, "note", "y")),
                update("orders", lsn(1), row("id", 4), row("id", 4, "note", "z")));

        assertThat(runs).extracting(r -> r.rows().size()).containsExactly(1, 2);
    }

    @Test
    void shouldSplitWhenTheColumnSetChanges() throws Exception {
        List<Run> runs = plan(
                update("orders", lsn(1), row("id", 1), row("id", 1, "note", "x", "qty", 1)),
                update("orders", lsn(1), row("id", 2), row("id", 2, "qty", 2), "note"),
                update("orders", lsn(1), row("id", 3), row("id", 3, "qty", 3), "note"));

        assertThat(runs).extracting(r -> r.rows().size()).containsExactly(1, 2);
    }

    @Test
    void shouldKeepOrderAcrossTables() throws Exception {
        List<Run> runs = plan(
                insert("orders", lsn(1), row("id", 1)),
                insert("log", lsn(1), row("a", 1)),
                insert("orders", lsn(1), row("id", 2)));

        assertThat(runs).extracting(r -> r.shape().table().table()).containsExactly("orders", "log", "orders");
    }
}
