package io.vrsky.consumer.pgoutput;

import io.vrsky.consumer.pgoutput.PgOutputMessage.OldTupleKind;

/**
 * An Insert, Update or Delete read in place by {@link PgOutputDecoder#readRow}: the tuples point
 * into the message's bytes. Not thread-safe; reused for every row.
 */
public final class RowView {

    char tag;
    int relationId;
    OldTupleKind oldKind = OldTupleKind.NONE;
    final TupleView oldTuple = new TupleView();
    final TupleView newTuple = new TupleView();

    /** 'I', 'U' or 'D'. */
    public char tag() {
        return tag;
    }

    public int relationId() {
        return relationId;
    }

    /** NONE for an insert, and for an update that did not change the key. */
    public OldTupleKind oldKind() {
        return oldKind;
    }

    /** Valid unless {@link #oldKind()} is NONE. */
    public TupleView oldTuple() {
        return oldTuple;
    }

    /** Valid for inserts and updates. */
    public TupleView newTuple() {
        return newTuple;
    }
}
