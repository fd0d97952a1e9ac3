package io.vrsky.core.codec;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import static org.assertj.core.api.Assertions.assertThat;

class JsonTextTest {

    /** The byte-by-byte definition the eight-bytes-at-a-time scan must agree with. */
    private static int plainLengthByteByByte(byte[] b, int off, int n) {
        int i = off;
        while (i < off + n && b[i] >= 0x20 && b[i] != '"' && b[i] != '\\') {
            i++;
        }
        return i - off;
    }

    @Property(tries = 2000)
    void shouldAgreeWithTheByteLoopOnMostlyPlainText(@ForAll @Size(max = 48) byte[] noise, @ForAll @IntRange(max = 47) int plainUpTo,
                                                     @ForAll @IntRange(max = 9) int offset) {
        // plain letters up to plainUpTo, then the random bytes (anything from -128 to 127)
        byte[] b = new byte[offset + noise.length];
        for (int i = 0; i < noise.length; i++) {
            b[offset + i] = i < plainUpTo ? (byte) ('a' + i % 26) : noise[i];
        }
        for (int n = 0; n <= noise.length; n++) {
            assertThat(JsonText.plainLength(b, offset, n)).as("n=%d", n).isEqualTo(plainLengthByteByByte(b, offset, n));
        }
    }

    @Property(tries = 300)
    void everyStopByteShouldStopTheScanWhereverItIs(@ForAll @IntRange(max = 40) int at, @ForAll byte stop) {
        byte[] b = new byte[41];
        java.util.Arrays.fill(b, (byte) 'x');
        b[at] = stop;
        boolean stops = stop < 0x20 || stop == '"' || stop == '\\';
        assertThat(JsonText.plainLength(b, 0, b.length)).isEqualTo(stops ? at : b.length);
    }
}
