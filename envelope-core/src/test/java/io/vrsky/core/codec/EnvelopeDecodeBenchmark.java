package io.vrsky.core.codec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.vrsky.core.model.Change;
import io.vrsky.core.model.ColumnInfo;
import io.vrsky.core.model.Envelope;
import io.vrsky.core.model.EnvelopeMetadata;
import io.vrsky.core.model.Lsn;
import io.vrsky.core.model.Operation;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Not part of the build: CPU time per change of the producer's envelope decoding, the streaming
 * reader against the codec's tree decoding in the same run, on messages shaped like the
 * benchmark's W1 (100 inserts of one transaction, five columns, ~210-byte rows). Run with
 * {@code mvn -pl envelope-core test -Dtest=EnvelopeDecodeBenchmark -Dsurefire.failIfNoSpecifiedTests=false}
 * (add {@code -DargLine="-XX:TieredStopAtLevel=1"} for C1 only) and read the lines it prints.
 */
class EnvelopeDecodeBenchmark {

    private static final int MESSAGES = 200;
    private static final int CHANGES = 100;
    private static final int ROUNDS = 25;

    @Test
    void readerAgainstCodec() {
        EnvelopeCodec codec = new EnvelopeCodec();
        List<byte[]> messages = messages(codec);
        EnvelopeReader reader = codec.newReader();
        double codecMicros = bestMicrosPerChange(messages, codec::decode);
        double readerMicros = bestMicrosPerChange(messages, reader::decode);
        long bytes = messages.stream().mapToLong(m -> m.length).sum();
        System.out.printf("envelope decode, %d-byte changes: codec %.3f us, reader %.3f us of CPU per change (reader/codec %.2f)%n",
                bytes / (MESSAGES * CHANGES), codecMicros, readerMicros, readerMicros / codecMicros);
        assertThat(reader.decode(messages.get(0))).isEqualTo(codec.decode(messages.get(0)));
        assertThat(reader.handedOver()).isZero();
    }

    private static double bestMicrosPerChange(List<byte[]> messages, Function<byte[], Envelope> decode) {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        double best = Double.MAX_VALUE;
        for (int round = 0; round < ROUNDS; round++) {
            long start = mx.getCurrentThreadCpuTime();
            long changes = 0;
            for (byte[] message : messages) {
                changes += decode.apply(message).changes().size();
            }
            best = Math.min(best, (mx.getCurrentThreadCpuTime() - start) / 1000.0 / changes);
        }
        return best;
    }

    private static List<byte[]> messages(EnvelopeCodec codec) {
        List<ColumnInfo> columns = List.of(new ColumnInfo("id", "int8", true), new ColumnInfo("k", "int4", false),
                new ColumnInfo("v", "int4", false), new ColumnInfo("src_ts", "timestamptz", false),
                new ColumnInfo("payload", "text", false));
        Instant firstCommit = Instant.parse("2026-02-17T10:00:00.120001Z");
        List<byte[]> messages = new ArrayList<>();
        long id = 1;
        for (int m = 0; m < MESSAGES; m++) {
            Lsn commitLsn = new Lsn(0x16B3748L + m * 100_000L);
            Instant commitTime = firstCommit.plusMillis(m);
            long txId = 7_000L + m;
            List<Change> changes = new ArrayList<>();
            for (int i = 0; i < CHANGES; i++, id++) {
                Map<String, JsonNode> after = new LinkedHashMap<>();
                after.put("id", LongNode.valueOf(id));
                after.put("k", IntNode.valueOf((int) (id % 1000)));
                after.put("v", IntNode.valueOf(m));
                after.put("src_ts", TextNode.valueOf("2026-02-17T10:00:00." + (100_000 + i) + "Z"));
                after.put("payload", TextNode.valueOf("0123456789abcdef".repeat(10) + id));
                changes.add(new Change(Operation.INSERT, "public", "w1", txId, commitLsn, commitTime,
                        new Lsn(commitLsn.value() - 1_000 + i), columns, null, after, List.of()));
            }
            messages.add(codec.encode(new Envelope("e" + m, Envelope.CDC_TRANSACTION_TYPE, "postgres-consumer/bench/slot", commitTime,
                    new EnvelopeMetadata(txId, commitLsn, commitTime, 0, true, CHANGES, 1), changes)));
        }
        return messages;
    }
}
