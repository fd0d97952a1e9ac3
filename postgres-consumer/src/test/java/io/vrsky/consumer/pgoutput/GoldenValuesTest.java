package io.vrsky.consumer.pgoutput;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

class GoldenValuesTest {
    static final int[] OIDS = {16, 17, 20, 21, 23, 25, 114, 700, 701, 1082, 1083, 1114, 1184, 1186, 1700, 2950, 3802, 1000, 1007, 1009, 199, 3807, 1185, 16386, 16394};
    static final List<String> TEXTS = List.of("", "0", "-1", "12", "-", "1.5", "1e5", "1.", ".5", "-0", "01", "NaN", "Infinity", "-Infinity", "t", "f", "true",
            "a\"b\\c", "tab\there", "nl\nx", "ctl\u0001\u001f\u007f", "é日本😀", "\u2028", "{1,2}", "{\"a\",NULL}", "{}", "[1:2]={1,2}", "{{1},{2}}", "{a,b}",
            "\\x00ff", "\\x0", "abc\\\\\\001", "2026-02-17 11:00:00.12+01", "2026-02-17 10:00:00+00", "2026-02-17 10:00:00.1234567+00",
            "2026-02-30 10:00:00+00", "0001-01-01 00:00:00+01", "9999-12-31 23:30:00-01", "2026-02-17 10:00:00 BC", "infinity", "-infinity",
            "2026-02-17 10:00:00", "2026-02-17 10:00:00.5", "2026-02-17 10:00:00.123456", "12026-02-17 10:00:00", "2026-02-17",
            "10:00:00.5", "{\"k\": 1}", "[1, 2]", "null", "2024-02-29 23:59:59.999999-00", "2024-03-01 00:30:00.5-01:00:30", "1970-01-01 00:00:00+14",
            "2026-13-01 00:00:00+00", "2026-01-01 24:00:00+00", "2026-01-01 00:00:00+1", "2026-01-01 00:00:00.+00", " 1", "1 ");
    @Test
    void dump() throws Exception {
        TypeRegistry types = new TypeRegistry(new TestCatalog());
        StringBuilder sb = new StringBuilder();
        for (int oid : OIDS) {
            for (String t : TEXTS) {
                sb.append(oid).append(" [").append(t).append("] -> ").append(GoldenValues.render(types.resolve(oid), t)).append('\n');
            }
        }
        Files.writeString(Path.of(System.getProperty("golden.dir", "/tmp/cperf/golden"), "values.txt"), sb.toString());
    }
}
