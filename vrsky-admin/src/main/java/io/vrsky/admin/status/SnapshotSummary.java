package io.vrsky.admin.status;

import com.fasterxml.jackson.databind.JsonNode;
import io.vrsky.admin.status.StatusReport.SnapshotStatus;

/**
 * Reads a slot's snapshot record (postgres-consumer's JSON in the VRSKY_SNAPSHOTS bucket:
 * {@code {"known":[..],"snapshot":{"id","kind","tables":[{"table","state","rows",..}]},"queue":[[..]]}})
 * into one line. Fields it does not know are ignored and missing ones are left out of the line, so
 * a record of another version still shows.
 */
final class SnapshotSummary {

    private SnapshotSummary() {
    }

    static SnapshotStatus of(String bucket, String key, JsonNode record) {
        JsonNode snapshot = record.path("snapshot");
        int queued = record.path("queue").isArray() ? record.path("queue").size() : 0;
        String queue = queued == 0 ? "" : "; " + queued + (queued == 1 ? " backfill" : " backfills") + " queued";
        if (!snapshot.isObject()) {
            return new SnapshotStatus(bucket, key, queued > 0, (queued > 0 ? "no snapshot running" : "no snapshot") + queue, record, null);
        }
        String id = snapshot.path("id").asText("?");
        String kind = snapshot.path("kind").asText("?");
        int tables = 0;
        int remaining = 0;
        long rows = 0;
        String current = null;
        long currentRows = 0;
        for (JsonNode t : snapshot.path("tables")) {
            tables++;
            long r = t.path("rows").asLong(0);
            rows += r;
            String state = t.path("state").asText("");
            if (!state.equals("done") && !state.equals("skipped")) {
                remaining++;
                if (current == null || state.equals("copying")) {
                    current = t.path("table").asText("?") + " " + (state.isEmpty() ? "pending" : state);
                    currentRows = r;
                }
            }
        }
        boolean inProgress = remaining > 0 || queued > 0;
        String line = remaining > 0
                ? "snapshot " + id + " (" + kind + ") in progress: " + current + " (" + currentRows + " rows), " + remaining + " of "
                        + tables + " tables remaining, " + rows + " rows copied"
                : "snapshot " + id + " (" + kind + ") finished: " + tables + (tables == 1 ? " table, " : " tables, ") + rows
                        + " rows copied";
        return new SnapshotStatus(bucket, key, inProgress, line + queue, record, null);
    }
}
