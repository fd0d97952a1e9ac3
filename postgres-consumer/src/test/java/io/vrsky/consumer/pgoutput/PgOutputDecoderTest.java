package io.vrsky.consumer.pgoutput;

import io.vrsky.consumer.encode.TestCatalog;
import io.vrsky.consumer.pgoutput.PgOutputMessage.Begin;
import io.vrsky.consumer.pgoutput.PgOutputMessage.Commit;
import io.vrsky.consumer.pgoutput.PgOutputMessage.Delete;
import io.vrsky.consumer.pgoutput.PgOutputMessage.Insert;
import io.vrsky.consumer.pgoutput.PgOutputMessage.Message;
import io.vrsky.consumer.pgoutput.PgOutputMessage.OldTupleKind;
import io.vrsky.consumer.pgoutput.PgOutputMessage.Origin;
import io.vrsky.consumer.pgoutput.PgOutputMessage.Relation;
import io.vrsky.consumer.pgoutput.PgOutputMessage.Truncate;
import io.vrsky.consumer.pgoutput.PgOutputMessage.Type;
import io.vrsky.consumer.pgoutput.PgOutputMessage.Update;
import io.vrsky.core.model.Lsn;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The decoder on byte sequences captured from PostgreSQL 15 (see PgOutputFixtureCapture). */
class PgOutputDecoderTest {

    private static TupleValue text(String s) {
        return new TupleValue.Text(s);
    }

    @Test
    void shouldDecodeBeginRelationInsertAndCommitOfACapturedTransaction() {
        List<PgOutputMessage> m = Fixtures.decodeAll("crud");

        Begin begin = (Begin) m.get(0);
        Relation relation = (Relation) m.get(1);
        Insert insert = (Insert) m.get(2);
        Commit commit = (Commit) m.get(3);

        assertThat(begin.finalLsn()).isEqualTo(commit.commitLsn());
        assertThat(commit.endLsn()).isEqualTo(Lsn.parse("0/195AFE0"));
        assertThat(commit.endLsn().isAfter(commit.commitLsn())).isTrue();
        assertThat(begin.commitTime()).isEqualTo(commit.commitTime()).isAfter(Instant.parse("2024-01-01T00:00:00Z"));
        assertThat(begin.xid()).isEqualTo(0x2df);
        assertThat(relation.schema()).isEqualTo("public");
        assertThat(relation.name()).isEqualTo("orders");
        assertThat(relation.replicaIdentity()).isEqualTo('d');
        assertThat(relation.columns()).extracting(PgOutputMessage.RelationColumn::name).containsExactly("id", "note", "amount", "paid");
        assertThat(relation.columns()).extracting(PgOutputMessage.RelationColumn::key).containsExactly(true, false, false, false);
        assertThat(relation.columns()).extracting(PgOutputMessage.RelationColumn::typeOid).containsExactly(20, 25, 1700, 16);
        assertThat(relation.columns().get(2).typeModifier()).isEqualTo((12 << 16 | 2) + 4);
        assertThat(insert.relationId()).isEqualTo(relation.relationId());
        assertThat(insert.newTuple().values()).containsExactly(text("1"), text("first"), text("12.50"), text("f"));
    }

    @Test
    void shouldDecodeUpdatesWithAndWithoutTheOldKeyAndADelete() {
        List<PgOutputMessage> m = Fixtures.decodeAll("crud");

        Update plain = (Update) m.get(5);
        Update keyChange = (Update) m.get(8);
        Update toNull = (Update) m.get(11);
        Delete delete = (Delete) m.get(14);

        assertThat(plain.oldKind()).isEqualTo(OldTupleKind.NONE);
        assertThat(plain.oldTuple()).isNull();
        assertThat(plain.newTuple().values()).containsExactly(text("1"), text("changed"), text("12.50"), text("t"));
        assertThat(keyChange.oldKind()).isEqualTo(OldTupleKind.KEY);
        assertThat(keyChange.oldTuple().values()).containsExactly(text("1"), TupleValue.NULL, TupleValue.NULL, TupleValue.NULL);
        assertThat(keyChange.newTuple().get(0)).isEqualTo(text("2"));
        assertThat(toNull.newTuple().get(1)).isEqualTo(TupleValue.NULL);
        assertThat(delete.oldKind()).isEqualTo(OldTupleKind.KEY);
        assertThat(delete.oldTuple().values()).containsExactly(text("2"), TupleValue.NULL, TupleValue.NULL, TupleValue.NULL);
    }

    @Test
    void shouldDecodeWholeOldRowsUnderReplicaIdentityFull() {
        List<PgOutputMessage> m = Fixtures.decodeAll("replica_full");

        Relation relation = (Relation) m.get(1);
        Update update = (Update) m.get(5);
        Delete delete = (Delete) m.get(8);

        assertThat(relation.replicaIdentity()).isEqualTo('f');
        assertThat(relation.columns()).allMatch(PgOutputMessage.RelationColumn::key);
        assertThat(update.oldKind()).isEqualTo(OldTupleKind.OLD);
        assertThat(update.oldTuple().values()).containsExactly(text("1"), text("a"), text("1"));
        assertThat(update.newTuple().values()).containsExactly(text("1"), text("a"), text("2"));
        assertThat(delete.oldKind()).isEqualTo(OldTupleKind.OLD);
        assertThat(delete.oldTuple().values()).containsExactly(text("1"), text("a"), text("2"));
    }

    @Test
    void shouldDecodeAnUnchangedToastValue() {
        List<PgOutputMessage> m = Fixtures.decodeAll("toast");

        Insert insert = (Insert) m.get(2);
        Update update = (Update) m.get(5);

        assertThat(((TupleValue.Text) insert.newTuple().get(1)).text()).hasSize(400 * 32);
        assertThat(update.newTuple().values()).containsExactly(text("1"), TupleValue.UNCHANGED_TOAST, text("2"));
    }

    @Test
    void shouldDecodeATruncateOfTwoTablesWithRestartIdentity() {
        List<PgOutputMessage> m = Fixtures.decodeAll("truncate");

        Relation other = (Relation) m.get(5);
        Relation audit = (Relation) m.get(6);
        Truncate truncate = (Truncate) m.get(7);

        assertThat(truncate.relationIds()).containsExactly(other.relationId(), audit.relationId());
        assertThat(truncate.restartIdentity()).isTrue();
        assertThat(truncate.cascade()).isFalse();
    }

    @Test
    void shouldDecodeTypeOriginAndLogicalDecodingMessages() {
        List<PgOutputMessage> types = Fixtures.decodeAll("types");
        List<PgOutputMessage> m = Fixtures.decodeAll("message_origin");

        assertThat(types.get(1)).isEqualTo(new Type(TestCatalog.MOOD, "public", "mood"));
        Origin origin = (Origin) m.get(1);
        assertThat(origin.name()).isEqualTo("fx_origin");
        assertThat(origin.originLsn()).isEqualTo(Lsn.parse("0/1234"));
        Message message = (Message) m.get(4);
        assertThat(message.transactional()).isTrue();
        assertThat(message.prefix()).isEqualTo("vrsky");
        assertThat(new String(message.content(), StandardCharsets.UTF_8)).isEqualTo("in a transaction");
    }

    @Test
    void shouldDecodeFromABufferThatIsASliceOfALargerArray() {
        byte[] insert = Fixtures.load("crud").get(2).bytes();
        byte[] padded = new byte[insert.length + 30];
        System.arraycopy(insert, 0, padded, 25, insert.length);
        ByteBuffer slice = ByteBuffer.wrap(padded, 25, insert.length).slice();

        PgOutputMessage decoded = new PgOutputDecoder().decode(slice);

        assertThat(decoded).isEqualTo(new PgOutputDecoder().decode(ByteBuffer.wrap(insert)));
        assertThat(slice.position()).isZero();
    }

    @Test
    void shouldRejectTruncatedAndUnknownMessages() {
        byte[] insert = Fixtures.load("crud").get(2).bytes();
        PgOutputDecoder decoder = new PgOutputDecoder();

        assertThatThrownBy(() -> decoder.decode(ByteBuffer.wrap(Arrays.copyOf(insert, insert.length - 3))))
                .isInstanceOf(PgOutputException.class).hasMessageContaining("truncated");
        assertThatThrownBy(() -> decoder.decode(ByteBuffer.wrap(new byte[] {'Z', 0})))
                .isInstanceOf(PgOutputException.class).hasMessageContaining("unknown pgoutput message type 'Z'");
        assertThatThrownBy(() -> decoder.decode(ByteBuffer.wrap(new byte[0])))
                .isInstanceOf(PgOutputException.class);
    }
}
