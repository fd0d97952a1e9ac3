package io.vrsky.consumer.snapshot;

import io.vrsky.consumer.snapshot.SnapshotRecord.Kind;
import io.vrsky.consumer.snapshot.SnapshotRecord.Run;
import io.vrsky.consumer.snapshot.SnapshotRecord.State;
import io.vrsky.consumer.snapshot.SnapshotRecord.TableProgress;
import io.vrsky.core.model.Lsn;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SnapshotRecordTest {

    @Test
    void shouldReadBackWhatItWrites() {
        Run run = new Run("s1", Kind.INITIAL, Lsn.parse("0/16B3748"), Instant.parse("2026-02-17T10:00:00Z"), List.of(
                new TableProgress("public.a", State.COPYING, Arrays.asList("O'x", "2"), 2000, 1042),
                new TableProgress("public.b", State.PENDING, null, 0, 0),
                new TableProgress("public.c", State.SKIPPED, List.of(), 1000, 0)));
        SnapshotRecord record = new SnapshotRecord(Set.of("public.z"), run, List.of(List.of("public.q", "public.r")));

        SnapshotRecord back = SnapshotRecord.fromJson(record.toJson());

        assertThat(back).isEqualTo(record);
        assertThat(new String(record.toJson(), StandardCharsets.UTF_8)).contains("\"kind\":\"initial\"", "\"state\":\"copying\"",
                "\"lastKey\":[\"O'x\",\"2\"]", "\"nextChunk\":2000");
        assertThat(back.snapshot().tablesRemaining()).isEqualTo(2);
        assertThat(back.snapshot().finished()).isFalse();
    }

    @Test
    void shouldIgnoreUnknownFieldsAndRefuseWhatIsNotARecord() {
        String json = "{\"known\":[\"public.a\"],\"future\":1,\"snapshot\":{\"id\":\"s\",\"kind\":\"backfill\",\"x\":[],"
                + "\"tables\":[{\"table\":\"public.a\",\"state\":\"done\",\"rows\":3,\"extra\":true}]},\"queue\":[]}";

        SnapshotRecord r = SnapshotRecord.fromJson(json.getBytes(StandardCharsets.UTF_8));

        assertThat(r.snapshot().kind()).isEqualTo(Kind.BACKFILL);
        assertThat(r.snapshot().finished()).isTrue();
        assertThat(r.snapshot().table("public.a").rows()).isEqualTo(3);
        assertThatThrownBy(() -> SnapshotRecord.fromJson("[1]".getBytes(StandardCharsets.UTF_8))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SnapshotRecord.fromJson("{".getBytes(StandardCharsets.UTF_8))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldQueueAndDequeueBackfillsInOrder() {
        SnapshotRecord r = SnapshotRecord.EMPTY.enqueue(List.of("public.a")).enqueue(List.of("public.b", "public.c"));

        assertThat(r.queue()).containsExactly(List.of("public.a"), List.of("public.b", "public.c"));
        assertThat(r.dequeue().queue()).containsExactly(List.of("public.b", "public.c"));
        assertThat(r.withKnown("public.a").known()).containsExactly("public.a");
    }
}
