package io.vrsky.producer.sql;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

class CopyTextTest {

    private static String encode(String... values) {
        CopyText text = new CopyText(4);
        for (String v : values) {
            text.value(v);
        }
        text.endRow();
        return new String(Arrays.copyOf(text.buffer(), text.length()), StandardCharsets.UTF_8);
    }

    @Test
    void shouldSeparateColumnsWithTabsAndWriteNullAsBackslashN() {
        assertThat(encode("1", null, "", "x")).isEqualTo("1\t\\N\t\tx\n");
    }

    @Test
    void shouldEscapeBackslashNewlineCarriageReturnAndTab() {
        assertThat(encode("a\\b", "c\nd", "e\rf", "g\th", "\\N", "\\.")).isEqualTo("a\\\\b\tc\\nd\te\\rf\tg\\th\t\\\\N\t\\\\.\n");
    }

    @Test
    void shouldEncodeUtf8AsPgJdbcDoes() {
        String value = "ü€\uD83D\uDE00 lone \uD800 end \uDC00";
        assertThat(encode(value)).isEqualTo(new String(value.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8) + "\n");
        CopyText text = new CopyText(4);
        text.value(value);
        assertThat(Arrays.copyOf(text.buffer(), text.length())).isEqualTo(value.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void shouldStartEachRowAfresh() {
        CopyText text = new CopyText(4);
        text.value("a");
        text.value("b");
        text.endRow();
        text.value("c");
        text.endRow();
        assertThat(new String(Arrays.copyOf(text.buffer(), text.length()), StandardCharsets.UTF_8)).isEqualTo("a\tb\nc\n");
        text.shrink(8);
        assertThat(text.length()).isZero();
        assertThat(text.buffer()).hasSize(8);
    }
}
