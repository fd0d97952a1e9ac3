package io.vrsky.consumer.snapshot;

import io.vrsky.core.config.Env;
import io.vrsky.core.config.TableList;
import io.vrsky.core.model.TableId;

import java.util.Locale;
import java.util.Objects;

/**
 * How the consumer copies existing rows.
 *
 * @param mode        {@code POSTGRES_INPUT_SNAPSHOT_MODE}: copy every monitored table on the first
 *                    start with a new slot, and tables that become monitored later ({@link Mode#INITIAL}),
 *                    or stream changes only ({@link Mode#NEVER})
 * @param signalTable {@code POSTGRES_INPUT_SIGNAL_TABLE}: the table whose {@code backfill} rows ask for
 *                    backfills while streaming; null when off
 * @param parallelism {@code POSTGRES_INPUT_SNAPSHOT_PARALLELISM}: tables copied at once by the initial snapshot
 * @param chunkRows   {@code POSTGRES_INPUT_SNAPSHOT_CHUNK_ROWS}: rows one backfill chunk reads
 */
public record SnapshotSettings(Mode mode, TableId signalTable, int parallelism, int chunkRows) {

    /** {@code POSTGRES_INPUT_SNAPSHOT_MODE}. */
    public enum Mode { INITIAL, NEVER }

    public static final int MAX_CHUNK_ROWS = 100_000;

    public SnapshotSettings {
        Objects.requireNonNull(mode, "mode");
        if (parallelism < 1 || chunkRows < 1) {
            throw new IllegalArgumentException("parallelism and chunkRows must be >= 1");
        }
    }

    /** Snapshot mode {@code initial}, no signal table, the defaults for {@code batchSize}. */
    public static SnapshotSettings defaults(int batchSize) {
        return new SnapshotSettings(Mode.INITIAL, null, 2, defaultChunkRows(batchSize));
    }

    static int defaultChunkRows(int batchSize) {
        return (int) Math.min(MAX_CHUNK_ROWS, 10L * batchSize);
    }

    /** Reads the snapshot variables; problems are collected in {@code env}. */
    public static SnapshotSettings read(Env env, int batchSize) {
        String modeText = env.raw("POSTGRES_INPUT_SNAPSHOT_MODE").map(String::trim).orElse("initial");
        Mode mode = Mode.INITIAL;
        switch (modeText.toLowerCase(Locale.ROOT)) {
            case "initial" -> mode = Mode.INITIAL;
            case "never" -> mode = Mode.NEVER;
            default -> env.problem("POSTGRES_INPUT_SNAPSHOT_MODE=" + modeText + " is not allowed: use initial or never");
        }
        TableId signal = TableList.readQualified(env, "POSTGRES_INPUT_SIGNAL_TABLE").orElse(null);
        int parallelism = env.intInRange("POSTGRES_INPUT_SNAPSHOT_PARALLELISM", 2, 1, 16);
        int chunkRows = env.intInRange("POSTGRES_INPUT_SNAPSHOT_CHUNK_ROWS", defaultChunkRows(batchSize), 1, MAX_CHUNK_ROWS);
        return new SnapshotSettings(mode, signal, parallelism, chunkRows);
    }
}
