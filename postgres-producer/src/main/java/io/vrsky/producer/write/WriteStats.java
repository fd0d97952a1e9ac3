package io.vrsky.producer.write;

import io.vrsky.producer.metrics.ProducerMetrics;

import java.util.LinkedHashMap;
import java.util.Map;

/** Rows applied (and rows not found) per table and operation within one sink transaction; recorded only once it commits. */
final class WriteStats {

    private record Key(String table, String op) {
    }

    private final Map<Key, Long> written = new LinkedHashMap<>();
    private final Map<Key, Long> missing = new LinkedHashMap<>();
    private long skipped;

    void written(String table, String op, long rows) {
        written.merge(new Key(table, op), rows, Long::sum);
    }

    void missing(String table, String op, long rows) {
        missing.merge(new Key(table, op), rows, Long::sum);
    }

    void skipped(long changes) {
        skipped += changes;
    }

    void addAll(WriteStats other) {
        other.written.forEach((k, v) -> written.merge(k, v, Long::sum));
        other.missing.forEach((k, v) -> missing.merge(k, v, Long::sum));
        skipped += other.skipped;
    }

    long skipped() {
        return skipped;
    }

    long rows() {
        return written.values().stream().mapToLong(Long::longValue).sum();
    }

    void record(ProducerMetrics metrics) {
        written.forEach((k, v) -> metrics.rowsWritten(k.table(), k.op(), v));
        missing.forEach((k, v) -> metrics.missingRows(k.table(), k.op(), v));
        metrics.skipped(skipped);
    }
}
