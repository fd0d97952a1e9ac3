package io.vrsky.consumer.encode;

import io.vrsky.consumer.encode.ChangeEncoder.Before;
import io.vrsky.consumer.encode.ChangeEncoder.TxStrings;
import io.vrsky.consumer.pgoutput.TupleView;
import io.vrsky.core.codec.EnvelopeCodec;
import io.vrsky.core.codec.EnvelopeReader;
import io.vrsky.core.codec.EnvelopeWriter;
import io.vrsky.core.model.Envelope;
import io.vrsky.core.model.Lsn;
import io.vrsky.core.model.Operation;
import io.vrsky.core.model.TableId;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The compact layout as the consumer writes it (changes that name their table by ref and their
 * transaction by txId, the entries once per message) reads back, with both of envelope-core's
 * decoders, as exactly the envelope of the standard layout, and is smaller.
 */
class CompactLayoutTest {

    private static final PgType INT4 = PgType.scalar(23, "int4", JsonKind.INTEGER);
    private static final PgType TEXT = PgType.scalar(25, "text", JsonKind.STRING);

    private final RelationInfo items = new RelationInfo(7, 16384, new TableId("public", "items"), 'd',
            List.of(new RelationInfo.Column("id", INT4, true, 1, null, "integer", true, null, null),
                    new RelationInfo.Column("note", TEXT, false, 2, null, "text", false, null, null)));
    private final RelationInfo pairs = new RelationInfo(8, 16390, new TableId("shop", "pairs"), 'f',
            List.of(new RelationInfo.Column("a", INT4, true), new RelationInfo.Column("b", TEXT, false)));

    @Test
    void shouldReadAsTheStandardLayoutWithBothDecoders() {
        TxStrings tx1 = TxStrings.of(741, Lsn.parse("0/16B3748"), Instant.parse("2026-02-17T10:00:00.120001Z"));
        TxStrings tx2 = TxStrings.of(742, Lsn.parse("0/16B3800"), Instant.parse("2026-02-17T10:00:00.130001Z"));
        List<byte[]> standard = new ArrayList<>();
        List<byte[]> compact = new ArrayList<>();
        for (boolean isCompact : new boolean[] {false, true}) {
            ChangeEncoder encoder = new ChangeEncoder(new ValueDecoder(), isCompact);
            List<byte[]> out = isCompact ? compact : standard;
            out.add(encoder.encode(Operation.INSERT, items, tx1, 0x16B3700L, Before.NONE, null, tuple("1", "one")));
            out.add(encoder.encode(Operation.UPDATE, items, tx1, 0x16B3710L, Before.KEY_COLUMNS, tuple("1", "one"), tuple("1", null)));
            out.add(encoder.encode(Operation.DELETE, pairs, tx2, 0x16B3790L, Before.ALL_COLUMNS, tuple("5", "x\ty"), null));
            out.add(encoder.oversized(Operation.INSERT, items, tx2, 0x16B37A0L, tuple("2", "two"), 5000, 4000).json());
            out.add(encoder.undecodable(Operation.INSERT, "relation 99", tx2, 0x16B37B0L, "no Relation message").json());
        }
        EnvelopeWriter writer = new EnvelopeWriter("postgres-consumer/shop/slot");
        EnvelopeWriter.Metadata m = new EnvelopeWriter.Metadata(742, Lsn.parse("0/16B3800"), Instant.parse("2026-02-17T10:00:00.130001Z"),
                0, true, 2);
        Instant now = Instant.parse("2026-02-17T10:00:01Z");
        byte[] standardBody = writer.write(m, standard, "slot:0/16B3800:0", now);
        byte[] compactBody = writer.writeCompact(m, List.of(items.tableEntry(), pairs.tableEntry()), List.of(tx1.entry(), tx2.entry()),
                compact, "slot:0/16B3800:0", now);

        EnvelopeCodec codec = new EnvelopeCodec();
        Envelope expected = codec.decode(standardBody);
        assertThat(codec.decode(compactBody)).isEqualTo(expected);
        EnvelopeReader reader = codec.newReader();
        assertThat(reader.decode(compactBody)).isEqualTo(expected);
        assertThat(expected.changes()).extracting(c -> c.tableId().toString())
                .containsExactly("public.items", "public.items", "shop.pairs", "public.items", "public.relation 99");
        assertThat(compactBody.length).isLessThan(standardBody.length);
        assertThat(new String(compact.get(0), StandardCharsets.UTF_8)).startsWith("{\"op\":\"INSERT\",\"ref\":7,\"txId\":741,\"lsn\":\"0/16B3700\"")
                .doesNotContain("columns").doesNotContain("commitLsn");
    }

    @Test
    void shouldCountTheEntriesInTheFootprintOfACompactChange() {
        ChangeEncoder compact = new ChangeEncoder(new ValueDecoder(), true);
        ChangeEncoder standard = new ChangeEncoder(new ValueDecoder());
        TxStrings tx = TxStrings.of(741, Lsn.parse("0/16B3748"), Instant.parse("2026-02-17T10:00:00.120001Z"));
        byte[] json = compact.encode(Operation.INSERT, items, tx, 0x16B3700L, Before.NONE, null, tuple("1", "one"));
        assertThat(compact.footprint(items, json)).isGreaterThanOrEqualTo(json.length + items.tableEntry().length + tx.entry().length);
        assertThat(standard.footprint(items, json)).isEqualTo(json.length);
    }

    private static TupleView tuple(String a, String b) {
        byte[] data = ((a == null ? "" : a) + (b == null ? "" : b)).getBytes(StandardCharsets.UTF_8);
        TupleView t = new TupleView();
        t.start(data, 2);
        if (a == null) {
            t.setNull(0);
        } else {
            t.text(0, 0, a.getBytes(StandardCharsets.UTF_8).length);
        }
        if (b == null) {
            t.setNull(1);
        } else {
            int off = a == null ? 0 : a.getBytes(StandardCharsets.UTF_8).length;
            t.text(1, off, data.length - off);
        }
        return t;
    }
}
