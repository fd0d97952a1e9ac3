package io.vrsky.admin;

import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.api.ConsumerInfo;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import io.vrsky.core.nats.CdcHeaders;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;

import java.io.IOException;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One integration test's world, named so that nothing clashes with other tests on the same
 * servers: a source and a sink database, a slot and a publication, a CDC stream of its own with
 * subject {@code it.<name>.cdc}, a durable and a dead-letter subject {@code vrsky.dlq.<name>} in
 * the shared VRSKY_DLQ stream. {@link #env()} is what the services (and vrsky-admin) get.
 */
final class World implements AutoCloseable {

    private static final AtomicInteger COUNTER = new AtomicInteger();

    final PostgresServer pg;
    final NatsServer natsServer;
    final String name;
    final String source;
    final String sink;
    final String slot;
    final String publication;
    final String stream;
    final String subject;
    final String durable;
    final String dlqSubject;
    final Connection nats;
    private final List<String> slotsToDrop = new ArrayList<>();

    World(PostgresServer pg, NatsServer natsServer, String prefix) throws Exception {
        this.pg = pg;
        this.natsServer = natsServer;
        this.name = prefix.toLowerCase().replaceAll("[^a-z0-9]", "") + COUNTER.incrementAndGet() + "x" + ProcessHandle.current().pid();
        this.source = pg.createDatabase(prefix + "_src");
        this.sink = pg.createDatabase(prefix + "_sink");
        this.slot = "adm_" + name;
        this.publication = "adm_" + name + "_pub";
        this.stream = "IT_ADMIN_" + name.toUpperCase();
        this.subject = "it." + name + ".cdc";
        this.durable = "producer-" + name;
        this.dlqSubject = "vrsky.dlq." + name;
        this.nats = Nats.connect(natsServer.url());
    }

    /** Creates this world's CDC stream (as the services would, but with a duplicate window of the test's choosing). */
    World createStream(Duration duplicateWindow, String... subjects) throws IOException, JetStreamApiException {
        nats.jetStreamManagement().addStream(StreamConfiguration.builder().name(stream)
                .subjects(subjects.length == 0 ? new String[] {subject} : subjects).storageType(StorageType.File)
                .duplicateWindow(duplicateWindow).build());
        return this;
    }

    void duplicateWindow(Duration window) throws IOException, JetStreamApiException {
        JetStreamManagement jsm = nats.jetStreamManagement();
        jsm.updateStream(StreamConfiguration.builder(jsm.getStreamInfo(stream).getConfiguration()).duplicateWindow(window).build());
    }

    /** Source, sink and NATS variables, as an operator running next to both services has them. */
    Map<String, String> env() {
        Map<String, String> env = new HashMap<>(natsEnv());
        env.putAll(sourceEnv());
        env.putAll(pg.envFor("OUTPUT", sink));
        return env;
    }

    Map<String, String> sourceEnv() {
        Map<String, String> env = new HashMap<>(pg.envFor("INPUT", source));
        env.put("POSTGRES_INPUT_REPLICATION_SLOT", slot);
        env.put("POSTGRES_INPUT_PUBLICATION", publication);
        return env;
    }

    /** Only NATS: what a producer's environment without the sink variables would give. */
    Map<String, String> natsEnv() {
        Map<String, String> env = new HashMap<>();
        env.put("NATS_URL", natsServer.url());
        env.put("NATS_STREAM", stream);
        env.put("NATS_SUBJECT", subject);
        env.put("NATS_DURABLE", durable);
        env.put("NATS_DLQ_SUBJECT", dlqSubject);
        return env;
    }

    static Map<String, String> with(Map<String, String> env, String... pairs) {
        Map<String, String> copy = new HashMap<>(env);
        for (int i = 0; i < pairs.length; i += 2) {
            copy.put(pairs[i], pairs[i + 1]);
        }
        return copy;
    }

    void sql(String database, String... statements) throws SQLException {
        try (java.sql.Connection c = pg.connect(database); Statement s = c.createStatement()) {
            for (String sql : statements) {
                s.execute(sql);
            }
        }
    }

    long count(String database, String sql) throws SQLException {
        try (java.sql.Connection c = pg.connect(database); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    String text(String database, String sql) throws SQLException {
        try (java.sql.Connection c = pg.connect(database); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    /** Creates the slot (inactive, so its WAL stays retained) and remembers to drop it. */
    void createSlot() throws SQLException {
        sql(source, "SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
        slotsToDrop.add(slot);
    }

    /** Publishes {@code body} to {@code subject} with headers given as name/value pairs; returns the stream sequence. */
    long publish(String toSubject, byte[] body, String... headerPairs) throws IOException, JetStreamApiException {
        Headers headers = new Headers();
        for (int i = 0; i < headerPairs.length; i += 2) {
            headers.put(headerPairs[i], headerPairs[i + 1]);
        }
        return nats.jetStream().publish(NatsMessage.builder().subject(toSubject).headers(headers).data(body).build()).getSeqno();
    }

    /** Publishes an envelope as postgres-consumer would: msg id, commit LSN, tx id, chunk headers. */
    long publishCdc(String envelope, String commitLsn, long txId, int chunk, boolean last) throws IOException, JetStreamApiException {
        return publish(subject, envelope.getBytes(java.nio.charset.StandardCharsets.UTF_8), CdcHeaders.MSG_ID,
                slot + ":" + commitLsn + ":" + chunk, CdcHeaders.COMMIT_LSN, commitLsn, CdcHeaders.TX_ID, Long.toString(txId),
                CdcHeaders.CHUNK, Integer.toString(chunk), CdcHeaders.LAST_CHUNK, Boolean.toString(last));
    }

    /** The consumer's snapshot bucket, created as it creates it when missing. */
    io.nats.client.KeyValue snapshotBucket() throws IOException, JetStreamApiException {
        var kvm = nats.keyValueManagement();
        if (!kvm.getBucketNames().contains("VRSKY_SNAPSHOTS")) {
            kvm.create(io.nats.client.api.KeyValueConfiguration.builder().name("VRSKY_SNAPSHOTS").storageType(StorageType.File)
                    .maxHistoryPerKey(1).build());
        }
        return nats.keyValue("VRSKY_SNAPSHOTS");
    }

    /** Publishes a dead letter to this world's dead-letter subject the way both services do; returns its sequence. */
    long deadLetter(byte[] body, String error, io.vrsky.core.nats.DeadLetterPublisher.ErrorClass errorClass, String sqlState)
            throws IOException, JetStreamApiException {
        new io.vrsky.core.nats.StreamProvisioner(nats.jetStreamManagement()).ensure("VRSKY_DLQ", "vrsky.dlq.>", Duration.ofMinutes(2));
        new io.vrsky.core.nats.DeadLetterPublisher(nats.jetStream(), dlqSubject).publish(
                new io.vrsky.core.nats.DeadLetterPublisher.DeadLetter(body, error, errorClass, sqlState, subject, 1L));
        List<Long> seqs = deadLetterSeqs();
        return seqs.get(seqs.size() - 1);
    }

    ConsumerInfo durableInfo() throws IOException, JetStreamApiException {
        return nats.jetStreamManagement().getConsumerInfo(stream, durable);
    }

    boolean streamExists() throws IOException {
        try {
            nats.jetStreamManagement().getStreamInfo(stream);
            return true;
        } catch (JetStreamApiException e) {
            return false;
        }
    }

    /** The dead letters on this world's dead-letter subject, by sequence. */
    List<Long> deadLetterSeqs() throws IOException, JetStreamApiException {
        List<Long> seqs = new ArrayList<>();
        JetStreamManagement jsm = nats.jetStreamManagement();
        long seq = 0;
        while (true) {
            try {
                var info = jsm.getNextMessage("VRSKY_DLQ", seq + 1, dlqSubject);
                if (info == null || !info.isMessage()) {
                    return seqs;
                }
                seqs.add(info.getSeq());
                seq = info.getSeq();
            } catch (JetStreamApiException e) {
                return seqs;
            }
        }
    }

    /** The environment for the producer jar writing into this world's sink. */
    Map<String, String> producerEnv(String tables) {
        Map<String, String> env = new HashMap<>(natsEnv());
        env.putAll(pg.envFor("OUTPUT", sink));
        env.put("POSTGRES_OUTPUT_TABLES", tables);
        env.put("POSTGRES_OUTPUT_FLUSH_INTERVAL", "100ms");
        return env;
    }

    @Override
    public void close() throws SQLException, IOException {
        try {
            for (String s : slotsToDrop) {
                try {
                    sql(source, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '" + s
                            + "' AND NOT active");
                } catch (SQLException e) {
                    // dropped by the test (teardown) already
                }
            }
            try {
                nats.jetStreamManagement().deleteStream(stream);
            } catch (JetStreamApiException e) {
                // deleted by the test (teardown) already
            }
        } finally {
            try {
                nats.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** A map builder for readability. */
    static Map<String, String> map(String... pairs) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put(pairs[i], pairs[i + 1]);
        }
        return m;
    }
}
