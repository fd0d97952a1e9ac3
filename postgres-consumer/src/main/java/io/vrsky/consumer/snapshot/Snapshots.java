package io.vrsky.consumer.snapshot;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vrsky.consumer.ConsumerConfig;
import io.vrsky.consumer.encode.ChangeEncoder.TxStrings;
import io.vrsky.consumer.encode.RelationInfo;
import io.vrsky.consumer.encode.TypeRegistry;
import io.vrsky.consumer.pgoutput.PgOutputMessage;
import io.vrsky.consumer.pgoutput.TupleView;
import io.vrsky.consumer.publish.JetStreamPublisher;
import io.vrsky.consumer.snapshot.SnapshotRecord.Kind;
import io.vrsky.consumer.snapshot.SnapshotRecord.Run;
import io.vrsky.consumer.snapshot.SnapshotRecord.State;
import io.vrsky.consumer.snapshot.SnapshotRecord.TableProgress;
import io.vrsky.consumer.snapshot.SnapshotSettings.Mode;
import io.vrsky.consumer.tx.StreamObserver;
import io.vrsky.consumer.tx.TxInfo;
import io.vrsky.core.model.Lsn;
import io.vrsky.core.model.Operation;
import io.vrsky.core.model.TableId;
import io.vrsky.core.pg.PgErrors;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Runs the consumer's snapshots: the initial snapshot of a new slot (under the slot's exported
 * snapshot, before streaming starts: {@link InitialCopy}), and while streaming the backfills of
 * tables an interrupted snapshot did not finish, of tables that became monitored later, and of
 * tables a signal row names ({@link Backfill}: DBLog watermarks for tables with a key; a temporary
 * slot's exported snapshot for tables without one). Progress is kept in the
 * {@link ProgressStore} and moves only with JetStream's acknowledgements; chunk numbers are
 * reserved in steps of {@value #RESERVE} before use, so a resume numbers on past anything that may
 * have been sent.
 *
 * <p>Threads: the replication thread calls everything but {@link #progress()} (the health server's
 * threads) and the acknowledgement callbacks (NATS threads, which only queue what was acknowledged).
 */
public final class Snapshots implements StreamObserver {

    private static final Logger LOG = LoggerFactory.getLogger(Snapshots.class);
    static final int RESERVE = 1_000;
    static final String MESSAGE_PREFIX = "vrsky";
    private static final Duration SAVE_EVERY = Duration.ofMillis(500);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What readiness shows of a running snapshot. */
    public record Progress(String id, String table, long rowsCopied, long tablesRemaining) {
    }

    /** A published message and what its acknowledgement records. */
    private record Point(String table, int chunk, List<String> lastKey, long rows, boolean tableDone) {
    }

    private final ConsumerConfig config;
    private final SnapshotSettings settings;
    private final DataSource catalogPool;
    private final DataSource copySource;
    private final JetStreamPublisher publisher;
    private final SnapshotMetrics metrics;
    private final Clock clock;
    private final SnapshotCatalog catalog;
    private final ConcurrentLinkedQueue<Point> acked = new ConcurrentLinkedQueue<>();

    // replication thread only
    private ProgressStore store;
    private SnapshotRecord record = SnapshotRecord.EMPTY;
    private final Map<String, ArrayDeque<Point>> published = new HashMap<>();
    private final Map<String, Set<Integer>> ackedChunks = new HashMap<>();
    private final Map<String, SnapshotTable> tables = new HashMap<>();
    private final Map<String, Long> tableStarted = new HashMap<>();
    private List<TableId> monitored = List.of();
    private boolean dirty;
    private long lastSave;
    private Backfill backfill;
    private SessionHooks hooks;
    private long maxChangeBytes;
    private volatile Progress progress;
    private volatile long runStartedMillis;
    private boolean neverLogged;

    public Snapshots(ConsumerConfig config, DataSource catalogPool, DataSource copySource, TypeRegistry types,
                     JetStreamPublisher publisher, MeterRegistry registry, Clock clock) {
        this.config = config;
        this.settings = config.snapshot();
        this.catalogPool = catalogPool;
        this.copySource = copySource;
        this.publisher = publisher;
        this.metrics = new SnapshotMetrics(registry);
        this.clock = clock;
        this.catalog = new SnapshotCatalog(catalogPool, types);
    }

    /** Whether a missing slot is to be created by the session with an exported snapshot (initial mode). */
    public boolean sessionCreatesSlot() {
        return settings.mode() == Mode.INITIAL;
    }

    /** The signal table, or null. */
    public TableId signalTable() {
        return settings.signalTable();
    }

    /** The running snapshot's progress, for readiness; empty when none runs. Any thread. */
    public Optional<Progress> progress() {
        return Optional.ofNullable(progress);
    }

    /**
     * A session starts (its publisher session is open, the stream not read yet): loads the record,
     * decides what is to be copied, and when the session created the slot ({@code exported} not
     * null) copies every monitored table under the exported snapshot before returning.
     */
    public void sessionStarting(SessionHooks hooks, SessionHooks.Exported exported, long maxChangeBytes) throws Exception {
        this.hooks = hooks;
        this.maxChangeBytes = maxChangeBytes;
        if (backfill != null) {
            backfill.close();
            backfill = null;
        }
        published.clear();
        ackedChunks.clear();
        acked.clear();
        store = ProgressStore.open(publisher.connection(), config.slot(), config.nats().limits().replicas());
        SnapshotRecord loaded = store.load();
        monitored = monitored();
        monitored.forEach(t -> metrics.rows(t.toString(), 0)); // the row counters exist (at 0) before the first copy
        if (exported != null) {
            record = loaded == null ? SnapshotRecord.EMPTY : loaded;
            if (settings.mode() == Mode.NEVER) {
                record = record.withKnown(names(monitored)).withSnapshot(null);
                save();
                return;
            }
            initial(exported);
            return;
        }
        if (loaded == null) {
            record = SnapshotRecord.EMPTY.withKnown(names(monitored));
            save();
            LOG.info("slot {} has no snapshot record yet (it was created without one): its {} monitored table(s) count as copied",
                    config.slot(), monitored.size());
            return;
        }
        record = loaded;
        List<String> added = new ArrayList<>();
        for (TableId t : monitored) {
            if (!record.known().contains(t.toString()) && !queuedOrRunning(t.toString())) {
                added.add(t.toString());
            }
        }
        if (!added.isEmpty()) {
            if (settings.mode() == Mode.NEVER) {
                if (!neverLogged) {
                    LOG.info("table(s) {} became monitored; POSTGRES_INPUT_SNAPSHOT_MODE=never: their existing rows are not copied,"
                            + " only changes from now on are streamed", added);
                    neverLogged = true;
                }
                record = record.withKnown(added);
            } else {
                LOG.info("table(s) {} became monitored: their existing rows are copied while streaming", added);
                record = record.enqueue(added);
            }
            save();
        }
        Run run = record.snapshot();
        if (run != null && !run.finished()) {
            LOG.info("snapshot {} ({}) was interrupted with {} table(s) left: it goes on while streaming (resumed chunk by chunk)",
                    run.id(), run.kind().name().toLowerCase(), run.tablesRemaining());
            runStartedMillis = clock.millis();
        }
        updateProgress();
    }

    private boolean queuedOrRunning(String table) {
        Run run = record.snapshot();
        if (run != null && !run.finished() && run.table(table) != null) {
            return true;
        }
        return record.queue().stream().anyMatch(q -> q.contains(table));
    }

    /** The monitored tables: what the publication publishes, limited to the configured ones, without the signal table. */
    private List<TableId> monitored() throws SQLException {
        List<TableId> result = new ArrayList<>();
        for (TableId t : catalog.published(config.publication())) {
            if ((config.tables().isEmpty() || config.tables().contains(t)) && !t.equals(settings.signalTable())) {
                result.add(t);
            }
        }
        return result;
    }

    private static List<String> names(List<TableId> ids) {
        return ids.stream().map(TableId::toString).toList();
    }

    // ---------------------------------------------------------------------------------------------- initial snapshot

    private void initial(SessionHooks.Exported exported) throws Exception {
        String id = newId();
        List<TableProgress> progressList = new ArrayList<>();
        for (TableId t : monitored) {
            progressList.add(new TableProgress(t.toString(), State.PENDING, null, 0, 0));
        }
        Run run = new Run(id, Kind.INITIAL, exported.consistentPoint(), clock.instant(), progressList);
        record = record.withSnapshot(run);
        save();
        runStartedMillis = clock.millis();
        LOG.info("initial snapshot {} of {} table(s) consistent with LSN {} (exported snapshot {}), {} at once",
                id, monitored.size(), exported.consistentPoint(), exported.snapshotName(), settings.parallelism());
        List<SnapshotTable> toCopy = new ArrayList<>();
        for (TableId t : monitored) {
            Optional<SnapshotTable> table = catalog.table(t);
            if (table.isEmpty()) {
                skip(t.toString(), "it no longer exists");
                continue;
            }
            tables.put(t.toString(), table.get());
            toCopy.add(table.get());
        }
        updateProgress();
        InitialCopy copy = new InitialCopy(copySource, exported, id, toCopy, settings.parallelism(), config.batchSize(),
                maxChangeBytes, config.compactEnvelopes(), clock);
        try {
            copy.start();
            while (true) {
                InitialCopy.Item item = copy.next(Duration.ofMillis(100));
                if (item == null) {
                    if (copy.finished()) {
                        break;
                    }
                } else {
                    handle(item);
                }
                publisher.checkHealthy();
                applyAcks();
                saveIfDue();
                if (hooks.stopRequested()) {
                    LOG.info("stop requested during the initial snapshot: what was copied is kept, the rest is copied after the"
                            + " next start");
                    break;
                }
            }
        } finally {
            copy.close();
        }
        awaitAcks();
        if (copy.snapshotRefused()) {
            LOG.warn("the exported snapshot was refused ({}): the remaining tables are copied while streaming, chunk by chunk",
                    copy.refusal());
        }
        save();
        updateProgress();
    }

    private void handle(InitialCopy.Item item) throws Exception {
        if (item instanceof InitialCopy.Started s) {
            started(s.table());
        } else if (item instanceof InitialCopy.Chunk c) {
            publish(c.cut());
        } else if (item instanceof InitialCopy.Done d) {
            if (!d.messages()) {
                complete(d.table());
            }
        } else if (item instanceof InitialCopy.Failed f) {
            if (f.dropped()) {
                skip(f.table(), "it was dropped during its copy");
            } else {
                // the exported snapshot is gone or refused: the table is resumed with watermarks while streaming
                TableProgress p = record.snapshot().table(f.table());
                if (p != null && !p.finished()) {
                    record = record.withSnapshot(record.snapshot().with(p.with(State.PENDING)));
                    dirty = true;
                }
            }
        }
    }

    /** Waits for every snapshot message in flight to be acknowledged and records it. */
    private void awaitAcks() throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!publisher.awaitAcks(Duration.ofMillis(200))) {
            hooks.keepAlive();
            if (System.nanoTime() > deadline) {
                throw new io.vrsky.consumer.publish.PublishFailedException("JetStream did not acknowledge the snapshot's messages"
                        + " within 30 s", null);
            }
        }
        applyAcks();
    }

    // ---------------------------------------------------------------------------------------------- publishing, progress

    private void started(String table) {
        TableProgress p = record.snapshot().table(table);
        if (p != null && p.state() == State.PENDING) {
            record = record.withSnapshot(record.snapshot().with(p.with(State.COPYING)));
            dirty = true;
        }
        tableStarted.putIfAbsent(table, clock.millis());
        LOG.info("snapshot {}: copying table {}", record.snapshot().id(), table);
        updateProgress(table);
    }

    /** Publishes a cut message, reserving chunk numbers first (a resume numbers on past any number used). */
    private void publish(Chunker.Cut cut) throws Exception {
        SnapshotMessage m = cut.message();
        String table = m.table().toString();
        Run run = record.snapshot();
        TableProgress p = run.table(table);
        if (m.chunk() >= p.nextChunk()) {
            p = new TableProgress(p.table(), p.state(), p.lastKey(), m.chunk() + RESERVE, p.rows());
            record = record.withSnapshot(run.with(p));
            save(); // before the number is used
        }
        while (!publisher.awaitRoom(Duration.ofMillis(200))) {
            hooks.keepAlive();
            applyAcks();
        }
        Point point = new Point(table, m.chunk(), cut.lastKey(), m.changes().size() - truncates(m), cut.tableDone());
        published.computeIfAbsent(table, t -> new ArrayDeque<>()).addLast(point);
        publisher.publishSnapshot(m, () -> acked.add(point));
    }

    /** A keyless table's first chunk begins with a TRUNCATE, which is not a row. */
    private static int truncates(SnapshotMessage m) {
        byte[] first = m.changes().get(0);
        return first.length > 15 && new String(first, 0, 16, StandardCharsets.US_ASCII).startsWith("{\"op\":\"TRUNCATE\"") ? 1 : 0;
    }

    /** Progress with nothing to publish (a backfill chunk whose rows all changed in its window): recorded in order. */
    private void nothingPublished(String table, List<String> lastKey, boolean tableDone) {
        Point point = new Point(table, -1, lastKey, 0, tableDone);
        published.computeIfAbsent(table, t -> new ArrayDeque<>()).addLast(point);
        acked.add(point);
    }

    /** Records acknowledged messages, per table in publish order. */
    private void applyAcks() {
        Point a;
        Set<String> touched = new LinkedHashSet<>();
        while ((a = acked.poll()) != null) {
            ackedChunks.computeIfAbsent(a.table(), t -> new java.util.HashSet<>()).add(a.chunk());
            touched.add(a.table());
        }
        for (String table : touched) {
            ArrayDeque<Point> queue = published.get(table);
            Set<Integer> done = ackedChunks.get(table);
            while (queue != null && !queue.isEmpty() && done.remove(queue.peekFirst().chunk())) {
                Point p = queue.pollFirst();
                record(p);
            }
        }
    }

    private void record(Point p) {
        Run run = record.snapshot();
        TableProgress t = run == null ? null : run.table(p.table());
        if (t == null) {
            return;
        }
        t = new TableProgress(t.table(), t.state() == State.PENDING ? State.COPYING : t.state(), p.lastKey() != null ? p.lastKey()
                : t.lastKey(), t.nextChunk(), t.rows() + p.rows());
        record = record.withSnapshot(run.with(t));
        metrics.rows(p.table(), p.rows());
        dirty = true;
        if (p.tableDone()) {
            complete(p.table());
        } else {
            updateProgress(p.table());
        }
    }

    private void complete(String table) {
        Run run = record.snapshot();
        TableProgress t = run.table(table);
        if (t == null || t.finished()) {
            return;
        }
        record = record.withSnapshot(run.with(t.with(State.DONE))).withKnown(table);
        dirty = true;
        long started = tableStarted.getOrDefault(table, clock.millis());
        double seconds = Math.max(0.001, (clock.millis() - started) / 1000.0);
        LOG.info("snapshot {}: table {} copied: {} rows in {} s ({} rows/s)", run.id(), table, t.rows(),
                String.format(java.util.Locale.ROOT, "%.1f", seconds), Math.round(t.rows() / seconds));
        tableStarted.remove(table);
        finishedCheck();
        updateProgress();
    }

    private void skip(String table, String why) {
        Run run = record.snapshot();
        TableProgress t = run == null ? null : run.table(table);
        if (t == null || t.finished()) {
            return;
        }
        LOG.warn("snapshot {}: table {} skipped: {}", run.id(), table, why);
        record = record.withSnapshot(run.with(t.with(State.SKIPPED)));
        dirty = true;
        finishedCheck();
        updateProgress();
    }

    private void finishedCheck() {
        Run run = record.snapshot();
        if (run != null && run.finished()) {
            metrics.duration(clock.millis() - runStartedMillis);
            LOG.info("snapshot {} ({}) finished: {} table(s), {} rows in {} s", run.id(), run.kind().name().toLowerCase(),
                    run.tables().size(), run.tables().stream().mapToLong(TableProgress::rows).sum(),
                    (clock.millis() - runStartedMillis) / 1000);
        }
    }

    private void updateProgress() {
        updateProgress(null);
    }

    private void updateProgress(String current) {
        Run run = record.snapshot();
        if (run == null || run.finished()) {
            progress = null;
            metrics.remaining(0);
            return;
        }
        String table = current;
        if (table == null) {
            table = run.tables().stream().filter(t -> !t.finished()).map(TableProgress::table).findFirst().orElse(null);
        }
        long rows = run.tables().stream().mapToLong(TableProgress::rows).sum();
        progress = new Progress(run.id(), table, rows, run.tablesRemaining());
        metrics.remaining(run.tablesRemaining());
        metrics.duration(clock.millis() - runStartedMillis);
    }

    private void save() throws Exception {
        store.save(record);
        dirty = false;
        lastSave = clock.millis();
    }

    private void saveIfDue() throws Exception {
        if (dirty && clock.millis() - lastSave >= SAVE_EVERY.toMillis()) {
            save();
        }
    }

    private String newId() {
        return "s" + Long.toString(clock.millis(), 36) + Integer.toString(Math.floorMod(config.slot().hashCode(), 1296), 36);
    }

    // ---------------------------------------------------------------------------------------------- while streaming

    /**
     * Between reads of the stream (replication thread): records acknowledgements, starts the next
     * backfill chunk when none is under way, and picks up queued backfills.
     */
    public void poll() throws Exception {
        applyAcks();
        Run run = record.snapshot();
        if ((run == null || run.finished()) && !record.queue().isEmpty()) {
            startQueued();
            run = record.snapshot();
        }
        if (run != null && !run.finished() && (backfill == null || backfill.idle())) {
            nextStep(run);
        }
        saveIfDue();
    }

    private void startQueued() throws Exception {
        List<String> request = record.queue().get(0);
        List<TableProgress> list = new ArrayList<>();
        for (String t : request) {
            list.add(new TableProgress(t, State.PENDING, null, 0, 0));
        }
        boolean added = request.stream().noneMatch(record.known()::contains);
        Run run = new Run(newId(), added ? Kind.ADDED : Kind.BACKFILL, null, clock.instant(), list);
        record = record.dequeue().withSnapshot(run);
        save();
        runStartedMillis = clock.millis();
        LOG.info("snapshot {} ({}) of {} started while streaming", run.id(), run.kind().name().toLowerCase(), request);
        updateProgress();
    }

    private void nextStep(Run run) throws Exception {
        TableProgress next = run.tables().stream().filter(t -> !t.finished()).findFirst().orElse(null);
        if (next == null) {
            return;
        }
        if (backfill != null && backfill.table().equals(next.table())) {
            if (backfill.exhausted()) {
                return; // its last chunk is published; the table is done with that message's acknowledgement
            }
            backfill.startChunk();
            return;
        }
        if (backfill != null) {
            backfill.close();
        }
        TableId id = TableId.parse(next.table());
        Optional<SnapshotTable> table = catalog.table(id);
        if (table.isEmpty()) {
            skip(next.table(), "it does not exist (any more)");
            backfill = null;
            return;
        }
        if (!monitored.contains(id)) {
            skip(next.table(), "it is not monitored (not in POSTGRES_INPUT_TABLES or not in publication "
                    + config.publication() + ")");
            backfill = null;
            return;
        }
        tables.put(next.table(), table.get());
        started(next.table());
        backfill = table.get().keyless()
                ? new Backfill.Keyless(this, table.get(), next)
                : new Backfill.Keyset(this, table.get(), next);
        backfill.startChunk();
    }

    // ---------------------------------------------------------------------------------------------- stream observer

    @Override
    public void begin(TxInfo tx) throws Exception {
        if (backfill != null) {
            backfill.begin(tx);
        }
    }

    @Override
    public boolean row(RelationInfo rel, Operation op, TupleView before, TupleView after) throws Exception {
        if (rel.table().equals(settings.signalTable())) {
            if (op == Operation.INSERT && after != null) {
                signal(rel, after);
            }
            return false;
        }
        if (backfill != null && rel.table().equals(backfill.tableId())) {
            backfill.changed(rel, op, before, after);
        }
        return true;
    }

    @Override
    public void message(PgOutputMessage.Message message, TxInfo tx, Lsn lsn) throws Exception {
        if (!MESSAGE_PREFIX.equals(message.prefix()) || backfill == null) {
            return;
        }
        JsonNode node;
        try {
            node = JSON.readTree(message.content());
        } catch (java.io.IOException e) {
            LOG.debug("ignoring a logical message with prefix {} that is not JSON", MESSAGE_PREFIX);
            return;
        }
        backfill.watermark(node.path("wm").asText(""), node.path("id").asText(""), tx == null ? lsn : tx.commitLsn());
    }

    private void signal(RelationInfo rel, TupleView after) throws Exception {
        String kind = null;
        String names = null;
        for (int i = 0; i < rel.columns().size() && i < after.size(); i++) {
            String column = rel.columns().get(i).name();
            if (after.kind(i) != TupleView.TEXT) {
                continue;
            }
            String value = new String(after.data(), after.offset(i), after.length(i), StandardCharsets.UTF_8);
            if (column.equals("kind")) {
                kind = value;
            } else if (column.equals("tables")) {
                names = value;
            }
        }
        Signal s = Signal.parse(kind, names);
        s.problems().forEach(p -> LOG.warn("signal table {}: {}", settings.signalTable(), p));
        if (!s.isBackfill()) {
            return;
        }
        List<String> accepted = new ArrayList<>();
        for (TableId t : s.tables()) {
            if (!monitored.contains(t)) {
                LOG.warn("signal table {}: backfill of {} skipped: it is not a monitored table", settings.signalTable(), t);
            } else {
                accepted.add(t.toString());
            }
        }
        if (accepted.isEmpty()) {
            return;
        }
        if (settings.mode() == Mode.NEVER) {
            LOG.info("signal table {}: backfill of {} queued (signals work in either snapshot mode)", settings.signalTable(), accepted);
        } else {
            LOG.info("signal table {}: backfill of {} queued", settings.signalTable(), accepted);
        }
        record = record.enqueue(accepted);
        save();
    }

    // ---------------------------------------------------------------------------------------------- for Backfill

    SessionHooks hooks() {
        return hooks;
    }

    DataSource copySource() {
        return copySource;
    }

    ConsumerConfig config() {
        return config;
    }

    Clock clock() {
        return clock;
    }

    long maxChangeBytes() {
        return maxChangeBytes;
    }

    String snapshotId() {
        return record.snapshot().id();
    }

    /** The next chunk number of {@code table} when its backfill starts: numbers on past anything that may have been sent. */
    int firstChunk(String table) {
        TableProgress t = record.snapshot().table(table);
        return t == null ? 0 : t.nextChunk();
    }

    void publishCut(Chunker.Cut cut) throws Exception {
        publish(cut);
    }

    void progressWithoutMessage(String table, List<String> lastKey, boolean tableDone) {
        nothingPublished(table, lastKey, tableDone);
    }

    void tableGone(String table, String why) {
        skip(table, why);
        if (backfill != null) {
            backfill.close();
            backfill = null;
        }
    }

    /** Keeps the session alive and records acknowledgements during a long step. */
    void breathe() throws Exception {
        hooks.keepAlive();
        applyAcks();
        saveIfDue();
    }

    static TxStrings txStrings(Lsn lsn, Instant at) {
        return TxStrings.of(0, lsn, at);
    }

    /** Closes what a running backfill holds (the session ends). */
    public void sessionEnded() {
        if (backfill != null) {
            backfill.close();
            backfill = null;
        }
    }

    Map<String, Object> details() {
        Progress p = progress;
        if (p == null) {
            return Map.of();
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", p.id());
        m.put("table", p.table());
        m.put("rowsCopied", p.rowsCopied());
        m.put("tablesRemaining", p.tablesRemaining());
        return Map.of("snapshot", m);
    }

    /** What /health/ready shows about a running snapshot (any thread): {@code {"snapshot":{...}}}, or empty. */
    public Map<String, Object> readinessDetails() {
        return details();
    }

    static String pgMessage(SQLException e) {
        return PgErrors.serverMessage(e);
    }
}
