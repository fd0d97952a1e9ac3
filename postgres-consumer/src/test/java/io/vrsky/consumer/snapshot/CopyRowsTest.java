package io.vrsky.consumer.snapshot;

import io.vrsky.consumer.pgoutput.TupleView;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CopyRowsTest {

    private static String value(TupleView v, int i) {
        return new String(v.data(), v.offset(i), v.length(i), StandardCharsets.UTF_8);
    }

    private static TupleView read(String row, int columns) {
        TupleView view = new TupleView();
        new CopyRows().read(row.getBytes(StandardCharsets.UTF_8), columns, view);
        return view;
    }

    @Test
    void shouldSplitOnTabsAndUndoEveryEscape() {
        TupleView v = read("1\ta\\tb\\nc\\\\d\\re\\bf\\fg\\vh\tplain é 漢\n", 3);

        assertThat(v.size()).isEqualTo(3);
        assertThat(value(v, 0)).isEqualTo("1");
        assertThat(value(v, 1)).isEqualTo("a\tb\nc\\d\re\bf\fg\u000Bh");
        assertThat(value(v, 2)).isEqualTo("plain é 漢");
    }

    @Test
    void shouldTellNullFromTheTextBackslashN() {
        TupleView v = read("\\N\t\\\\N\t\t\\N\n", 4);

        assertThat(v.kind(0)).isEqualTo(TupleView.NULL);
        assertThat(v.kind(1)).isEqualTo(TupleView.TEXT);
        assertThat(value(v, 1)).isEqualTo("\\N");
        assertThat(v.kind(2)).isEqualTo(TupleView.TEXT);
        assertThat(value(v, 2)).isEmpty();
        assertThat(v.kind(3)).isEqualTo(TupleView.NULL);
    }

    @Test
    void shouldReadOctalAndHexEscapes() {
        TupleView v = read("\\101\\x42\\7", 1);

        assertThat(v.data()[v.offset(0)]).isEqualTo((byte) 'A');
        assertThat(v.data()[v.offset(0) + 1]).isEqualTo((byte) 'B');
        assertThat(v.data()[v.offset(0) + 2]).isEqualTo((byte) 7);
        assertThat(v.length(0)).isEqualTo(3);
    }

    @Test
    void shouldReadAnEmptyOnlyColumnAndRefuseAWrongColumnCount() {
        assertThat(read("\n", 1).length(0)).isZero();
        assertThatThrownBy(() -> read("1\t2\n", 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> read("1\n", 2)).isInstanceOf(IllegalArgumentException.class);
    }
}
