package io.vrsky.admin.status;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nats.client.JetStreamApiException;
import io.nats.client.KeyValue;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.ConsumerInfo;
import io.nats.client.api.KeyValueEntry;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import io.nats.client.api.StreamState;
import io.vrsky.admin.AdminFailure;
import io.vrsky.admin.AdminSettings;
import io.vrsky.admin.connect.Nats;
import io.vrsky.admin.connect.Pg;
import io.vrsky.admin.connect.StreamScan;
import io.vrsky.admin.status.StatusReport.DeadLetterStatus;
import io.vrsky.admin.status.StatusReport.DurableStatus;
import io.vrsky.admin.status.StatusReport.LagStatus;
import io.vrsky.admin.status.StatusReport.PositionStatus;
import io.vrsky.admin.status.StatusReport.PublicationStatus;
import io.vrsky.admin.status.StatusReport.SinkStatus;
import io.vrsky.admin.status.StatusReport.SlotStatus;
import io.vrsky.admin.status.StatusReport.SnapshotStatus;
import io.vrsky.admin.status.StatusReport.SourceStatus;
import io.vrsky.admin.status.StatusReport.StreamStatus;
import io.vrsky.core.config.NatsSettings;
import io.vrsky.core.model.Lsn;
import io.vrsky.core.nats.CdcHeaders;
import io.vrsky.core.pg.PostgresSettings;

import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads the pipeline's state for {@code status}: every section on its own, so that one unreachable
 * server leaves the others readable. Nothing is changed anywhere (the stream is read through an
 * ephemeral ordered consumer).
 */
public final class StatusCollector {

    /** The bucket where postgres-consumer keeps snapshot progress, one record per slot. */
    public static final String SNAPSHOT_BUCKET = "VRSKY_SNAPSHOTS";
    /** How many of the stream's newest messages are read to find each source's newest commit LSN. */
    static final int LAG_SCAN = 10_000;

    private final AdminSettings settings;
    private final boolean allSlots;
    private final Clock clock;
    private final ObjectMapper json = new ObjectMapper();

    public StatusCollector(AdminSettings settings, boolean allSlots, Clock clock) {
        this.settings = settings;
        this.allSlots = allSlots;
        this.clock = clock;
    }

    public StatusReport collect() {
        List<String> errors = new ArrayList<>();
        SourceStatus source = settings.source().postgres() == null ? null : source(settings.source().postgres());
        if (source != null && source.error() != null) {
            errors.add(source.error());
        }
        SinkStatus sink = settings.sink() == null ? null : sink(settings.sink());
        if (sink != null && sink.error() != null) {
            errors.add(sink.error());
        }
        StreamStatus stream;
        DeadLetterStatus dead;
        SnapshotStatus snapshot = null;
        Map<String, Lsn> newestBySlot = Map.of();
        try (Nats nats = Nats.open(settings.nats())) {
            stream = stream(nats);
            if (stream.error() != null) {
                errors.add(stream.error());
            } else if (stream.exists() && stream.messages() > 0) {
                try {
                    newestBySlot = newestCommitBySlot(nats, stream);
                } catch (AdminFailure e) {
                    errors.addAll(e.lines());
                }
            }
            dead = deadLetters(nats);
            if (dead.error() != null) {
                errors.add(dead.error());
            }
            if (settings.source().slot() != null) {
                snapshot = snapshot(nats, settings.source().slot());
                if (snapshot != null && snapshot.error() != null) {
                    errors.add(snapshot.error());
                }
            }
        } catch (AdminFailure e) {
            String line = String.join("; ", e.lines());
            errors.add(line);
            stream = new StreamStatus(settings.nats().stream(), false, 0, 0, 0, 0, 0, null, null, -1, -1, null, null, line);
            dead = new DeadLetterStatus(NatsSettings.DLQ_STREAM, false, 0, null, line);
        }
        return new StatusReport(clock.instant(), source, stream, sink, lag(source, sink, newestBySlot), dead, snapshot, errors);
    }

    // ---- source ----------------------------------------------------------------------------------

    private SourceStatus source(PostgresSettings pg) {
        String slot = settings.source().slot();
        try (Pg session = Pg.open(pg)) {
            Connection c = session.connection();
            try {
                int version;
                String walLsn;
                try (PreparedStatement s = c.prepareStatement("SELECT current_setting('server_version_num')::int,"
                        + " (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() ELSE pg_current_wal_lsn() END)::text");
                     ResultSet rs = s.executeQuery()) {
                    rs.next();
                    version = rs.getInt(1);
                    walLsn = rs.getString(2);
                }
                List<SlotStatus> slots = slots(c, version, walLsn, slot);
                String missing = !allSlots && slot != null && slots.isEmpty() ? slot
                        : allSlots && slot != null && slots.stream().noneMatch(SlotStatus::configured) ? slot : null;
                return new SourceStatus(pg.target(), pg.database(), walLsn, slots, missing, publication(c), null);
            } catch (SQLException e) {
                return new SourceStatus(pg.target(), pg.database(), null, null, null, null, session.describe("reading the slots", e));
            }
        } catch (AdminFailure e) {
            return new SourceStatus(pg.target(), pg.database(), null, null, null, null, String.join("; ", e.lines()));
        }
    }

    private List<SlotStatus> slots(Connection c, int version, String walLsn, String slot) throws SQLException {
        boolean walColumns = version >= 130_000;
        String sql = "SELECT slot_name, plugin, active, active_pid, confirmed_flush_lsn::text, restart_lsn::text,"
                + " pg_wal_lsn_diff(?::pg_lsn, restart_lsn)::bigint, "
                + (walColumns ? "wal_status, safe_wal_size" : "NULL::text, NULL::bigint")
                + " FROM pg_replication_slots WHERE slot_type = 'logical' AND database = current_database()"
                + (allSlots || slot == null ? "" : " AND slot_name = ?") + " ORDER BY slot_name";
        List<SlotStatus> result = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement(sql)) {
            s.setString(1, walLsn);
            if (!allSlots && slot != null) {
                s.setString(2, slot);
            }
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    int pid = rs.getInt(4);
                    Integer activePid = rs.wasNull() ? null : pid;
                    long retained = rs.getLong(7);
                    Long retainedBytes = rs.wasNull() ? null : retained;
                    long safe = rs.getLong(9);
                    Long safeBytes = rs.wasNull() ? null : safe;
                    result.add(new SlotStatus(rs.getString(1), rs.getString(2), rs.getBoolean(3), activePid, rs.getString(5),
                            rs.getString(6), retainedBytes, rs.getString(8), safeBytes, rs.getString(1).equals(slot)));
                }
            }
        }
        return result;
    }

    private PublicationStatus publication(Connection c) throws SQLException {
        String name = settings.source().publication();
        try (PreparedStatement s = c.prepareStatement("SELECT p.puballtables, (SELECT count(*) FROM pg_publication_tables t"
                + " WHERE t.pubname = p.pubname) FROM pg_publication p WHERE p.pubname = ?")) {
            s.setString(1, name);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? new PublicationStatus(name, true, rs.getBoolean(1), rs.getInt(2))
                        : new PublicationStatus(name, false, false, 0);
            }
        }
    }

    // ---- sink ------------------------------------------------------------------------------------

    private SinkStatus sink(PostgresSettings pg) {
        try (Pg session = Pg.open(pg)) {
            Connection c = session.connection();
            try {
                try (PreparedStatement s = c.prepareStatement("SELECT to_regclass('public.vrsky_applied_position') IS NOT NULL");
                     ResultSet rs = s.executeQuery()) {
                    rs.next();
                    if (!rs.getBoolean(1)) {
                        return new SinkStatus(pg.target(), false, List.of(), null);
                    }
                }
                List<PositionStatus> positions = new ArrayList<>();
                try (PreparedStatement s = c.prepareStatement("SELECT source, commit_lsn::text, chunk, updated_at"
                        + " FROM public.vrsky_applied_position ORDER BY source");
                     ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        Timestamp updated = rs.getTimestamp(4);
                        positions.add(new PositionStatus(rs.getString(1), kind(rs.getString(1)), rs.getString(2), rs.getInt(3),
                                updated == null ? null : updated.toInstant()));
                    }
                }
                return new SinkStatus(pg.target(), true, positions, null);
            } catch (SQLException e) {
                return new SinkStatus(pg.target(), false, null, session.describe("reading vrsky_applied_position", e));
            }
        } catch (AdminFailure e) {
            return new SinkStatus(pg.target(), false, null, String.join("; ", e.lines()));
        }
    }

    static String kind(String source) {
        if (source.startsWith("replay:")) {
            return "replay";
        }
        return source.contains("#snap:") ? "snapshot" : "source";
    }

    // ---- NATS ------------------------------------------------------------------------------------

    private StreamStatus stream(Nats nats) {
        String name = settings.nats().stream();
        try {
            StreamInfo info = nats.stream(name, null).orElse(null);
            if (info == null) {
                return new StreamStatus(name, false, 0, 0, 0, 0, 0, null, null, -1, -1, null, null, null);
            }
            StreamConfiguration config = info.getConfiguration();
            StreamState state = info.getStreamState();
            List<DurableStatus> durables = new ArrayList<>();
            for (ConsumerInfo ci : nats.jsm().getConsumers(name)) {
                ConsumerConfiguration cc = ci.getConsumerConfiguration();
                if (cc.getDurable() == null) {
                    continue;
                }
                durables.add(new DurableStatus(ci.getName(), cc.getFilterSubject(), ci.getNumPending(), ci.getNumAckPending(),
                        ci.getAckFloor() == null ? 0 : ci.getAckFloor().getStreamSequence(), ci.getRedelivered(),
                        ci.getName().equals(settings.durable())));
            }
            durables.sort((a, b) -> a.name().compareTo(b.name()));
            Duration maxAge = config.getMaxAge() == null || config.getMaxAge().isZero() ? null : config.getMaxAge();
            return new StreamStatus(name, true, state.getMsgCount(), state.getByteCount(), state.getFirstSequence(),
                    state.getLastSequence(), config.getReplicas(), config.getSubjects(), maxAge, config.getMaxBytes(),
                    config.getMaxMsgs(), config.getDiscardPolicy() == null ? null : config.getDiscardPolicy().name().toLowerCase(),
                    durables, null);
        } catch (AdminFailure e) {
            return new StreamStatus(name, false, 0, 0, 0, 0, 0, null, null, -1, -1, null, null, String.join("; ", e.lines()));
        } catch (IOException | JetStreamApiException e) {
            return new StreamStatus(name, false, 0, 0, 0, 0, 0, null, null, -1, -1, null, null,
                    nats.describe("reading the consumers of " + name, e));
        }
    }

    /**
     * The commit LSN ({@code Vrsky-Commit-Lsn}) of each slot's newest message among the stream's
     * newest {@value #LAG_SCAN}, by the slot named in its {@code Nats-Msg-Id} ({@code <slot>:<lsn>:<chunk>});
     * snapshot messages ({@code <slot>:snap:...}) and replays are left out.
     */
    private Map<String, Lsn> newestCommitBySlot(Nats nats, StreamStatus stream) throws AdminFailure {
        Map<String, Lsn> newest = new HashMap<>();
        long start = Math.max(stream.firstSequence(), stream.lastSequence() - LAG_SCAN + 1);
        StreamScan.scan(nats, stream.name(), null, start, stream.lastSequence(), true, m -> {
            String msgId = m.header(CdcHeaders.MSG_ID);
            String commit = m.header(CdcHeaders.COMMIT_LSN);
            if (msgId != null && commit != null && m.header(CdcHeaders.REPLAY) == null) {
                String[] parts = msgId.split(":");
                if (parts.length >= 3 && !"snap".equals(parts[1]) && !"dlq".equals(parts[1])) {
                    try {
                        Lsn lsn = Lsn.parse(commit);
                        newest.merge(parts[0], lsn, (a, b) -> b.isAfter(a) ? b : a);
                    } catch (IllegalArgumentException e) {
                        // a message of some other publisher with a header that is not an LSN: not a source's position
                    }
                }
            }
            return true;
        });
        return newest;
    }

    private DeadLetterStatus deadLetters(Nats nats) {
        try {
            StreamInfo info = nats.stream(NatsSettings.DLQ_STREAM, NatsSettings.DLQ_SUBJECTS).orElse(null);
            if (info == null) {
                return new DeadLetterStatus(NatsSettings.DLQ_STREAM, false, 0, Map.of(), null);
            }
            Map<String, Long> bySubject = new TreeMap<>(info.getStreamState().getSubjectMap());
            return new DeadLetterStatus(NatsSettings.DLQ_STREAM, true, info.getStreamState().getMsgCount(), bySubject, null);
        } catch (AdminFailure e) {
            return new DeadLetterStatus(NatsSettings.DLQ_STREAM, false, 0, null, String.join("; ", e.lines()));
        }
    }

    private SnapshotStatus snapshot(Nats nats, String slot) {
        try {
            if (nats.stream("KV_" + SNAPSHOT_BUCKET, null).isEmpty()) {
                return null;
            }
            KeyValue kv = nats.connection().keyValue(SNAPSHOT_BUCKET);
            KeyValueEntry entry = kv.get(slot);
            if (entry == null || entry.getValue() == null || entry.getValue().length == 0) {
                return null;
            }
            JsonNode record;
            try {
                record = json.readTree(entry.getValue());
            } catch (IOException e) {
                return new SnapshotStatus(SNAPSHOT_BUCKET, slot, false, "the record is not JSON: " + e.getMessage(), null, null);
            }
            return SnapshotSummary.of(SNAPSHOT_BUCKET, slot, record);
        } catch (AdminFailure e) {
            return new SnapshotStatus(SNAPSHOT_BUCKET, slot, false, null, null, String.join("; ", e.lines()));
        } catch (IOException | JetStreamApiException e) {
            return new SnapshotStatus(SNAPSHOT_BUCKET, slot, false, null, null, nats.describe("reading " + SNAPSHOT_BUCKET, e));
        }
    }

    // ---- lag -------------------------------------------------------------------------------------

    private List<LagStatus> lag(SourceStatus source, SinkStatus sink, Map<String, Lsn> newestBySlot) {
        Map<String, PositionStatus> bySource = new LinkedHashMap<>();
        if (sink != null) {
            sink.positions().stream().filter(p -> p.kind().equals("source")).forEach(p -> bySource.put(p.source(), p));
        }
        settings.source().envelopeSource().ifPresent(s -> bySource.putIfAbsent(s, null));
        List<LagStatus> result = new ArrayList<>();
        for (Map.Entry<String, PositionStatus> e : bySource.entrySet()) {
            String name = e.getKey();
            String slot = name.substring(name.lastIndexOf('/') + 1);
            Lsn stream = newestBySlot.get(slot);
            Lsn applied = e.getValue() == null ? null : parse(e.getValue().commitLsn());
            Lsn confirmed = null;
            if (source != null && settings.source().envelopeSource().map(name::equals).orElse(false)) {
                confirmed = source.slots().stream().filter(s -> s.name().equals(slot)).findFirst()
                        .map(s -> parse(s.confirmedFlushLsn())).orElse(null);
            }
            result.add(new LagStatus(name, slot, stream == null ? null : stream.toString(), applied == null ? null : applied.toString(),
                    behind(stream, applied), confirmed == null ? null : confirmed.toString(), behind(confirmed, applied)));
        }
        return result;
    }

    /** {@code ahead - behind} in bytes, 0 when behind is not behind; null when either is unknown. */
    static Long behind(Lsn ahead, Lsn behind) {
        if (ahead == null || behind == null) {
            return null;
        }
        return ahead.isAfter(behind) ? ahead.value() - behind.value() : 0L;
    }

    private static Lsn parse(String text) {
        try {
            return text == null ? null : Lsn.parse(text);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
