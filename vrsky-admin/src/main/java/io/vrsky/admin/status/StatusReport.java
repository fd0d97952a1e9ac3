package io.vrsky.admin.status;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Everything {@code status} found, section by section. A section that could not be read holds its
 * error line instead of data (and the command exits 3); a section that is not configured is null.
 *
 * @param source      the source database, or null when POSTGRES_INPUT_* is not configured
 * @param stream      the CDC stream (NATS_STREAM) and its durables, or null when NATS could not be asked
 * @param sink        the sink's applied positions, or null when POSTGRES_OUTPUT_* is not configured
 * @param lag         per source: the stream's newest commit LSN against the sink's position and the slot
 * @param deadLetters the VRSKY_DLQ stream's counts per subject
 * @param snapshot    the configured slot's record in the VRSKY_SNAPSHOTS bucket, or null when there is none
 * @param errors      one line per section that could not be read
 */
public record StatusReport(Instant time, SourceStatus source, StreamStatus stream, SinkStatus sink, List<LagStatus> lag,
                           DeadLetterStatus deadLetters, SnapshotStatus snapshot, List<String> errors) {

    public StatusReport {
        lag = List.copyOf(lag);
        errors = List.copyOf(errors);
    }

    /**
     * @param walLsn      the server's current WAL position (the last received one on a standby)
     * @param slots       the configured slot (or every logical slot of the database with --all)
     * @param missingSlot the configured slot's name when it does not exist, else null
     * @param publication the configured publication, or null when it could not be read
     */
    public record SourceStatus(String target, String database, String walLsn, List<SlotStatus> slots, String missingSlot,
                               PublicationStatus publication, String error) {
        public SourceStatus {
            slots = slots == null ? List.of() : List.copyOf(slots);
        }
    }

    /**
     * One logical replication slot, as pg_replication_slots shows it.
     *
     * @param retainedWalBytes WAL kept for this slot: the server's WAL position minus restart_lsn
     * @param walStatus        reserved | extended | unreserved | lost (null before PostgreSQL 13)
     * @param safeWalSizeBytes WAL that may still be written before the slot is in danger of being lost (null: no limit)
     * @param configured       whether it is POSTGRES_INPUT_REPLICATION_SLOT
     */
    public record SlotStatus(String name, String plugin, boolean active, Integer activePid, String confirmedFlushLsn,
                             String restartLsn, Long retainedWalBytes, String walStatus, Long safeWalSizeBytes, boolean configured) {
    }

    /** The configured publication: whether it exists, FOR ALL TABLES or not, and how many tables it publishes. */
    public record PublicationStatus(String name, boolean exists, boolean allTables, int tables) {
    }

    /**
     * The CDC stream.
     *
     * @param maxAge    null when unlimited
     * @param maxBytes  -1 when unlimited
     * @param maxMessages -1 when unlimited
     * @param durables  the stream's durable consumers
     */
    public record StreamStatus(String name, boolean exists, long messages, long bytes, long firstSequence, long lastSequence,
                               int replicas, List<String> subjects, Duration maxAge, long maxBytes, long maxMessages,
                               String discard, List<DurableStatus> durables, String error) {
        public StreamStatus {
            subjects = subjects == null ? List.of() : List.copyOf(subjects);
            durables = durables == null ? List.of() : List.copyOf(durables);
        }
    }

    /**
     * A durable consumer of the CDC stream.
     *
     * @param pending     messages matching its filter not yet delivered
     * @param ackPending  delivered, not yet acknowledged
     * @param ackFloor    the stream sequence up to which everything is acknowledged
     * @param redelivered messages delivered more than once and not yet acknowledged
     * @param configured  whether it is NATS_DURABLE
     */
    public record DurableStatus(String name, String filterSubject, long pending, long ackPending, long ackFloor, long redelivered,
                                boolean configured) {
    }

    /** The sink's vrsky_applied_position rows; {@code tableExists} false before a producer ever started. */
    public record SinkStatus(String target, boolean tableExists, List<PositionStatus> positions, String error) {
        public SinkStatus {
            positions = positions == null ? List.of() : List.copyOf(positions);
        }
    }

    /**
     * One applied position.
     *
     * @param kind {@code source} (a consumer's slot), {@code replay} ({@code replay:<id>}) or
     *             {@code snapshot} ({@code <source>#snap:<id>:<table>})
     */
    public record PositionStatus(String source, String kind, String commitLsn, int chunk, Instant updatedAt) {
    }

    /**
     * How far the sink is behind, in bytes of WAL, for one source.
     *
     * @param streamCommitLsn   the commit LSN of this source's newest message in the stream (among the newest 10,000)
     * @param sinkCommitLsn     the sink's applied position of this source
     * @param streamAheadBytes  streamCommitLsn minus sinkCommitLsn (0 when the sink has it all)
     * @param slotConfirmedLsn  the slot's confirmed_flush_lsn, when the slot is the one shown
     * @param slotAheadBytes    slotConfirmedLsn minus sinkCommitLsn (the consumer has confirmed this much more
     *                          than the sink holds, including WAL of tables nobody monitors)
     */
    public record LagStatus(String source, String slot, String streamCommitLsn, String sinkCommitLsn, Long streamAheadBytes,
                            String slotConfirmedLsn, Long slotAheadBytes) {
    }

    /** The VRSKY_DLQ stream: whether it exists, its message count and the count per subject. */
    public record DeadLetterStatus(String stream, boolean exists, long total, Map<String, Long> bySubject, String error) {
        public DeadLetterStatus {
            bySubject = bySubject == null ? Map.of() : Map.copyOf(bySubject);
        }
    }

    /**
     * The slot's snapshot record.
     *
     * @param inProgress whether a snapshot or backfill is under way or queued
     * @param summary    one line: id, kind, current table, rows, tables remaining
     * @param record     the record as stored (JSON), for scripts
     */
    public record SnapshotStatus(String bucket, String key, boolean inProgress, String summary, JsonNode record, String error) {
    }
}
