package io.vrsky.core.nats;

/** Header names on CDC messages: part of the wire format. */
public final class CdcHeaders {
    public static final String MSG_ID = "Nats-Msg-Id";
    public static final String COMMIT_LSN = "Vrsky-Commit-Lsn";
    public static final String TX_ID = "Vrsky-Tx-Id";
    public static final String CHUNK = "Vrsky-Chunk";
    public static final String LAST_CHUNK = "Vrsky-Last-Chunk";
    /**
     * The commit LSN of the last transaction the same slot published before the first transaction
     * of this message (chunks of one transaction carry the same value); absent when unknown.
     */
    public static final String PREV_COMMIT_LSN = "Vrsky-Prev-Commit-Lsn";
    /**
     * On a message published back for replay (a dead letter, say): the replay's id, 1 to 200 of
     * {@code [A-Za-z0-9._:-]}. The producer applies such a message once per replay id even though
     * its positions were passed already.
     */
    public static final String REPLAY = "Vrsky-Replay";
    /**
     * On a message of snapshot rows (changes with op READ): {@code <snapshot id>:<schema.table>:<chunk>}.
     * Such a message carries {@code Nats-Msg-Id} {@code <slot>:snap:<snapshot id>:<schema.table>:<chunk>}
     * and {@link #LAST_CHUNK} (the table's last chunk of that snapshot), but no commit LSN, chunk or
     * previous-commit headers: it is outside the chain of CDC transactions.
     */
    public static final String SNAPSHOT = "Vrsky-Snapshot";
    /**
     * {@code compact} on a message whose envelope has the compact layout (each table and transaction
     * once, in {@code payload.tables} and {@code payload.transactions}); absent for the standard one.
     */
    public static final String FORMAT = "Vrsky-Format";

    private CdcHeaders() {
    }
}
