package io.vrsky.consumer.publish;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.nats.client.impl.NatsMessage;
import io.vrsky.consumer.ConsumerConfig;
import io.vrsky.consumer.ConsumerMetrics;
import io.vrsky.consumer.batch.MessageBatcher;
import io.vrsky.consumer.batch.MessageSink;
import io.vrsky.consumer.batch.OutgoingMessage;
import io.vrsky.consumer.encode.ChangeEncoder;
import io.vrsky.consumer.encode.RelationCache;
import io.vrsky.consumer.encode.TestCatalog;
import io.vrsky.consumer.encode.TypeRegistry;
import io.vrsky.consumer.encode.ValueDecoder;
import io.vrsky.consumer.filter.OperationFilter;
import io.vrsky.consumer.filter.TableFilter;
import io.vrsky.consumer.pgoutput.PgOutputDecoder;
import io.vrsky.consumer.tx.TransactionAssembler;
import io.vrsky.core.model.Lsn;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Not part of the regular run: CPU time per row of the consumer's own work on the replication
 * thread (decode, filter, encode, batch, envelope and NATS message), without PostgreSQL or NATS,
 * so it does not depend on what else the machine runs. The input is pgoutput bytes shaped like
 * {@code ThroughputIT}'s rows (bigint, int, int, timestamptz, 170-character text). Run with
 * {@code mvn -pl postgres-consumer test -Dtest=CapturePathBenchmarkTest -Dvrsky.perf=true}; it prints
 * nanoseconds of thread CPU per row and writes {@code target/perf/cpu.txt}.
 */
@EnabledIfSystemProperty(named = "vrsky.perf", matches = "true")
class CapturePathBenchmarkTest {

    private static final int ROWS = Integer.getInteger("vrsky.perf.cpuRows", 200_000);
    private static final int WARMUP = Integer.getInteger("vrsky.perf.cpuWarmup", 8);
    private static final int PASSES = Integer.getInteger("vrsky.perf.cpuPasses", 10);
    private static final int RELATION_ID = 16_400;

    @Test
    void cpuPerRow() throws Exception {
        StringBuilder report = new StringBuilder(String.format(Locale.ROOT,
                "%nCPU per row on the replication thread (decode, encode, batch, envelope; no I/O), %,d rows per pass, median of %d passes%n",
                ROWS, PASSES));
        String only = System.getProperty("vrsky.perf.cpuOnly", ""); // e.g. "1000x100": only that workload, in a fresh JVM
        for (int perTx : new int[] {1000, 1}) {
            for (int batchSize : new int[] {100, 1000}) {
                if (only.isEmpty() || only.equals(perTx + "x" + batchSize)) {
                    report.append(measure(perTx, batchSize));
                }
            }
        }
        System.out.print(report);
        Path dir = Path.of("target", "perf");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("cpu.txt"), report.toString());
    }

    private static String measure(int perTx, int batchSize) throws Exception {
        List<byte[]> wal = backlog(perTx);
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        Counting sink = new Counting(publisher());
        List<Double> nanosPerRow = new ArrayList<>();
        double firstPass = 0;
        long jitBefore = ManagementFactory.getCompilationMXBean().getTotalCompilationTime();
        long jitFirstPass = 0;
        for (int pass = 0; pass < WARMUP + PASSES; pass++) {
            TransactionAssembler assembler = pipeline(sink, batchSize);
            long cpu = threads.getCurrentThreadCpuTime();
            long lsn = 0x1_0000_0000L;
            for (byte[] message : wal) {
                assembler.accept(ByteBuffer.wrap(message), new Lsn(lsn += 64));
            }
            sink.batcher.flush();
            long used = threads.getCurrentThreadCpuTime() - cpu;
            if (pass == 0) {
                firstPass = (double) used / ROWS;
                jitFirstPass = ManagementFactory.getCompilationMXBean().getTotalCompilationTime() - jitBefore;
            }
            if (pass >= WARMUP) {
                nanosPerRow.add((double) used / ROWS);
            }
        }
        assertThat(sink.changes).isEqualTo((long) ROWS * (WARMUP + PASSES));
        List<Double> sorted = nanosPerRow.stream().sorted().toList();
        return String.format(Locale.ROOT,
                "  transactions of %,5d rows, BATCH_SIZE %,5d: %,6.0f ns/row warm (min %,.0f), first pass %,6.0f ns/row, JIT %,d ms in the"
                        + " first pass and %,d ms in all, %,d bytes of body per row%n",
                perTx, batchSize, sorted.get(sorted.size() / 2), sorted.get(0), firstPass, jitFirstPass,
                ManagementFactory.getCompilationMXBean().getTotalCompilationTime() - jitBefore, sink.bytes / sink.changes);
    }

    private static JetStreamPublisher publisher() {
        ConsumerConfig config = ConsumerConfig.fromEnv(Map.of("POSTGRES_INPUT_HOST", "localhost", "POSTGRES_INPUT_USER", "u",
                "POSTGRES_INPUT_DATABASE", "bench"));
        return new JetStreamPublisher(config.nats(), config.slot(), config.source(), Clock.fixed(Instant.EPOCH, ZoneOffset.UTC),
                new ConsumerMetrics(new SimpleMeterRegistry()), 256, 16L << 20, Duration.ofSeconds(10));
    }

    /** Builds the NATS message of each OutgoingMessage, as the publisher does before handing it to jnats. */
    private static final class Counting implements MessageSink {
        final JetStreamPublisher publisher;
        MessageBatcher batcher;
        long changes;
        long bytes;

        Counting(JetStreamPublisher publisher) {
            this.publisher = publisher;
        }

        @Override
        public void publish(OutgoingMessage message) {
            NatsMessage m = publisher.toNatsMessage(message);
            changes += message.changes().size();
            bytes += m.getData().length;
        }

        @Override
        public void passThrough(Lsn endLsn) {
        }
    }

    private static TransactionAssembler pipeline(Counting sink, int batchSize) {
        MessageBatcher batcher = new MessageBatcher(batchSize, Duration.ofSeconds(5), 1024 * 1024 - 8 * 1024,
                Clock.fixed(Instant.EPOCH, ZoneOffset.UTC), sink);
        sink.batcher = batcher;
        return new TransactionAssembler(new PgOutputDecoder(), new RelationCache(new TypeRegistry(new TestCatalog()), id -> java.util.Set.of()),
                TableFilter.all(), OperationFilter.all(), new ChangeEncoder(new ValueDecoder()), 1024 * 1024 - 8 * 1024, batcher,
                (body, error, tx, index) -> {
                    throw new AssertionError(error);
                });
    }

    /** Relation, then Begin / Insert... / Commit per transaction. */
    private static List<byte[]> backlog(int perTx) throws IOException {
        List<byte[]> wal = new ArrayList<>();
        wal.add(message(out -> {
            out.writeByte('R');
            out.writeInt(RELATION_ID);
            cstring(out, "public");
            cstring(out, "t");
            out.writeByte('d');
            out.writeShort(5);
            column(out, true, "id", 20);
            column(out, false, "k", 23);
            column(out, false, "v", 23);
            column(out, false, "src_ts", 1184);
            column(out, false, "payload", 25);
        }));
        long commitMicros = 848_000_000_000_000L;
        long lsn = 0x1_0000_0000L;
        for (int row = 1; row <= ROWS; row++) {
            int g = row;
            if ((row - 1) % perTx == 0) {
                long finalLsn = lsn + 64L * (perTx + 2);
                long xid = 1000 + row / perTx;
                wal.add(message(out -> {
                    out.writeByte('B');
                    out.writeLong(finalLsn);
                    out.writeLong(commitMicros);
                    out.writeInt((int) xid);
                }));
            }
            wal.add(message(out -> {
                out.writeByte('I');
                out.writeInt(RELATION_ID);
                out.writeByte('N');
                out.writeShort(5);
                text(out, Long.toString(g));
                text(out, Integer.toString(g % 1000));
                text(out, Integer.toString(g / 1000));
                text(out, String.format(Locale.ROOT, "2026-11-25 17:%02d:%02d.%06d+00", g / 60 % 60, g % 60, g % 1_000_000));
                text(out, payload(g));
            }));
            if (row % perTx == 0) {
                long finalLsn = lsn + 64L * (perTx + 2);
                wal.add(message(out -> {
                    out.writeByte('C');
                    out.writeByte(0);
                    out.writeLong(finalLsn);
                    out.writeLong(finalLsn + 64);
                    out.writeLong(commitMicros);
                }));
                lsn = finalLsn + 64;
            }
        }
        return wal;
    }

    /** rpad(md5(g), 170, md5(g + 1)) in spirit: 170 hex digits. */
    private static String payload(int g) {
        StringBuilder sb = new StringBuilder(170);
        long x = g * 0x9E3779B97F4A7C15L;
        while (sb.length() < 170) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            sb.append(Long.toHexString(x));
        }
        return sb.substring(0, 170);
    }

    @FunctionalInterface
    private interface Writer {
        void write(DataOutputStream out) throws IOException;
    }

    private static byte[] message(Writer w) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            w.write(out);
        }
        return bytes.toByteArray();
    }

    private static void cstring(DataOutputStream out, String s) throws IOException {
        out.write(s.getBytes(StandardCharsets.UTF_8));
        out.writeByte(0);
    }

    private static void column(DataOutputStream out, boolean key, String name, int oid) throws IOException {
        out.writeByte(key ? 1 : 0);
        cstring(out, name);
        out.writeInt(oid);
        out.writeInt(-1);
    }

    private static void text(DataOutputStream out, String value) throws IOException {
        byte[] b = value.getBytes(StandardCharsets.UTF_8);
        out.writeByte('t');
        out.writeInt(b.length);
        out.write(b);
    }
}
