package io.vrsky.core.codec;

import io.vrsky.core.model.Envelope;
import io.vrsky.core.model.EnvelopeMetadata;
import io.vrsky.core.model.Lsn;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class EnvelopeWriterTest {

    private static byte[] change(String table, int id) {
        return ("{\"op\":\"INSERT\",\"schema\":\"public\",\"table\":\"" + table + "\",\"txId\":7,\"commitLsn\":\"0/10\","
                + "\"commitTime\":\"2026-02-17T10:00:00.120001Z\",\"lsn\":\"0/8\",\"columns\":[{\"name\":\"id\",\"type\":\"int4\",\"key\":true}],"
                + "\"before\":null,\"after\":{\"id\":" + id + "},\"unchangedToast\":[]}").getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void shouldWriteAnEnvelopeThatEnvelopeCoreReadsBack() {
        Instant commitTime = Instant.parse("2026-02-17T10:00:00.120001Z");
        EnvelopeWriter.Metadata m = new EnvelopeWriter.Metadata(7412, Lsn.parse("0/16B3748"), commitTime, 3, false, 1);

        byte[] body = new EnvelopeWriter("postgres-consumer/shop/vrsky_shop").write(m, List.of(change("a", 1), change("b", 2)),
                "vrsky_shop:0/16B3748:3", Instant.parse("2026-02-17T10:00:01Z"));
        Envelope e = new EnvelopeCodec().decode(body);

        assertThat(e.id()).isEqualTo(java.util.UUID.nameUUIDFromBytes("vrsky_shop:0/16B3748:3".getBytes(StandardCharsets.UTF_8)).toString());
        assertThat(e.type()).isEqualTo("vrsky.cdc.transaction");
        assertThat(e.source()).isEqualTo("postgres-consumer/shop/vrsky_shop");
        assertThat(e.time()).isEqualTo(Instant.parse("2026-02-17T10:00:01Z"));
        assertThat(e.metadata().txId()).isEqualTo(7412);
        assertThat(e.metadata().commitLsn()).isEqualTo(Lsn.parse("0/16B3748"));
        assertThat(e.metadata().commitTime()).isEqualTo(commitTime);
        assertThat(e.metadata().chunk()).isEqualTo(3);
        assertThat(e.metadata().lastChunk()).isFalse();
        assertThat(e.metadata().changeCount()).isEqualTo(2);
        assertThat(e.metadata().transactionCount()).isEqualTo(1);
        assertThat(e.changes()).extracting(c -> c.after().get("id").intValue()).containsExactly(1, 2);
    }

    @Test
    void shouldWriteTheCompactLayoutThatBothReadersReadAsTheStandardOne() {
        Instant commitTime = Instant.parse("2026-02-17T10:00:00.120001Z");
        EnvelopeWriter writer = new EnvelopeWriter("postgres-consumer/shop/vrsky_shop");
        EnvelopeWriter.Metadata m = new EnvelopeWriter.Metadata(8, Lsn.parse("0/20"), commitTime, 0, true, 2);
        Instant time = Instant.parse("2026-02-17T10:00:01Z");
        byte[] standard = writer.write(m, List.of(change("a", 1), change("b", 2), change("a", 3), other(4)), "s:0/20:0", time);
        String columns = "\"columns\":[{\"name\":\"id\",\"type\":\"int4\",\"key\":true}]";
        List<byte[]> tables = List.of(utf8("{\"ref\":11,\"schema\":\"public\",\"table\":\"a\"," + columns + "}"),
                utf8("{\"ref\":12,\"schema\":\"public\",\"table\":\"b\"," + columns + "}"));
        List<byte[]> transactions = List.of(EnvelopeWriter.transactionEntry(7, Lsn.parse("0/10"), commitTime),
                EnvelopeWriter.transactionEntry(8, Lsn.parse("0/20"), commitTime.plusMillis(1)));
        byte[] compact = writer.writeCompact(m, tables, transactions,
                List.of(compact(11, 7, 1), compact(12, 7, 2), compact(11, 7, 3), compact(11, 8, 4)), "s:0/20:0", time);

        EnvelopeCodec codec = new EnvelopeCodec();
        Envelope expected = codec.decode(standard);
        assertThat(codec.decode(compact)).isEqualTo(expected);
        EnvelopeReader reader = codec.newReader();
        assertThat(reader.decode(compact)).isEqualTo(expected);
        assertThat(reader.handedOver()).as("read without the codec").isZero();
        assertThat(new String(compact, StandardCharsets.UTF_8)).contains("\"payload\":{\"format\":\"compact\",\"tables\":[{\"ref\":11,");
        assertThat(compact.length).isLessThan(standard.length);
    }

    private static byte[] other(int id) {
        return ("{\"op\":\"INSERT\",\"schema\":\"public\",\"table\":\"a\",\"txId\":8,\"commitLsn\":\"0/20\","
                + "\"commitTime\":\"2026-02-17T10:00:00.121001Z\",\"lsn\":\"0/8\",\"columns\":[{\"name\":\"id\",\"type\":\"int4\",\"key\":true}],"
                + "\"before\":null,\"after\":{\"id\":" + id + "},\"unchangedToast\":[]}").getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] compact(int ref, long txId, int id) {
        return utf8("{\"op\":\"INSERT\",\"ref\":" + ref + ",\"txId\":" + txId + ",\"lsn\":\"0/8\",\"before\":null,\"after\":{\"id\":" + id
                + "},\"unchangedToast\":[]}");
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void shouldDeriveTheIdFromTheMessageIdAsANameBasedUuid() {
        EnvelopeWriter writer = new EnvelopeWriter("postgres-consumer/shop/vrsky_shop");
        for (String msgId : List.of("vrsky_shop:0/16B3748:3", "s:0/0:0", "é:FFFFFFFF/FFFFFFFF:12")) {
            assertThat(writer.id(msgId)).isEqualTo(java.util.UUID.nameUUIDFromBytes(msgId.getBytes(StandardCharsets.UTF_8)).toString());
        }
    }

    @Test
    void shouldWriteTheSameEnvelopeAsEnvelopeCoreForTheSameMessage() {
        EnvelopeWriter.Metadata m = new EnvelopeWriter.Metadata(7412, Lsn.parse("A/16B3748"), Instant.parse("2026-02-17T10:00:00.120Z"),
                0, true, 2);
        Instant time = Instant.parse("2026-02-17T10:00:01.000001Z");

        byte[] body = new EnvelopeWriter("postgres-consumer/shop/vrsky_shop").write(m, List.of(change("a", 1)), "vrsky_shop:A/16B3748:0", time);
        EnvelopeCodec codec = new EnvelopeCodec();

        assertThat(new String(codec.encode(codec.decode(body)), StandardCharsets.UTF_8)).isEqualTo(new String(body, StandardCharsets.UTF_8));
    }

    @Test
    void shouldWriteTheSnapshotPartOfAMessageOfSnapshotRowsAsEnvelopeCoreDoes() {
        EnvelopeMetadata.Snapshot part = new EnvelopeMetadata.Snapshot("s1a2b", "public.orders", 1042, true);
        EnvelopeWriter.Metadata m = new EnvelopeWriter.Metadata(0, Lsn.parse("0/16B3748"), Instant.parse("2026-02-17T10:00:00.120Z"),
                0, true, 1, part);
        byte[] read = ("{\"op\":\"READ\",\"schema\":\"public\",\"table\":\"orders\",\"txId\":0,\"commitLsn\":\"0/16B3748\","
                + "\"commitTime\":\"2026-02-17T10:00:00.120Z\",\"lsn\":\"0/16B3748\",\"columns\":[{\"name\":\"id\",\"type\":\"int4\","
                + "\"key\":true}],\"before\":null,\"after\":{\"id\":1},\"unchangedToast\":[]}").getBytes(StandardCharsets.UTF_8);

        byte[] body = new EnvelopeWriter("postgres-consumer/shop/vrsky_shop").write(m, List.of(read),
                "vrsky_shop:snap:s1a2b:public.orders:1042", Instant.parse("2026-02-17T10:00:01Z"));
        EnvelopeCodec codec = new EnvelopeCodec();
        Envelope slow = codec.decode(body);
        Envelope fast = codec.newReader().decode(body);

        assertThat(new String(codec.encode(slow), StandardCharsets.UTF_8)).isEqualTo(new String(body, StandardCharsets.UTF_8));
        assertThat(slow.metadata().snapshot()).isEqualTo(part);
        assertThat(fast.metadata().snapshot()).isEqualTo(part);
        assertThat(fast.changes().get(0).op()).isEqualTo(io.vrsky.core.model.Operation.READ);
        assertThat(slow.changes().get(0).op()).isEqualTo(io.vrsky.core.model.Operation.READ);
        assertThat(codec.newReader().decode(body)).isEqualTo(slow);
    }

    @Test
    void shouldIgnoreUnknownFieldsOfTheSnapshotPart() {
        String json = "{\"id\":\"x\",\"metadata\":{\"txId\":0,\"chunk\":0,\"lastChunk\":true,\"snapshot\":{\"id\":\"s\","
                + "\"table\":\"public.t\",\"chunk\":3,\"lastChunk\":false,\"future\":{\"a\":[1]}}},\"payload\":{\"changes\":"
                + "[{\"op\":\"READ\",\"table\":\"t\",\"after\":{\"id\":1}}]}}";
        EnvelopeCodec codec = new EnvelopeCodec();
        byte[] body = json.getBytes(StandardCharsets.UTF_8);

        assertThat(codec.decode(body).metadata().snapshot()).isEqualTo(new EnvelopeMetadata.Snapshot("s", "public.t", 3, false));
        assertThat(codec.newReader().decode(body).metadata().snapshot()).isEqualTo(new EnvelopeMetadata.Snapshot("s", "public.t", 3, false));
    }
}
