package io.vrsky.consumer.snapshot;

import io.vrsky.core.model.TableId;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class SignalTest {

    @Test
    void shouldReadTheTablesOfABackfillRowInOrderOnce() {
        Signal s = Signal.parse("backfill", " public.a, b ,, public.a,sales.Orders ");

        assertThat(s.isBackfill()).isTrue();
        assertThat(s.tables()).containsExactly(new TableId("public", "a"), new TableId("public", "b"), new TableId("sales", "Orders"));
        assertThat(s.problems()).isEmpty();
    }

    @Test
    void shouldSkipUnknownKindsAndMalformedNamesWithAReason() {
        Signal unknown = Signal.parse("explode", "public.a");
        assertThat(unknown.isBackfill()).isFalse();
        assertThat(unknown.problems()).singleElement().asString().contains("'explode'");

        Signal bad = Signal.parse("backfill", "public.a; DROP TABLE x, a.b.c, ok");
        assertThat(bad.tables()).containsExactly(new TableId("public", "ok"));
        assertThat(bad.problems()).hasSize(2);

        assertThat(Signal.parse("backfill", null).isBackfill()).isFalse();
        assertThat(Signal.parse(null, "a").isBackfill()).isFalse();
    }
}
