package io.vrsky.admin.status;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vrsky.admin.status.StatusReport.DeadLetterStatus;
import io.vrsky.admin.status.StatusReport.DurableStatus;
import io.vrsky.admin.status.StatusReport.LagStatus;
import io.vrsky.admin.status.StatusReport.PositionStatus;
import io.vrsky.admin.status.StatusReport.SinkStatus;
import io.vrsky.admin.status.StatusReport.SlotStatus;
import io.vrsky.admin.status.StatusReport.SnapshotStatus;
import io.vrsky.admin.status.StatusReport.SourceStatus;
import io.vrsky.admin.status.StatusReport.StreamStatus;

import java.time.Instant;

/**
 * {@code status --json}: the report with stable field names (documented in docs/admin.md). Every
 * field is always present; what is unknown or not configured is {@code null}. Bytes are numbers of
 * bytes, LSNs are PostgreSQL's {@code X/Y} text, times ISO-8601 UTC, durations seconds.
 */
public final class StatusJson {

    /** Raised when a field is renamed or removed (added fields keep it). */
    public static final int FORMAT_VERSION = 1;

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private StatusJson() {
    }

    public static String write(StatusReport r) {
        ObjectNode root = JSON.createObjectNode();
        root.put("formatVersion", FORMAT_VERSION);
        root.put("time", r.time().toString());
        source(root, r.source());
        stream(root, r.stream());
        sink(root, r.sink());
        ArrayNode lag = root.putArray("lag");
        for (LagStatus l : r.lag()) {
            ObjectNode n = lag.addObject();
            n.put("source", l.source());
            n.put("slot", l.slot());
            n.put("streamCommitLsn", l.streamCommitLsn());
            n.put("sinkCommitLsn", l.sinkCommitLsn());
            n.put("streamAheadBytes", l.streamAheadBytes());
            n.put("slotConfirmedLsn", l.slotConfirmedLsn());
            n.put("slotAheadBytes", l.slotAheadBytes());
        }
        deadLetters(root, r.deadLetters());
        snapshot(root, r.snapshot());
        ArrayNode errors = root.putArray("errors");
        r.errors().forEach(errors::add);
        try {
            return JSON.writeValueAsString(root);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot write the status as JSON", e);
        }
    }

    private static void source(ObjectNode root, SourceStatus s) {
        if (s == null) {
            root.putNull("source");
            return;
        }
        ObjectNode n = root.putObject("source");
        n.put("target", s.target());
        n.put("database", s.database());
        n.put("walLsn", s.walLsn());
        n.put("missingSlot", s.missingSlot());
        ArrayNode slots = n.putArray("slots");
        for (SlotStatus slot : s.slots()) {
            ObjectNode o = slots.addObject();
            o.put("name", slot.name());
            o.put("configured", slot.configured());
            o.put("plugin", slot.plugin());
            o.put("active", slot.active());
            o.put("activePid", slot.activePid());
            o.put("confirmedFlushLsn", slot.confirmedFlushLsn());
            o.put("restartLsn", slot.restartLsn());
            o.put("retainedWalBytes", slot.retainedWalBytes());
            o.put("walStatus", slot.walStatus());
            o.put("safeWalSizeBytes", slot.safeWalSizeBytes());
        }
        if (s.publication() == null) {
            n.putNull("publication");
        } else {
            ObjectNode p = n.putObject("publication");
            p.put("name", s.publication().name());
            p.put("exists", s.publication().exists());
            p.put("allTables", s.publication().allTables());
            p.put("tables", s.publication().tables());
        }
        n.put("error", s.error());
    }

    private static void stream(ObjectNode root, StreamStatus s) {
        ObjectNode n = root.putObject("stream");
        n.put("name", s.name());
        n.put("exists", s.exists());
        n.put("messages", s.messages());
        n.put("bytes", s.bytes());
        n.put("firstSequence", s.firstSequence());
        n.put("lastSequence", s.lastSequence());
        n.put("replicas", s.replicas());
        ArrayNode subjects = n.putArray("subjects");
        s.subjects().forEach(subjects::add);
        ObjectNode limits = n.putObject("limits");
        limits.put("maxAgeSeconds", s.maxAge() == null ? null : s.maxAge().toSeconds());
        limits.put("maxBytes", s.maxBytes() <= 0 ? null : s.maxBytes());
        limits.put("maxMessages", s.maxMessages() <= 0 ? null : s.maxMessages());
        limits.put("discard", s.discard());
        ArrayNode durables = n.putArray("durables");
        for (DurableStatus d : s.durables()) {
            ObjectNode o = durables.addObject();
            o.put("name", d.name());
            o.put("configured", d.configured());
            o.put("filterSubject", d.filterSubject());
            o.put("pending", d.pending());
            o.put("ackPending", d.ackPending());
            o.put("ackFloor", d.ackFloor());
            o.put("redelivered", d.redelivered());
        }
        n.put("error", s.error());
    }

    private static void sink(ObjectNode root, SinkStatus s) {
        if (s == null) {
            root.putNull("sink");
            return;
        }
        ObjectNode n = root.putObject("sink");
        n.put("target", s.target());
        n.put("positionTableExists", s.tableExists());
        ArrayNode positions = n.putArray("positions");
        for (PositionStatus p : s.positions()) {
            ObjectNode o = positions.addObject();
            o.put("source", p.source());
            o.put("kind", p.kind());
            o.put("commitLsn", p.commitLsn());
            o.put("chunk", p.chunk());
            o.put("updatedAt", time(p.updatedAt()));
        }
        n.put("error", s.error());
    }

    private static void deadLetters(ObjectNode root, DeadLetterStatus d) {
        ObjectNode n = root.putObject("deadLetters");
        n.put("stream", d.stream());
        n.put("exists", d.exists());
        n.put("total", d.total());
        ObjectNode subjects = n.putObject("bySubject");
        d.bySubject().entrySet().stream().sorted(java.util.Map.Entry.comparingByKey())
                .forEach(e -> subjects.put(e.getKey(), e.getValue()));
        n.put("error", d.error());
    }

    private static void snapshot(ObjectNode root, SnapshotStatus s) {
        if (s == null) {
            root.putNull("snapshot");
            return;
        }
        ObjectNode n = root.putObject("snapshot");
        n.put("bucket", s.bucket());
        n.put("key", s.key());
        n.put("inProgress", s.inProgress());
        n.put("summary", s.summary());
        n.set("record", s.record());
        n.put("error", s.error());
    }

    private static String time(Instant t) {
        return t == null ? null : t.toString();
    }
}
