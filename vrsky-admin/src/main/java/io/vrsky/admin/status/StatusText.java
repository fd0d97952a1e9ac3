package io.vrsky.admin.status;

import io.vrsky.admin.status.StatusReport.DeadLetterStatus;
import io.vrsky.admin.status.StatusReport.DurableStatus;
import io.vrsky.admin.status.StatusReport.LagStatus;
import io.vrsky.admin.status.StatusReport.PositionStatus;
import io.vrsky.admin.status.StatusReport.SinkStatus;
import io.vrsky.admin.status.StatusReport.SlotStatus;
import io.vrsky.admin.status.StatusReport.SourceStatus;
import io.vrsky.admin.status.StatusReport.StreamStatus;
import io.vrsky.admin.text.Sizes;
import io.vrsky.admin.text.TextTable;

import java.io.PrintWriter;
import java.util.stream.Collectors;

/** {@code status} for people: one block per part of the pipeline, tables where there are rows. */
public final class StatusText {

    private StatusText() {
    }

    public static void print(StatusReport r, PrintWriter out) {
        source(r.source(), out);
        stream(r.stream(), out);
        sink(r.sink(), out);
        lag(r, out);
        deadLetters(r.deadLetters(), out);
        out.println("snapshot: " + (r.snapshot() == null ? "none"
                : r.snapshot().error() != null ? "unreadable: " + r.snapshot().error() : r.snapshot().summary()));
    }

    private static void source(SourceStatus s, PrintWriter out) {
        if (s == null) {
            out.println("source: not configured (POSTGRES_INPUT_HOST, _USER, _DATABASE)");
            out.println();
            return;
        }
        if (s.error() != null) {
            out.println("source: " + s.error());
            out.println();
            return;
        }
        out.println("source: " + s.target() + ", WAL at " + s.walLsn());
        if (s.missingSlot() != null) {
            out.println("  replication slot " + s.missingSlot() + " does not exist");
        }
        if (!s.slots().isEmpty()) {
            TextTable t = new TextTable("SLOT", "ACTIVE", "PID", "CONFIRMED", "RESTART", "RETAINED WAL", "WAL STATUS", "SAFE WAL SIZE");
            for (SlotStatus slot : s.slots()) {
                t.row(slot.name() + (slot.configured() ? " *" : ""), slot.active() ? "yes" : "no", slot.activePid(),
                        slot.confirmedFlushLsn(), slot.restartLsn(), Sizes.bytes(slot.retainedWalBytes()), slot.walStatus(),
                        slot.safeWalSizeBytes() == null ? "no limit" : Sizes.bytes(slot.safeWalSizeBytes()));
            }
            t.print(out, "  ");
        }
        if (s.publication() != null) {
            var p = s.publication();
            out.println("  publication " + p.name() + ": " + (!p.exists() ? "does not exist"
                    : (p.allTables() ? "FOR ALL TABLES, " : "") + p.tables() + (p.tables() == 1 ? " table" : " tables")));
        }
        out.println();
    }

    private static void stream(StreamStatus s, PrintWriter out) {
        if (s.error() != null) {
            out.println("stream " + s.name() + ": " + s.error());
            out.println();
            return;
        }
        if (!s.exists()) {
            out.println("stream " + s.name() + ": does not exist");
            out.println();
            return;
        }
        out.println("stream " + s.name() + ": " + s.messages() + " messages, " + Sizes.bytes(s.bytes()) + ", sequences "
                + s.firstSequence() + ".." + s.lastSequence() + ", " + s.replicas() + (s.replicas() == 1 ? " replica" : " replicas")
                + ", subjects " + String.join(" ", s.subjects()));
        out.println("  limits: max age " + Sizes.duration(s.maxAge()) + ", max bytes " + Sizes.limit(s.maxBytes(), true)
                + ", max messages " + Sizes.limit(s.maxMessages(), false) + ", discard " + s.discard());
        if (s.durables().isEmpty()) {
            out.println("  no durable consumers");
        } else {
            TextTable t = new TextTable("DURABLE", "FILTER", "PENDING", "ACK PENDING", "ACK FLOOR", "REDELIVERED");
            for (DurableStatus d : s.durables()) {
                t.row(d.name() + (d.configured() ? " *" : ""), d.filterSubject() == null ? "(all)" : d.filterSubject(), d.pending(),
                        d.ackPending(), d.ackFloor(), d.redelivered());
            }
            t.print(out, "  ");
        }
        out.println();
    }

    private static void sink(SinkStatus s, PrintWriter out) {
        if (s == null) {
            out.println("sink: not configured (POSTGRES_OUTPUT_HOST, _USER, _DATABASE)");
            out.println();
            return;
        }
        if (s.error() != null) {
            out.println("sink: " + s.error());
            out.println();
            return;
        }
        if (!s.tableExists()) {
            out.println("sink: " + s.target() + ": no vrsky_applied_position table (no producer has written here yet)");
            out.println();
            return;
        }
        out.println("sink: " + s.target() + ", " + s.positions().size() + (s.positions().size() == 1 ? " applied position" : " applied positions"));
        if (!s.positions().isEmpty()) {
            TextTable t = new TextTable("SOURCE", "KIND", "COMMIT LSN", "CHUNK", "UPDATED");
            for (PositionStatus p : s.positions()) {
                t.row(p.source(), p.kind(), p.commitLsn(), p.chunk(), p.updatedAt());
            }
            t.print(out, "  ");
        }
        out.println();
    }

    private static void lag(StatusReport r, PrintWriter out) {
        if (r.lag().isEmpty()) {
            return;
        }
        out.println("lag (bytes of WAL the sink is behind):");
        TextTable t = new TextTable("SOURCE", "STREAM NEWEST", "SINK", "BEHIND STREAM", "SLOT CONFIRMED", "BEHIND SLOT");
        for (LagStatus l : r.lag()) {
            t.row(l.source(), l.streamCommitLsn(), l.sinkCommitLsn(), Sizes.bytes(l.streamAheadBytes()), l.slotConfirmedLsn(),
                    Sizes.bytes(l.slotAheadBytes()));
        }
        t.print(out, "  ");
        out.println();
    }

    private static void deadLetters(DeadLetterStatus d, PrintWriter out) {
        if (d.error() != null) {
            out.println("dead letters: " + d.error());
        } else if (!d.exists()) {
            out.println("dead letters: none (stream " + d.stream() + " does not exist)");
        } else {
            out.println("dead letters: " + d.total() + " in " + d.stream() + (d.bySubject().isEmpty() ? "" : " ("
                    + d.bySubject().entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", "))
                    + ")"));
        }
    }
}
