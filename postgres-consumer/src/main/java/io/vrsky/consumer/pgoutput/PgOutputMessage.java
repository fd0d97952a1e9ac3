package io.vrsky.consumer.pgoutput;

import io.vrsky.core.model.Lsn;

import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A pgoutput message of protocol version 1 ("Logical Replication Message Formats" in the
 * PostgreSQL documentation). Every variant is a record, so a {@code switch} over them is checked
 * for completeness by the compiler.
 */
public sealed interface PgOutputMessage {

    /** 'B': a transaction starts; {@code finalLsn} is the LSN of its commit record. */
    record Begin(Lsn finalLsn, Instant commitTime, long xid) implements PgOutputMessage {
        public Begin {
            Objects.requireNonNull(finalLsn, "finalLsn");
        }
    }

    /** 'C': the transaction ends; {@code endLsn} is where the next transaction may start. */
    record Commit(int flags, Lsn commitLsn, Lsn endLsn, Instant commitTime) implements PgOutputMessage {
        public Commit {
            Objects.requireNonNull(commitLsn, "commitLsn");
            Objects.requireNonNull(endLsn, "endLsn");
        }
    }

    /** 'O': the transaction was replicated from another origin. */
    record Origin(Lsn originLsn, String name) implements PgOutputMessage {
    }

    /** 'R': the shape of a table, sent before its first change in a session and after it changes. */
    record Relation(int relationId, String namespace, String name, char replicaIdentity, List<RelationColumn> columns)
            implements PgOutputMessage {
        public Relation {
            columns = List.copyOf(columns);
        }

        /** pg_catalog is sent as an empty namespace. */
        public String schema() {
            return namespace.isEmpty() ? "pg_catalog" : namespace;
        }
    }

    /** A column of a {@link Relation}; {@code key} is set for replica identity columns. */
    record RelationColumn(boolean key, String name, int typeOid, int typeModifier) {
        public RelationColumn {
            Objects.requireNonNull(name, "name");
        }
    }

    /** 'Y': a non-built-in data type a following relation uses. */
    record Type(int typeOid, String namespace, String name) implements PgOutputMessage {
    }

    /** 'I'. */
    record Insert(int relationId, TupleData newTuple) implements PgOutputMessage {
        public Insert {
            Objects.requireNonNull(newTuple, "newTuple");
        }
    }

    /** 'U': {@code oldTuple} is null when {@code oldKind} is {@link OldTupleKind#NONE}. */
    record Update(int relationId, OldTupleKind oldKind, TupleData oldTuple, TupleData newTuple) implements PgOutputMessage {
        public Update {
            Objects.requireNonNull(oldKind, "oldKind");
            Objects.requireNonNull(newTuple, "newTuple");
            if ((oldKind == OldTupleKind.NONE) != (oldTuple == null)) {
                throw new IllegalArgumentException("old tuple must be present exactly when oldKind is KEY or OLD");
            }
        }
    }

    /** 'D': the old tuple holds the key ({@code K}) or, under REPLICA IDENTITY FULL, the whole row ({@code O}). */
    record Delete(int relationId, OldTupleKind oldKind, TupleData oldTuple) implements PgOutputMessage {
        public Delete {
            Objects.requireNonNull(oldKind, "oldKind");
            Objects.requireNonNull(oldTuple, "oldTuple");
            if (oldKind == OldTupleKind.NONE) {
                throw new IllegalArgumentException("a delete always carries an old tuple");
            }
        }
    }

    /** 'T'. */
    record Truncate(List<Integer> relationIds, boolean cascade, boolean restartIdentity) implements PgOutputMessage {
        public Truncate {
            relationIds = List.copyOf(relationIds);
        }
    }

    /** 'M': a logical decoding message ({@code pg_logical_emit_message}). */
    record Message(boolean transactional, Lsn lsn, String prefix, byte[] content) implements PgOutputMessage {
        public Message {
            content = content.clone();
        }

        @Override
        public byte[] content() {
            return content.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Message m && transactional == m.transactional && Objects.equals(lsn, m.lsn)
                    && Objects.equals(prefix, m.prefix) && Arrays.equals(content, m.content);
        }

        @Override
        public int hashCode() {
            return Objects.hash(transactional, lsn, prefix, Arrays.hashCode(content));
        }

        @Override
        public String toString() {
            return "Message[transactional=" + transactional + ", lsn=" + lsn + ", prefix=" + prefix + ", bytes=" + content.length + "]";
        }
    }

    /** Which old tuple an update or delete carries. */
    enum OldTupleKind {
        /** no old tuple: the key did not change (updates only). */
        NONE,
        /** 'K': the replica identity (key) columns; the others are null. */
        KEY,
        /** 'O': the whole old row (REPLICA IDENTITY FULL). */
        OLD
    }
}
