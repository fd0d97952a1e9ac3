package io.vrsky.core.nats;

/** Header names on CDC messages, as DESIGN.md fixes them. */
public final class CdcHeaders {
    public static final String MSG_ID = "Nats-Msg-Id";
    public static final String COMMIT_LSN = "Vrsky-Commit-Lsn";
    public static final String TX_ID = "Vrsky-Tx-Id";
    public static final String CHUNK = "Vrsky-Chunk";
    public static final String LAST_CHUNK = "Vrsky-Last-Chunk";

    private CdcHeaders() {
    }
}
