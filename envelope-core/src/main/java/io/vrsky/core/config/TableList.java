package io.vrsky.core.config;

import io.vrsky.core.model.TableId;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Table names in configuration, one set of rules for every service: {@code POSTGRES_INPUT_TABLES},
 * {@code POSTGRES_OUTPUT_TABLES}, {@code POSTGRES_INPUT_SIGNAL_TABLE} and the tables named on the
 * command line of vrsky-admin.
 *
 * <ul>
 *   <li>{@code schema.table}, or {@code table} meaning {@code public.table};</li>
 *   <li>each name is a plain identifier: 1 to 63 letters, digits, {@code _} or {@code $}, not starting
 *       with a digit. Quoted names ({@code "Mixed Case"}), whitespace inside a name, empty parts and a
 *       second dot are refused, so a name can be written into SQL and compared with the catalog as is;</li>
 *   <li>lists are comma separated; items are trimmed, empty items dropped, a repeated table kept once
 *       (first position);</li>
 *   <li>every refused item is one problem line naming the variable and what is allowed.</li>
 * </ul>
 */
public final class TableList {

    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]{0,62}");

    /** What a name may be, for problem lines. */
    public static final String ALLOWED_NAME = "each name 1 to 63 letters, digits, _ or $ (not starting with a digit)";

    private TableList() {
    }

    /** {@code schema.table} or {@code table} (schema public), trimmed, when every part is a plain identifier; else empty. */
    public static Optional<TableId> name(String text) {
        String trimmed = text.strip();
        String[] parts = trimmed.split("\\.", -1);
        if (parts.length > 2) {
            return Optional.empty();
        }
        for (String part : parts) {
            if (!IDENTIFIER.matcher(part).matches()) {
                return Optional.empty();
            }
        }
        return Optional.of(TableId.parse(trimmed));
    }

    /**
     * The tables of a list whose items were already split and trimmed ({@link Env#list(String)}): in
     * order, each once. Every refused item adds one line to {@code problems}:
     * {@code VARIABLE contains 'item': allowed ...}.
     */
    public static List<TableId> parse(String variable, List<String> items, List<String> problems) {
        List<TableId> tables = new ArrayList<>();
        for (String item : items) {
            Optional<TableId> id = name(item);
            if (id.isEmpty()) {
                problems.add(variable + " contains '" + item + "': allowed a comma list of schema.table or table, " + ALLOWED_NAME);
            } else if (!tables.contains(id.get())) {
                tables.add(id.get());
            }
        }
        return List.copyOf(tables);
    }

    /** The list in {@code variable} ({@link #parse}); empty when unset. Problems go to {@code env}. */
    public static List<TableId> read(Env env, String variable) {
        List<String> problems = new ArrayList<>();
        List<TableId> tables = parse(variable, env.list(variable), problems);
        problems.forEach(env::problem);
        return tables;
    }

    /**
     * One table in {@code variable} that must name its schema ({@code schema.table}); empty when unset
     * or refused (then one problem line {@code VARIABLE=value is not allowed: use schema.table, ...}).
     */
    public static Optional<TableId> readQualified(Env env, String variable) {
        String text = env.raw(variable).map(String::strip).orElse("");
        if (text.isEmpty()) {
            return Optional.empty();
        }
        Optional<TableId> id = text.indexOf('.') < 0 ? Optional.empty() : name(text);
        if (id.isEmpty()) {
            env.problem(variable + "=" + text + " is not allowed: use schema.table, " + ALLOWED_NAME);
        }
        return id;
    }
}
