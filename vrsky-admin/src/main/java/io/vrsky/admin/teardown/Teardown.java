package io.vrsky.admin.teardown;

import io.nats.client.JetStreamApiException;
import io.nats.client.KeyValue;
import io.nats.client.api.ConsumerInfo;
import io.nats.client.api.KeyValueEntry;
import io.nats.client.PurgeOptions;
import io.nats.client.api.StreamInfo;
import io.nats.client.api.StreamInfoOptions;
import io.vrsky.admin.AdminExit;
import io.vrsky.admin.AdminFailure;
import io.vrsky.admin.AdminSettings;
import io.vrsky.admin.connect.Nats;
import io.vrsky.admin.connect.Pg;
import io.vrsky.admin.status.StatusCollector;
import io.vrsky.admin.text.Sizes;
import io.vrsky.core.nats.JetStreamErrors;
import io.vrsky.core.nats.SubjectMatch;

import java.io.IOException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Removes what one source's pipeline created: its replication slot (never while a consumer holds
 * it), the configured publication, the producer's durable, the CDC stream (or only this source's
 * subject in it) and the slot's snapshot record. {@link #plan} finds what exists and what would
 * refuse; {@link #execute} removes exactly what the plan lists.
 */
public final class Teardown {

    /** One thing to remove: how to say it, and how to do it. */
    public record Item(String description, Action action) {
    }

    @FunctionalInterface
    interface Action {
        void run() throws AdminFailure;
    }

    /** What a teardown would remove, what it leaves, and why it would refuse (then nothing is removed). */
    public record Plan(List<Item> items, List<String> kept, List<String> refusals) {
        public Plan {
            items = List.copyOf(items);
            kept = List.copyOf(kept);
            refusals = List.copyOf(refusals);
        }
    }

    private final AdminSettings settings;
    private final boolean subjectOnly;

    public Teardown(AdminSettings settings, boolean subjectOnly) {
        this.settings = settings;
        this.subjectOnly = subjectOnly;
    }

    /**
     * Looks at the source and NATS. The sessions stay open for {@link #execute}.
     *
     * @param pg   the source, or null when not configured
     */
    public Plan plan(Pg pg, Nats nats) throws AdminFailure {
        List<Item> items = new ArrayList<>();
        List<String> kept = new ArrayList<>();
        List<String> refusals = new ArrayList<>();
        String slot = settings.source().slot();
        if (pg != null) {
            source(pg, slot, items, refusals);
        } else {
            kept.add("the source database (POSTGRES_INPUT_* not configured): no slot or publication dropped");
        }
        stream(nats, items, kept, refusals);
        if (slot != null) {
            snapshotRecord(nats, slot, items);
        }
        kept.add("the dead letters in VRSKY_DLQ (dlq purge removes them)");
        kept.add("the sink database and its vrsky_applied_position");
        return new Plan(items, kept, refusals);
    }

    /** Removes every item of the plan, in order; a failure stops it (what was removed so far stays removed). */
    public List<String> execute(Plan plan) throws AdminFailure {
        List<String> done = new ArrayList<>();
        for (Item item : plan.items()) {
            try {
                item.action().run();
            } catch (AdminFailure e) {
                List<String> lines = new ArrayList<>();
                done.forEach(d -> lines.add("removed " + d));
                lines.addAll(e.lines());
                throw new AdminFailure(e.exit(), lines);
            }
            done.add(item.description());
        }
        return done;
    }

    private void source(Pg pg, String slot, List<Item> items, List<String> refusals) throws AdminFailure {
        String db = pg.settings().database();
        try {
            if (slot != null) {
                try (PreparedStatement s = pg.connection().prepareStatement("SELECT r.database, r.active, r.active_pid,"
                        + " a.application_name, a.client_addr::text,"
                        + " pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() ELSE pg_current_wal_lsn() END,"
                        + " r.restart_lsn)::bigint"
                        + " FROM pg_replication_slots r LEFT JOIN pg_stat_activity a ON a.pid = r.active_pid WHERE r.slot_name = ?")) {
                    s.setString(1, slot);
                    try (ResultSet rs = s.executeQuery()) {
                        if (rs.next()) {
                            String slotDb = rs.getString(1);
                            if (rs.getBoolean(2)) {
                                String app = rs.getString(4);
                                String addr = rs.getString(5);
                                refusals.add("replication slot " + slot + " is active: process " + rs.getInt(3)
                                        + (app == null || app.isEmpty() ? "" : " (" + app + (addr == null ? "" : " from " + addr) + ")")
                                        + " is reading it. Stop the consumer (and its standbys) first");
                            } else if (slotDb != null && !slotDb.equals(db)) {
                                refusals.add("replication slot " + slot + " belongs to database " + slotDb + ", not " + db
                                        + ": set POSTGRES_INPUT_DATABASE=" + slotDb + " to drop it");
                            } else {
                                long retained = rs.getLong(6);
                                String retains = rs.wasNull() ? "" : ", retaining " + Sizes.bytes(retained) + " of WAL";
                                items.add(new Item("replication slot " + slot + " (" + pg.settings().target() + retains + ")",
                                        () -> update(pg, "dropping replication slot " + slot, "SELECT pg_drop_replication_slot(?)", slot)));
                            }
                        }
                    }
                }
            }
            String publication = settings.source().publication();
            try (PreparedStatement s = pg.connection().prepareStatement("SELECT 1 FROM pg_publication WHERE pubname = ?")) {
                s.setString(1, publication);
                try (ResultSet rs = s.executeQuery()) {
                    if (rs.next()) {
                        items.add(new Item("publication " + publication + " (" + pg.settings().target() + ")",
                                () -> update(pg, "dropping publication " + publication, "DROP PUBLICATION IF EXISTS " + quote(publication),
                                        null)));
                    }
                }
            }
        } catch (SQLException e) {
            throw pg.failure("reading the slot and the publication", e);
        }
    }

    private static void update(Pg pg, String doing, String sql, String parameter) throws AdminFailure {
        try (PreparedStatement s = pg.connection().prepareStatement(sql)) {
            if (parameter != null) {
                s.setString(1, parameter);
            }
            s.execute();
        } catch (SQLException e) {
            throw pg.failure(doing, e);
        }
    }

    private void stream(Nats nats, List<Item> items, List<String> kept, List<String> refusals) throws AdminFailure {
        String stream = settings.nats().stream();
        String subject = settings.nats().subject();
        StreamInfo info;
        try {
            info = nats.jsm().getStreamInfo(stream, StreamInfoOptions.allSubjects());
        } catch (JetStreamApiException e) {
            if (e.getApiErrorCode() == JetStreamErrors.STREAM_NOT_FOUND) {
                return;
            }
            throw nats.failure("reading stream " + stream, e);
        } catch (IOException e) {
            throw nats.failure("reading stream " + stream, e);
        }
        Map<String, Long> others = new TreeMap<>();
        long ours = 0;
        for (Map.Entry<String, Long> e : info.getStreamState().getSubjectMap().entrySet()) {
            if (SubjectMatch.covers(subject, e.getKey())) {
                ours += e.getValue();
            } else {
                others.put(e.getKey(), e.getValue());
            }
        }
        ConsumerInfo durable = durable(nats, stream);
        if (subjectOnly) {
            if (durable != null && subject.equals(durable.getConsumerConfiguration().getFilterSubject())) {
                items.add(durableItem(nats, stream, durable));
            } else if (durable != null) {
                kept.add("durable " + durable.getName() + " (its filter " + filterOf(durable) + " reaches beyond " + subject + ")");
            }
            if (ours > 0) {
                long count = ours;
                items.add(new Item(count + (count == 1 ? " message" : " messages") + " on " + subject + " in stream " + stream, () -> {
                    try {
                        nats.jsm().purgeStream(stream, PurgeOptions.builder().subject(subject).build());
                    } catch (IOException | JetStreamApiException e) {
                        throw nats.failure("purging " + subject + " from stream " + stream, e);
                    }
                }));
            }
            kept.add("stream " + stream + " itself (--subject-only)");
            return;
        }
        if (!others.isEmpty()) {
            long count = others.values().stream().mapToLong(Long::longValue).sum();
            refusals.add("stream " + stream + " also holds " + count + " messages of other sources (" + String.join(", ", others.keySet())
                    + "): pass --subject-only to purge only " + subject + " and keep the stream");
            return;
        }
        if (durable != null) {
            items.add(durableItem(nats, stream, durable));
        }
        items.add(new Item("stream " + stream + " (" + info.getStreamState().getMsgCount() + " messages, "
                + Sizes.bytes(info.getStreamState().getByteCount()) + ")", () -> {
                    try {
                        nats.jsm().deleteStream(stream);
                    } catch (IOException | JetStreamApiException e) {
                        throw nats.failure("deleting stream " + stream, e);
                    }
                }));
    }

    private ConsumerInfo durable(Nats nats, String stream) throws AdminFailure {
        try {
            return nats.jsm().getConsumerInfo(stream, settings.durable());
        } catch (JetStreamApiException e) {
            if (e.getApiErrorCode() == JetStreamErrors.CONSUMER_NOT_FOUND) {
                return null;
            }
            throw nats.failure("reading durable " + settings.durable(), e);
        } catch (IOException e) {
            throw nats.failure("reading durable " + settings.durable(), e);
        }
    }

    private static Item durableItem(Nats nats, String stream, ConsumerInfo durable) {
        String name = durable.getName();
        return new Item("durable " + name + " on stream " + stream + " (filter " + filterOf(durable) + ", " + durable.getNumPending()
                + " pending)", () -> {
                    try {
                        nats.jsm().deleteConsumer(stream, name);
                    } catch (JetStreamApiException e) {
                        if (e.getApiErrorCode() != JetStreamErrors.CONSUMER_NOT_FOUND) {
                            throw nats.failure("deleting durable " + name, e);
                        }
                    } catch (IOException e) {
                        throw nats.failure("deleting durable " + name, e);
                    }
                });
    }

    private static String filterOf(ConsumerInfo durable) {
        String f = durable.getConsumerConfiguration().getFilterSubject();
        return f == null ? "(all subjects)" : f;
    }

    private static void snapshotRecord(Nats nats, String slot, List<Item> items) throws AdminFailure {
        String bucket = StatusCollector.SNAPSHOT_BUCKET;
        if (nats.stream("KV_" + bucket, null).isEmpty()) {
            return;
        }
        try {
            KeyValue kv = nats.connection().keyValue(bucket);
            KeyValueEntry entry = kv.get(slot);
            if (entry != null && entry.getValue() != null) {
                items.add(new Item("snapshot record " + slot + " in " + bucket, () -> {
                    try {
                        kv.purge(slot);
                    } catch (IOException | JetStreamApiException e) {
                        throw nats.failure("deleting snapshot record " + slot, e);
                    }
                }));
            }
        } catch (IOException | JetStreamApiException e) {
            throw nats.failure("reading " + bucket, e);
        }
    }

    /** A PostgreSQL identifier in double quotes. Names here are already checked against [a-z0-9_]. */
    static String quote(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }

    static AdminFailure refused(Plan plan) {
        return new AdminFailure(AdminExit.REFUSED, plan.refusals());
    }
}
