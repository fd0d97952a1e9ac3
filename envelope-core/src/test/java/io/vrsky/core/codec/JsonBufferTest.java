package io.vrsky.core.codec;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.vrsky.core.model.Lsn;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.CharRange;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

class JsonBufferTest {

    private static final com.fasterxml.jackson.databind.ObjectMapper MAPPER = new com.fasterxml.jackson.databind.ObjectMapper();

    /** What a JSON parser reads from the written bytes. */
    private static String parsed(JsonBuffer b) throws Exception {
        return MAPPER.readTree(b.toByteArray()).textValue();
    }

    /** Jackson's text; it escapes supplementary characters as surrogate pairs, which we copy as UTF-8 (the same JSON string). */
    private static String jackson(String s) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = new JsonFactory().createGenerator(out)) {
            g.writeString(s);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Property(tries = 500)
    void shouldEscapeAnyStringLikeJackson(@ForAll String s) throws Exception {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        JsonBuffer fromString = new JsonBuffer(4).string(s);
        JsonBuffer fromBytes = new JsonBuffer(4).string(utf8, 0, utf8.length);

        assertThat(parsed(fromString)).isEqualTo(s);
        assertThat(parsed(fromBytes)).isEqualTo(s);
        if (s.codePoints().allMatch(c -> c < 0x10000)) {
            assertThat(fromBytes.toString()).isEqualTo(jackson(s));
        }
    }

    /** Mostly plain ASCII with the odd quote, backslash, control or DEL anywhere: the eight-bytes-at-a-time scan's edges. */
    @Property(tries = 1000)
    void shouldEscapeMostlyPlainAsciiLikeJackson(@ForAll @StringLength(max = 40) @CharRange(from = 0x1E, to = 0x7F) String s,
                                                 @ForAll @IntRange(max = 7) int offset) throws Exception {
        // a quote on either side: the scan must stop at the string's end
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        byte[] framed = new byte[utf8.length + offset + 3];
        java.util.Arrays.fill(framed, (byte) '"');
        System.arraycopy(utf8, 0, framed, offset, utf8.length);

        assertThat(new JsonBuffer(4).string(framed, offset, utf8.length).toString()).isEqualTo(jackson(s));
    }

    @Property(tries = 500)
    void shouldReadAnyBytesAsJavaDecodesUtf8(@ForAll byte[] bytes) throws Exception {
        String decoded = new String(bytes, StandardCharsets.UTF_8);
        byte[] framed = new byte[bytes.length + 4];
        System.arraycopy(bytes, 0, framed, 2, bytes.length);

        assertThat(parsed(new JsonBuffer(4).string(framed, 2, bytes.length))).isEqualTo(decoded);
    }

    @Test
    void shouldEscapeQuotesBackslashesAndControlCharacters() {
        byte[] text = "a\"b\\c\n\t\u0001\u007fé😀".getBytes(StandardCharsets.UTF_8);
        assertThat(new JsonBuffer(1).string(text, 0, text.length).toString()).isEqualTo("\"a\\\"b\\\\c\\n\\t\\u0001\u007fé😀\"");
    }

    @Test
    void shouldReplaceMalformedUtf8LikeTheJdk() {
        byte[] bad = {'a', (byte) 0xC3, 'b', (byte) 0xED, (byte) 0xA0, (byte) 0x80, (byte) 0xF0, (byte) 0x9F};
        assertThat(new JsonBuffer(1).string(bad, 0, bad.length).toString())
                .isEqualTo("\"" + new String(bad, StandardCharsets.UTF_8) + "\"");
        assertThat(new JsonBuffer(1).rawUtf8(bad, 0, bad.length).toString()).isEqualTo(new String(bad, StandardCharsets.UTF_8));
    }

    @Property(tries = 300)
    void shouldWriteNumbersLikeLongToString(@ForAll long v) {
        assertThat(new JsonBuffer(1).number(v).toString()).isEqualTo(Long.toString(v));
    }

    @Property(tries = 300)
    void shouldWriteLsnsLikeLsnToString(@ForAll long v) {
        assertThat(new JsonBuffer(1).lsn(v).toString()).isEqualTo(new Lsn(v).toString());
    }

    @Property(tries = 1000)
    void shouldWriteInstantsLikeInstantToString(@ForAll @LongRange(min = -70_000_000_000L, max = 260_000_000_000L) long second,
                                                @ForAll @LongRange(min = 0, max = 999_999_999) long nanos) {
        for (long n : new long[] {nanos, nanos / 1000 * 1000, nanos / 1_000_000 * 1_000_000, 0}) {
            Instant t = Instant.ofEpochSecond(second, n);
            assertThat(new JsonBuffer(1).instant(t).toString()).isEqualTo(t.toString());
        }
    }

    @Test
    void shouldWriteTheEdgesOfTheFourDigitYears() {
        for (String s : new String[] {"0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z", "-0001-12-31T23:59:59Z",
                "+10000-01-01T00:00:00Z", "1970-01-01T00:00:00.001Z", "2024-02-29T12:00:00.000001Z"}) {
            Instant t = Instant.parse(s);
            assertThat(new JsonBuffer(1).instant(t).toString()).isEqualTo(t.toString());
        }
    }
}
