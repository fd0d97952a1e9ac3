package io.vrsky.admin.text;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Rows of text in left-aligned columns two spaces apart, headers in capitals; null cells print as {@code -}. */
public final class TextTable {

    private final String[] headers;
    private final List<String[]> rows = new ArrayList<>();

    public TextTable(String... headers) {
        this.headers = headers.clone();
    }

    public TextTable row(Object... cells) {
        if (cells.length != headers.length) {
            throw new IllegalArgumentException("expected " + headers.length + " cells, got " + cells.length);
        }
        rows.add(Arrays.stream(cells).map(c -> c == null ? "-" : c.toString()).toArray(String[]::new));
        return this;
    }

    public boolean isEmpty() {
        return rows.isEmpty();
    }

    public void print(PrintWriter out, String indent) {
        int[] widths = new int[headers.length];
        for (int i = 0; i < headers.length; i++) {
            widths[i] = headers[i].length();
            for (String[] row : rows) {
                widths[i] = Math.max(widths[i], row[i].codePointCount(0, row[i].length()));
            }
        }
        line(out, indent, headers, widths);
        for (String[] row : rows) {
            line(out, indent, row, widths);
        }
    }

    private static void line(PrintWriter out, String indent, String[] cells, int[] widths) {
        StringBuilder b = new StringBuilder(indent);
        for (int i = 0; i < cells.length; i++) {
            b.append(cells[i]);
            if (i < cells.length - 1) {
                b.append(" ".repeat(widths[i] - cells[i].codePointCount(0, cells[i].length()) + 2));
            }
        }
        out.println(b.toString().stripTrailing());
    }
}
