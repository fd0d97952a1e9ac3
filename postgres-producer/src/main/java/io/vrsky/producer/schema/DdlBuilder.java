package io.vrsky.producer.schema;

import io.vrsky.core.model.TableId;
import io.vrsky.producer.sql.Identifiers;

import java.util.regex.Pattern;

/**
 * The text of the sink table changes schema evolution runs. Table and column names are quoted
 * ({@link Identifiers}); the table is one the whitelist allows, the names come from the catalog or
 * the source's column list. Type texts and default literals are only ever the sink server's own
 * output ({@code format_type}, {@code quote_literal}) and are checked again here: nothing from an
 * envelope is put into SQL as it is. Pure.
 */
final class DdlBuilder {

    private static final String IDENT = "(?:[A-Za-z_][A-Za-z0-9_$]*|\"(?:[^\"\\p{Cntrl}]|\"\")+\")";
    private static final String MODIFIER = "\\( ?-?\\d{1,10}(?: ?, ?-?\\d{1,10})* ?\\)";
    /**
     * A type as {@code format_type} prints it: words, possibly schema-qualified ({@code character
     * varying}, {@code public."My Type"}), one modifier ({@code (12,2)}), more words ({@code with time
     * zone}), array brackets.
     */
    private static final Pattern TYPE_TEXT = Pattern.compile(IDENT + "(?:\\." + IDENT + ")?(?: " + IDENT + ")*(?:" + MODIFIER
            + ")?(?: " + IDENT + ")*(?:\\[\\d{0,10}\\])*");
    /** A literal as {@code quote_literal} writes it: {@code 'it''s'}, or {@code E'a\\b'} when it holds a backslash. */
    private static final Pattern LITERAL = Pattern.compile("E?'(?:[^']|'')*'", Pattern.DOTALL);
    private static final int MAX_TYPE_TEXT = 256;

    private DdlBuilder() {
    }

    /** Whether {@code text} looks like a type name PostgreSQL prints; anything else is never sent, not even as a parameter. */
    static boolean isTypeText(String text) {
        return text != null && !text.isEmpty() && text.length() <= MAX_TYPE_TEXT && TYPE_TEXT.matcher(text).matches();
    }

    /**
     * {@code ALTER TABLE t ADD COLUMN c <type> [DEFAULT <literal>::<type>] [NOT NULL]}.
     *
     * @param defaultLiteral the value of existing rows as {@code quote_literal} wrote it, or null
     */
    static String addColumn(TableId table, String column, String type, String defaultLiteral, boolean notNull) {
        StringBuilder sql = new StringBuilder("ALTER TABLE ").append(Identifiers.qualified(table)).append(" ADD COLUMN ")
                .append(Identifiers.quote(column)).append(' ').append(checkedType(type));
        if (defaultLiteral != null) {
            if (!LITERAL.matcher(defaultLiteral).matches()) {
                throw new IllegalArgumentException("not a quoted literal");
            }
            sql.append(" DEFAULT ").append(defaultLiteral).append("::").append(type);
        }
        if (notNull) {
            sql.append(" NOT NULL");
        }
        return sql.toString();
    }

    /** {@code ALTER TABLE t ALTER COLUMN c TYPE <type>} (rewrites the table when the new type is not binary compatible). */
    static String alterType(TableId table, String column, String type) {
        return "ALTER TABLE " + Identifiers.qualified(table) + " ALTER COLUMN " + Identifiers.quote(column) + " TYPE "
                + checkedType(type);
    }

    static String renameColumn(TableId table, String from, String to) {
        return "ALTER TABLE " + Identifiers.qualified(table) + " RENAME COLUMN " + Identifiers.quote(from) + " TO "
                + Identifiers.quote(to);
    }

    static String dropNotNull(TableId table, String column) {
        return "ALTER TABLE " + Identifiers.qualified(table) + " ALTER COLUMN " + Identifiers.quote(column) + " DROP NOT NULL";
    }

    private static String checkedType(String type) {
        if (!isTypeText(type)) {
            throw new IllegalArgumentException("not a type name as PostgreSQL prints it");
        }
        return type;
    }
}
