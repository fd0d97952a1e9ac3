package io.vrsky.consumer.replication;

import io.vrsky.core.model.TableId;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class SlotManagerTest {

    private static final SlotManager.Stream STREAM = new SlotManager.Stream("VRSKY_CDC", "vrsky.cdc.shop", () -> true);
    private static final TableId EVENTS = new TableId("public", "events");

    @Test
    void shouldCallASlotLostOnlyWhenPostgresInvalidatedIt() {
        assertThat(SlotManager.lostSlot("s", "reserved", null, STREAM)).isEmpty();
        assertThat(SlotManager.lostSlot("s", "extended", null, STREAM)).isEmpty();
        assertThat(SlotManager.lostSlot("s", "unreserved", null, STREAM)).as("may still recover").isEmpty();
        assertThat(SlotManager.lostSlot("s", null, null, STREAM)).as("before PostgreSQL 13").isEmpty();

        assertThat(SlotManager.lostSlot("s", "lost", null, STREAM)).hasValueSatisfying(line -> assertThat(line)
                .startsWith("replication slot s was invalidated by PostgreSQL (wal_status lost)").contains("changes were lost")
                .contains("SELECT pg_drop_replication_slot('s')")
                .contains("nats stream purge VRSKY_CDC --subject=vrsky.cdc.shop").endsWith("re-copy the tables into the sink"));
        assertThat(SlotManager.lostSlot("s", "lost", "rows_removed", STREAM)).hasValueSatisfying(line -> assertThat(line)
                .contains("(invalidation reason rows_removed)"));
        assertThat(SlotManager.lostSlot("s", "reserved", "wal_level_insufficient", STREAM)).isPresent();
    }

    @Test
    void shouldNameTheFixForEachReplicaIdentityThatCannotPublishUpdatesAndDeletes() {
        assertThat(SlotManager.identityProblem(EVENTS, 'd', true, false)).isEmpty();
        assertThat(SlotManager.identityProblem(EVENTS, 'f', false, false)).isEmpty();
        assertThat(SlotManager.identityProblem(EVENTS, 'i', false, true)).isEmpty();

        assertThat(SlotManager.identityProblem(EVENTS, 'd', false, false)).contains("table public.events has no primary key and"
                + " REPLICA IDENTITY DEFAULT: its UPDATE and DELETE cannot be published, and adding it to the publication would make"
                + " them fail at the source. Fix: ALTER TABLE public.events REPLICA IDENTITY FULL (or add a primary key), or set"
                + " POSTGRES_INPUT_OPERATIONS=INSERT");
        assertThat(SlotManager.identityProblem(EVENTS, 'n', true, false)).hasValueSatisfying(line -> assertThat(line)
                .contains("has REPLICA IDENTITY NOTHING").contains("REPLICA IDENTITY DEFAULT (it has a primary key) or FULL"));
        assertThat(SlotManager.identityProblem(EVENTS, 'i', false, false)).hasValueSatisfying(line -> assertThat(line)
                .contains("USING INDEX, but that index no longer exists"));
    }
}
