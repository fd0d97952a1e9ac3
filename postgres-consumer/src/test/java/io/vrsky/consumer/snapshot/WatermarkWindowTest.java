package io.vrsky.consumer.snapshot;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class WatermarkWindowTest {

    private static final List<WatermarkWindow.Row> CHUNK = List.of(row("1"), row("2"), row("3"), row("4"));

    private static WatermarkWindow.Row row(String id) {
        return new WatermarkWindow.Row(List.of(id, "x"), id.getBytes());
    }

    @Test
    void shouldDropTheRowsChangedInsideTheWindowOnly() {
        WatermarkWindow w = new WatermarkWindow();
        w.changed(List.of("1", "x")); // before the low watermark: the chunk read after it is newer
        w.open();
        w.changed(List.of("2", "x"));
        w.changed(List.of("4", "x"));
        w.changed(List.of("9", "x")); // not in the chunk
        w.changed(null);

        assertThat(w.keep(CHUNK)).extracting(r -> r.key().get(0)).containsExactly("1", "3");
        assertThat(w.changedKeys()).isEqualTo(3);
    }

    @Test
    void shouldDropTheWholeChunkWhenTheTableIsTruncatedInsideTheWindow() {
        WatermarkWindow w = new WatermarkWindow();
        w.truncated(); // before the window: no effect
        assertThat(w.keep(CHUNK)).hasSize(4);
        w.open();
        w.truncated();
        assertThat(w.keep(CHUNK)).isEmpty();
    }
}
