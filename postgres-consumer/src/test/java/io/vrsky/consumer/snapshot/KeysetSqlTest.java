package io.vrsky.consumer.snapshot;

import io.vrsky.consumer.encode.JsonKind;
import io.vrsky.consumer.encode.PgType;
import io.vrsky.consumer.encode.RelationInfo;
import io.vrsky.core.model.TableId;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KeysetSqlTest {

    private static SnapshotTable table(List<String> key, List<String> keyTypes, int... keyIndex) {
        PgType text = PgType.scalar(25, "text", JsonKind.STRING);
        PgType int4 = PgType.scalar(23, "int4", JsonKind.INTEGER);
        RelationInfo rel = new RelationInfo(1, new TableId("sales", "Order Lines"), 'd', List.of(
                new RelationInfo.Column("region", text, key.contains("region")), new RelationInfo.Column("n", int4, key.contains("n")),
                new RelationInfo.Column("say \"hi\"", text, false)));
        return new SnapshotTable(rel.table(), rel, key, keyTypes, keyIndex);
    }

    @Test
    void shouldReadTheWholeTableInKeyOrderOrInHeapOrderWithoutAKey() {
        assertThat(KeysetSql.wholeTable(table(List.of("region", "n"), List.of("pg_catalog.text", "pg_catalog.int4"), 0, 1)))
                .isEqualTo("COPY (SELECT \"region\", \"n\", \"say \"\"hi\"\"\" FROM \"sales\".\"Order Lines\" ORDER BY \"region\", \"n\") TO STDOUT");
        assertThat(KeysetSql.wholeTable(table(List.of(), List.of())))
                .isEqualTo("COPY (SELECT \"region\", \"n\", \"say \"\"hi\"\"\" FROM \"sales\".\"Order Lines\") TO STDOUT");
    }

    @Test
    void shouldReadTheNextChunkAfterTheLastKeyComparedAsARowOfTypedLiterals() {
        SnapshotTable t = table(List.of("region", "n"), List.of("pg_catalog.text", "pg_catalog.int4"), 0, 1);

        assertThat(KeysetSql.chunk(t, null, 1001)).isEqualTo("COPY (SELECT \"region\", \"n\", \"say \"\"hi\"\"\" FROM \"sales\".\"Order Lines\""
                + " ORDER BY \"region\", \"n\" LIMIT 1001) TO STDOUT");
        assertThat(KeysetSql.chunk(t, List.of("O'Brien \\ x", "42"), 11)).isEqualTo("COPY (SELECT \"region\", \"n\", \"say \"\"hi\"\"\" FROM"
                + " \"sales\".\"Order Lines\" WHERE (\"region\", \"n\") > ('O''Brien \\ x'::pg_catalog.text, '42'::pg_catalog.int4)"
                + " ORDER BY \"region\", \"n\" LIMIT 11) TO STDOUT");
    }

    @Test
    void shouldRefuseKeysThatCannotBeWrittenSafely() {
        SnapshotTable t = table(List.of("n"), List.of("pg_catalog.int4"), 1);
        assertThatThrownBy(() -> KeysetSql.chunk(t, List.of("1", "2"), 10)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> KeysetSql.chunk(t, List.of("a\0b"), 10)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> KeysetSql.chunk(table(List.of(), List.of()), null, 10)).isInstanceOf(IllegalArgumentException.class);
    }
}
