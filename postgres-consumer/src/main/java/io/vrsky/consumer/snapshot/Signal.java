package io.vrsky.consumer.snapshot;

import io.vrsky.core.model.TableId;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A row of the signal table: {@code ('backfill', 'public.a,public.b')} asks for backfills of those
 * tables. {@link #parse} turns the row's {@code kind} and {@code tables} text into a request and the
 * problems to warn about (unknown kind, names that are not {@code schema.table} or {@code table}).
 *
 * @param tables   the tables named, in order, each once
 * @param problems one line per thing skipped
 */
record Signal(String kind, List<TableId> tables, List<String> problems) {

    static final String BACKFILL = "backfill";
    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]{0,62}(\\.[A-Za-z_][A-Za-z0-9_$]{0,62})?");

    Signal {
        tables = List.copyOf(tables);
        problems = List.copyOf(problems);
    }

    /** Whether the row asks for backfills (of at least one well-formed table name). */
    boolean isBackfill() {
        return BACKFILL.equals(kind) && !tables.isEmpty();
    }

    static Signal parse(String kind, String tables) {
        List<String> problems = new ArrayList<>();
        List<TableId> ids = new ArrayList<>();
        String k = kind == null ? "" : kind.trim();
        if (!BACKFILL.equals(k)) {
            problems.add("signal row of kind '" + printable(k) + "' skipped: the only kind is 'backfill'");
            return new Signal(k, ids, problems);
        }
        if (tables == null || tables.isBlank()) {
            problems.add("backfill signal row without tables skipped: put a comma list of schema.table in column tables");
            return new Signal(k, ids, problems);
        }
        for (String item : tables.split(",")) {
            String name = item.trim();
            if (name.isEmpty()) {
                continue;
            }
            if (!NAME.matcher(name).matches()) {
                problems.add("backfill signal names '" + printable(name) + "', which is not schema.table or table: skipped");
                continue;
            }
            TableId id = TableId.parse(name);
            if (!ids.contains(id)) {
                ids.add(id);
            }
        }
        return new Signal(k, ids, problems);
    }

    /** At most 100 characters of {@code s}, control characters as '?' (it goes into a log line). */
    private static String printable(String s) {
        String cut = s.length() > 100 ? s.substring(0, 100) + "..." : s;
        StringBuilder b = new StringBuilder(cut.length());
        cut.codePoints().forEach(c -> b.appendCodePoint(Character.isISOControl(c) ? '?' : c));
        return b.toString();
    }
}
