package io.vrsky.producer.sql;

import io.vrsky.core.model.TableId;
import io.vrsky.producer.catalog.ColumnKind;
import io.vrsky.producer.catalog.ColumnMeta;
import io.vrsky.producer.sql.StatementShape.Kind;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class SqlStatementBuilderTest {

    private static final TableId ORDERS = new TableId("public", "orders");
    private static final ColumnMeta ID = ColumnMeta.scalar("id", 1, "bigint");
    private static final ColumnMeta NOTE = ColumnMeta.scalar("note", 2, "text");
    private static final ColumnMeta PRICE = ColumnMeta.scalar("price", 3, "numeric");
    private static final ColumnMeta DOC = new ColumnMeta("doc", 4, "json", "json", ColumnKind.JSON, null, false);

    private final SqlStatementBuilder builder = new SqlStatementBuilder(16);

    @Test
    void shouldInsertManyRowsWithOneArrayPerColumn() {
        String sql = builder.sql(new StatementShape(Kind.INSERT, ORDERS, List.of(ID, NOTE, PRICE), List.of()));

        assertThat(sql).isEqualTo("INSERT INTO \"public\".\"orders\" (\"id\", \"note\", \"price\") "
                + "SELECT v.c1::bigint, v.c2::text, v.c3::numeric FROM unnest(?::text[], ?::text[], ?::text[]) AS v(c1, c2, c3)");
    }

    @Test
    void shouldUpsertOnThePrimaryKey() {
        String sql = builder.sql(new StatementShape(Kind.UPSERT, ORDERS, List.of(ID, NOTE, PRICE), List.of(ID)));

        assertThat(sql).isEqualTo("INSERT INTO \"public\".\"orders\" (\"id\", \"note\", \"price\") "
                + "SELECT v.c1::bigint, v.c2::text, v.c3::numeric FROM unnest(?::text[], ?::text[], ?::text[]) AS v(c1, c2, c3) "
                + "ON CONFLICT (\"id\") DO UPDATE SET \"note\" = EXCLUDED.\"note\", \"price\" = EXCLUDED.\"price\"");
    }

    @Test
    void shouldCopyTheColumnsOfAnInsert() {
        String sql = builder.copy(new StatementShape(Kind.UPSERT, ORDERS, List.of(ID, NOTE), List.of(ID)));

        assertThat(sql).isEqualTo("COPY \"public\".\"orders\" (\"id\", \"note\") FROM STDIN");
    }

    @Test
    void shouldDoNothingOnConflictWhenEveryColumnIsKey() {
        String sql = builder.sql(new StatementShape(Kind.UPSERT, ORDERS, List.of(ID), List.of(ID)));

        assertThat(sql).endsWith("ON CONFLICT (\"id\") DO NOTHING");
    }

    @Test
    void shouldUpdateByTheOldKeyAndReturnWhichRowsItFound() {
        String sql = builder.sql(new StatementShape(Kind.UPDATE_BY_KEY, ORDERS, List.of(ID, NOTE), List.of(ID)));

        assertThat(sql).isEqualTo("UPDATE \"public\".\"orders\" AS t SET \"id\" = v.c1::bigint, \"note\" = v.c2::text "
                + "FROM unnest(?::text[], ?::text[], ?::text[]) WITH ORDINALITY AS v(c1, c2, k1, n) "
                + "WHERE t.\"id\" = v.k1::bigint RETURNING v.n");
    }

    @Test
    void shouldDeleteByKeyWithOneStatement() {
        ColumnMeta region = ColumnMeta.scalar("region", 5, "text");
        String sql = builder.sql(new StatementShape(Kind.DELETE_BY_KEY, ORDERS, List.of(), List.of(region, ID)));

        assertThat(sql).isEqualTo("DELETE FROM \"public\".\"orders\" AS t USING unnest(?::text[], ?::text[]) AS v(k1, k2) "
                + "WHERE t.\"region\" = v.k1::text AND t.\"id\" = v.k2::bigint");
    }

    @Test
    void shouldDeleteOneRowMatchingTheWholeBeforeImageWithoutAPrimaryKey() {
        String sql = builder.sql(new StatementShape(Kind.DELETE_BY_IDENTITY, ORDERS, List.of(), List.of(NOTE, DOC)));

        assertThat(sql).isEqualTo("DELETE FROM \"public\".\"orders\" AS t WHERE (t.tableoid, t.ctid) = ("
                + "SELECT s.tableoid, s.ctid FROM \"public\".\"orders\" AS s WHERE s.\"note\" IS NOT DISTINCT FROM ?::text "
                + "AND s.\"doc\"::jsonb IS NOT DISTINCT FROM ?::jsonb LIMIT 1)");
    }

    @Test
    void shouldUpdateOneRowMatchingTheBeforeImageWithoutAPrimaryKey() {
        String sql = builder.sql(new StatementShape(Kind.UPDATE_BY_IDENTITY, ORDERS, List.of(NOTE), List.of(ID, NOTE)));

        assertThat(sql).isEqualTo("UPDATE \"public\".\"orders\" AS t SET \"note\" = ?::text WHERE (t.tableoid, t.ctid) = ("
                + "SELECT s.tableoid, s.ctid FROM \"public\".\"orders\" AS s WHERE s.\"id\" IS NOT DISTINCT FROM ?::bigint "
                + "AND s.\"note\" IS NOT DISTINCT FROM ?::text LIMIT 1)");
    }

    @Test
    void shouldTruncate() {
        assertThat(builder.sql(new StatementShape(Kind.TRUNCATE, ORDERS, List.of(), List.of())))
                .isEqualTo("TRUNCATE TABLE \"public\".\"orders\"");
    }

    @Test
    void shouldQuoteHostileNamesIntoHarmlessIdentifiers() {
        ColumnMeta evil = ColumnMeta.scalar("a\"; DROP TABLE x; --", 1, "text");
        String sql = builder.sql(new StatementShape(Kind.INSERT, new TableId("s\"", "t"), List.of(evil), List.of()));

        assertThat(sql).startsWith("INSERT INTO \"s\"\"\".\"t\" (\"a\"\"; DROP TABLE x; --\") SELECT v.c1::text");
    }

    @Test
    void shouldCacheTheTextPerShape() {
        StatementShape shape = new StatementShape(Kind.INSERT, ORDERS, List.of(ID), List.of());
        String first = builder.sql(shape);
        String second = builder.sql(new StatementShape(Kind.INSERT, ORDERS, List.of(ID), List.of()));

        assertThat(second).isSameAs(first);
        assertThat(builder.cachedStatements()).isEqualTo(1);
    }
}
