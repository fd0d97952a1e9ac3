package io.vrsky.producer;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.api.ConsumerInfo;
import io.nats.client.api.DiscardPolicy;
import io.nats.client.api.MessageInfo;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import io.vrsky.core.codec.EnvelopeCodec;
import io.vrsky.core.model.Envelope;
import io.vrsky.core.nats.CdcHeaders;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One integration test's world: its own database, NATS stream, subject, durable and DLQ subject
 * (so tests never share anything on the servers), a NATS connection to publish with, and the
 * producer running in-process on top.
 */
public final class ProducerHarness implements AutoCloseable {

    private static final AtomicInteger COUNTER = new AtomicInteger();

    public final PostgresServer pg;
    public final NatsServer natsServer;
    public final String database;
    public final String name;
    public final String stream;
    public final String subject;
    public final String durable;
    public final String dlqSubject;
    public final Connection nats;
    public final EnvelopeCodec codec = new EnvelopeCodec();
    private final Map<String, String> env = new HashMap<>();
    private ProducerService service;
    private final AtomicInteger published = new AtomicInteger();
    /** Null: DEPENDENCY_RETRY_TIMEOUT, as the service reads it. */
    private Duration gapTimeout;

    public ProducerHarness(PostgresServer pg, NatsServer natsServer, String prefix) throws Exception {
        this.pg = pg;
        this.natsServer = natsServer;
        this.database = pg.createDatabase(prefix);
        this.name = prefix.toLowerCase().replaceAll("[^a-z0-9]", "") + COUNTER.incrementAndGet() + "x" + ProcessHandle.current().pid();
        this.stream = "IT_" + name.toUpperCase();
        this.subject = "it." + name + ".cdc";
        this.durable = "producer-" + name;
        this.dlqSubject = "vrsky.dlq." + name;
        this.nats = Nats.connect(natsServer.url());
        JetStreamManagement jsm = nats.jetStreamManagement();
        jsm.addStream(StreamConfiguration.builder().name(stream).subjects(subject).storageType(StorageType.File)
                .duplicateWindow(Duration.ofMinutes(2)).build());
        env.putAll(pg.envFor("OUTPUT", database));
        env.put("NATS_URL", natsServer.url());
        env.put("NATS_STREAM", stream);
        env.put("NATS_SUBJECT", subject);
        env.put("NATS_DURABLE", durable);
        env.put("NATS_DLQ_SUBJECT", dlqSubject);
        env.put("HEALTH_PORT", "0");
        env.put("POSTGRES_OUTPUT_FLUSH_INTERVAL", "200ms");
    }

    public ProducerHarness env(String key, String value) {
        env.put(key, value);
        return this;
    }

    public Map<String, String> env() {
        return Map.copyOf(env);
    }

    /** How long the producer waits for a gap in a source's messages to be filled before it stops (default DEPENDENCY_RETRY_TIMEOUT). */
    public ProducerHarness gapTimeout(Duration timeout) {
        this.gapTimeout = timeout;
        return this;
    }

    public ProducerService start() throws Exception {
        ProducerConfig config = ProducerConfig.fromEnv(env);
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        service = gapTimeout == null ? new ProducerService(config, Clock.systemUTC(), registry)
                : new ProducerService(config, Clock.systemUTC(), registry, gapTimeout);
        service.start();
        return service;
    }

    /** Caps the stream at {@code maxMessages}, dropping the oldest ones (discard=old): how messages nobody read get lost. */
    public void limitStream(long maxMessages) throws IOException, JetStreamApiException {
        JetStreamManagement jsm = nats.jetStreamManagement();
        StreamConfiguration current = jsm.getStreamInfo(stream).getConfiguration();
        jsm.updateStream(StreamConfiguration.builder(current).maxMessages(maxMessages).discardPolicy(DiscardPolicy.Old).build());
    }

    public ProducerService service() {
        return service;
    }

    /** Stops the running producer (draining it). */
    public int stop() {
        int code = service == null ? 0 : service.shutdown();
        service = null;
        return code;
    }

    public void sql(String... statements) throws SQLException {
        try (java.sql.Connection c = pg.connect(database); Statement s = c.createStatement()) {
            for (String sql : statements) {
                s.execute(sql);
            }
        }
    }

    public long count(String sql) throws SQLException {
        try (java.sql.Connection c = pg.connect(database); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Rows of a query as lists of strings (getString of every column). */
    public List<List<String>> rows(String sql) throws SQLException {
        List<List<String>> rows = new ArrayList<>();
        try (java.sql.Connection c = pg.connect(database); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                List<String> row = new ArrayList<>();
                for (int i = 1; i <= n; i++) {
                    row.add(rs.getString(i));
                }
                rows.add(row);
            }
        }
        return rows;
    }

    public long publish(Envelope envelope) throws IOException, JetStreamApiException {
        return publishBytes(codec.encode(envelope), envelope.metadata() == null ? null : envelope.metadata().commitLsn() + ":"
                + envelope.metadata().chunk());
    }

    /** Publishes with extra headers, given as name/value pairs. */
    public long publish(Envelope envelope, String... headerPairs) throws IOException, JetStreamApiException {
        return publishBytes(codec.encode(envelope), envelope.metadata() == null ? null : envelope.metadata().commitLsn() + ":"
                + envelope.metadata().chunk(), headerPairs);
    }

    public long publishBytes(byte[] body, String idHint, String... headerPairs) throws IOException, JetStreamApiException {
        Headers headers = new Headers();
        headers.put(CdcHeaders.MSG_ID, name + ":" + published.incrementAndGet() + ":" + idHint);
        for (int i = 0; i < headerPairs.length; i += 2) {
            headers.put(headerPairs[i], headerPairs[i + 1]);
        }
        return nats.jetStream().publish(NatsMessage.builder().subject(subject).headers(headers).data(body).build()).getSeqno();
    }

    /** A dead letter's body decoded. */
    public Envelope envelopeOf(MessageInfo deadLetter) {
        return codec.decode(deadLetter.getData());
    }

    /** The dead letters sent to this test's DLQ subject, oldest first. */
    public List<MessageInfo> deadLetters() throws IOException, JetStreamApiException {
        List<MessageInfo> letters = new ArrayList<>();
        JetStreamManagement jsm = nats.jetStreamManagement();
        long seq = 0;
        while (true) {
            MessageInfo info;
            try {
                info = jsm.getNextMessage("VRSKY_DLQ", seq + 1, dlqSubject);
            } catch (JetStreamApiException e) {
                return letters;
            }
            if (info == null || !info.isMessage()) {
                return letters;
            }
            letters.add(info);
            seq = info.getSeq();
        }
    }

    public ConsumerInfo consumer() throws IOException, JetStreamApiException {
        return nats.jetStreamManagement().getConsumerInfo(stream, durable);
    }

    /** Every published message was acknowledged by the producer. */
    public boolean allAcked() throws IOException, JetStreamApiException {
        ConsumerInfo info = consumer();
        return info.getNumAckPending() == 0 && info.getNumPending() == 0;
    }

    public String http(String path) throws IOException, InterruptedException {
        return httpResponse(path).body();
    }

    public HttpResponse<String> httpResponse(String path) throws IOException, InterruptedException {
        HttpClient client = HttpClient.newHttpClient();
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + service.healthPort() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The value of a counter line in /metrics, 0 when absent. */
    public double metric(String name, String... labels) throws IOException, InterruptedException {
        double total = 0;
        for (String line : http("/metrics").split("\n")) {
            if (!line.startsWith(name)) {
                continue;
            }
            String rest = line.substring(name.length());
            if (!(rest.startsWith("{") || rest.startsWith(" "))) {
                continue;
            }
            boolean all = true;
            for (String label : labels) {
                all &= line.contains(label);
            }
            if (all) {
                total += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return total;
    }

    @Override
    public void close() throws Exception {
        try {
            stop();
        } finally {
            try {
                nats.jetStreamManagement().deleteStream(stream);
            } catch (Exception e) {
                // the stream goes with the test run anyway
            }
            nats.close();
        }
    }
}
