package io.vrsky.consumer.pgoutput;

import io.vrsky.consumer.pgoutput.PgOutputMessage.Begin;
import io.vrsky.consumer.pgoutput.PgOutputMessage.Commit;
import io.vrsky.consumer.pgoutput.PgOutputMessage.Delete;
import io.vrsky.consumer.pgoutput.PgOutputMessage.Insert;
import io.vrsky.consumer.pgoutput.PgOutputMessage.Message;
import io.vrsky.consumer.pgoutput.PgOutputMessage.OldTupleKind;
import io.vrsky.consumer.pgoutput.PgOutputMessage.Origin;
import io.vrsky.consumer.pgoutput.PgOutputMessage.Relation;
import io.vrsky.consumer.pgoutput.PgOutputMessage.RelationColumn;
import io.vrsky.consumer.pgoutput.PgOutputMessage.Truncate;
import io.vrsky.consumer.pgoutput.PgOutputMessage.Type;
import io.vrsky.consumer.pgoutput.PgOutputMessage.Update;
import io.vrsky.core.model.Lsn;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes pgoutput protocol version 1 messages straight from the replication buffer (big-endian,
 * strings NUL-terminated UTF-8, timestamps in microseconds since 2000-01-01). Stateless and
 * thread-safe; reads from {@code buffer}'s position to its limit and leaves the buffer untouched
 * (it works on a duplicate).
 */
public final class PgOutputDecoder {

    /** 2000-01-01T00:00:00Z in seconds since the Unix epoch. */
    private static final long POSTGRES_EPOCH_SECONDS = 946_684_800L;

    public PgOutputMessage decode(ByteBuffer buffer) {
        ByteBuffer b = buffer.duplicate();
        if (!b.hasRemaining()) {
            throw new PgOutputException("empty pgoutput message");
        }
        char tag = (char) b.get();
        try {
            PgOutputMessage message = switch (tag) {
                case 'B' -> new Begin(lsn(b), timestamp(b.getLong()), Integer.toUnsignedLong(b.getInt()));
                case 'C' -> new Commit(b.get(), lsn(b), lsn(b), timestamp(b.getLong()));
                case 'O' -> new Origin(lsn(b), string(b));
                case 'R' -> relation(b);
                case 'Y' -> new Type(b.getInt(), string(b), string(b));
                case 'I' -> insert(b);
                case 'U' -> update(b);
                case 'D' -> delete(b);
                case 'T' -> truncate(b);
                case 'M' -> message(b);
                default -> throw new PgOutputException("unknown pgoutput message type '" + printable(tag) + "'");
            };
            if (b.hasRemaining()) {
                throw new PgOutputException("pgoutput message '" + tag + "' has " + b.remaining() + " trailing byte(s)");
            }
            return message;
        } catch (BufferUnderflowException e) {
            throw new PgOutputException("pgoutput message '" + printable(tag) + "' is truncated", e);
        } catch (IllegalArgumentException e) {
            throw new PgOutputException("malformed pgoutput message '" + printable(tag) + "': " + e.getMessage(), e);
        }
    }

    /**
     * A Begin ('B'), as {@link #decode} reads it, in a method of its own: the replication thread
     * calls it once per transaction, and keeping it apart from the other message kinds keeps the
     * compiled hot path small.
     */
    public Begin decodeBegin(ByteBuffer buffer) {
        ByteBuffer b = fixedLength(buffer, 'B', 21);
        return new Begin(lsn(b), timestamp(b.getLong()), Integer.toUnsignedLong(b.getInt()));
    }

    /** A Commit ('C'), as {@link #decode} reads it (see {@link #decodeBegin}). */
    public Commit decodeCommit(ByteBuffer buffer) {
        ByteBuffer b = fixedLength(buffer, 'C', 26);
        return new Commit(b.get(), lsn(b), lsn(b), timestamp(b.getLong()));
    }

    private static ByteBuffer fixedLength(ByteBuffer buffer, char tag, int length) {
        ByteBuffer b = buffer.duplicate();
        if (!b.hasRemaining() || b.get() != tag) {
            throw new PgOutputException("not a pgoutput '" + tag + "' message");
        }
        if (b.remaining() < length - 1) {
            throw new PgOutputException("pgoutput message '" + tag + "' is truncated");
        }
        if (b.remaining() > length - 1) {
            throw new PgOutputException("pgoutput message '" + tag + "' has " + (b.remaining() - length + 1) + " trailing byte(s)");
        }
        return b;
    }

    /**
     * Reads an Insert, Update or Delete in place into {@code row} (no copy of the values), from the
     * buffer's position to its limit; the buffer is left untouched. Checks the same as
     * {@link #decode}.
     *
     * @throws PgOutputException when the message is malformed or not a row message
     */
    public void readRow(ByteBuffer buffer, RowView row) {
        byte[] data;
        int pos;
        int limit;
        if (buffer.hasArray()) {
            data = buffer.array();
            pos = buffer.arrayOffset() + buffer.position();
            limit = buffer.arrayOffset() + buffer.limit();
        } else {
            data = new byte[buffer.remaining()];
            buffer.duplicate().get(data);
            pos = 0;
            limit = data.length;
        }
        if (pos >= limit) {
            throw new PgOutputException("empty pgoutput message");
        }
        char tag = (char) data[pos++];
        if (pos + 5 > limit) {
            throw new PgOutputException("pgoutput message '" + printable(tag) + "' is truncated");
        }
        row.tag = tag;
        row.relationId = int32(data, pos);
        pos += 4;
        char marker = (char) data[pos++];
        switch (tag) {
            case 'I' -> {
                if (marker != 'N') {
                    throw new PgOutputException("insert: expected 'N', found '" + printable(marker) + "'");
                }
                row.oldKind = OldTupleKind.NONE;
                pos = row.newTuple.read(data, pos, limit, tag);
            }
            case 'U' -> {
                row.oldKind = OldTupleKind.NONE;
                if (marker == 'K' || marker == 'O') {
                    row.oldKind = marker == 'K' ? OldTupleKind.KEY : OldTupleKind.OLD;
                    pos = row.oldTuple.read(data, pos, limit, tag);
                    if (pos >= limit) {
                        throw truncated(tag);
                    }
                    marker = (char) data[pos++];
                }
                if (marker != 'N') {
                    throw new PgOutputException("update: expected 'N' before the new tuple, found '" + printable(marker) + "'");
                }
                pos = row.newTuple.read(data, pos, limit, tag);
            }
            case 'D' -> {
                if (marker != 'K' && marker != 'O') {
                    throw new PgOutputException("delete: expected 'K' or 'O', found '" + printable(marker) + "'");
                }
                row.oldKind = marker == 'K' ? OldTupleKind.KEY : OldTupleKind.OLD;
                pos = row.oldTuple.read(data, pos, limit, tag);
            }
            default -> throw new PgOutputException("pgoutput message '" + printable(tag) + "' is not a row message");
        }
        if (pos != limit) {
            throw new PgOutputException("pgoutput message '" + tag + "' has " + (limit - pos) + " trailing byte(s)");
        }
    }

    static PgOutputException truncated(char tag) {
        return new PgOutputException("pgoutput message '" + printable(tag) + "' is truncated");
    }

    static int int32(byte[] b, int pos) {
        return (b[pos] & 0xFF) << 24 | (b[pos + 1] & 0xFF) << 16 | (b[pos + 2] & 0xFF) << 8 | (b[pos + 3] & 0xFF);
    }

    static String printable(char tag) {
        return tag >= 0x20 && tag < 0x7f ? String.valueOf(tag) : String.format("0x%02x", (int) tag);
    }

    private static Relation relation(ByteBuffer b) {
        int relationId = b.getInt();
        String namespace = string(b);
        String name = string(b);
        char identity = (char) b.get();
        int count = b.getShort();
        List<RelationColumn> columns = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            boolean key = (b.get() & 1) != 0;
            columns.add(new RelationColumn(key, string(b), b.getInt(), b.getInt()));
        }
        return new Relation(relationId, namespace, name, identity, columns);
    }

    private static Insert insert(ByteBuffer b) {
        int relationId = b.getInt();
        expect(b, 'N', "insert");
        return new Insert(relationId, tuple(b));
    }

    private static Update update(ByteBuffer b) {
        int relationId = b.getInt();
        char marker = (char) b.get();
        OldTupleKind kind = OldTupleKind.NONE;
        TupleData old = null;
        if (marker == 'K' || marker == 'O') {
            kind = marker == 'K' ? OldTupleKind.KEY : OldTupleKind.OLD;
            old = tuple(b);
            marker = (char) b.get();
        }
        if (marker != 'N') {
            throw new PgOutputException("update: expected 'N' before the new tuple, found '" + printable(marker) + "'");
        }
        return new Update(relationId, kind, old, tuple(b));
    }

    private static Delete delete(ByteBuffer b) {
        int relationId = b.getInt();
        char marker = (char) b.get();
        if (marker != 'K' && marker != 'O') {
            throw new PgOutputException("delete: expected 'K' or 'O', found '" + printable(marker) + "'");
        }
        return new Delete(relationId, marker == 'K' ? OldTupleKind.KEY : OldTupleKind.OLD, tuple(b));
    }

    private static Truncate truncate(ByteBuffer b) {
        int count = b.getInt();
        int options = b.get();
        List<Integer> ids = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            ids.add(b.getInt());
        }
        return new Truncate(ids, (options & 1) != 0, (options & 2) != 0);
    }

    private static Message message(ByteBuffer b) {
        boolean transactional = (b.get() & 1) != 0;
        Lsn lsn = lsn(b);
        String prefix = string(b);
        int length = b.getInt();
        byte[] content = new byte[length];
        b.get(content);
        return new Message(transactional, lsn, prefix, content);
    }

    private static void expect(ByteBuffer b, char expected, String what) {
        char marker = (char) b.get();
        if (marker != expected) {
            throw new PgOutputException(what + ": expected '" + expected + "', found '" + printable(marker) + "'");
        }
    }

    private static TupleData tuple(ByteBuffer b) {
        int count = b.getShort();
        TupleValue[] values = new TupleValue[count];
        for (int i = 0; i < count; i++) {
            char kind = (char) b.get();
            values[i] = switch (kind) {
                case 'n' -> TupleValue.NULL;
                case 'u' -> TupleValue.UNCHANGED_TOAST;
                case 't' -> new TupleValue.Text(utf8(b, b.getInt()));
                case 'b' -> {
                    byte[] bytes = new byte[b.getInt()];
                    b.get(bytes);
                    yield new TupleValue.Binary(bytes);
                }
                default -> throw new PgOutputException("unknown tuple value kind '" + printable(kind) + "' in column " + i);
            };
        }
        return new TupleData(List.of(values));
    }

    private static String utf8(ByteBuffer b, int length) {
        if (length < 0 || length > b.remaining()) {
            throw new BufferUnderflowException();
        }
        String s;
        if (b.hasArray()) {
            s = new String(b.array(), b.arrayOffset() + b.position(), length, StandardCharsets.UTF_8);
            b.position(b.position() + length);
        } else {
            byte[] bytes = new byte[length];
            b.get(bytes);
            s = new String(bytes, StandardCharsets.UTF_8);
        }
        return s;
    }

    private static String string(ByteBuffer b) {
        int start = b.position();
        int end = start;
        int limit = b.limit();
        while (end < limit && b.get(end) != 0) {
            end++;
        }
        if (end == limit) {
            throw new PgOutputException("string is not NUL-terminated");
        }
        String s = utf8(b, end - start);
        b.get(); // the NUL
        return s;
    }

    private static Lsn lsn(ByteBuffer b) {
        return new Lsn(b.getLong());
    }

    /** Microseconds since 2000-01-01 to an instant. */
    static Instant timestamp(long micros) {
        long seconds = Math.floorDiv(micros, 1_000_000L);
        long micro = Math.floorMod(micros, 1_000_000L);
        return Instant.ofEpochSecond(POSTGRES_EPOCH_SECONDS + seconds, micro * 1_000L);
    }
}
