package io.vrsky.consumer.tx;

/** Where a row message that cannot be decoded goes, with the reason. */
@FunctionalInterface
public interface DeadLetters {

    /**
     * Sends {@code body} (the raw pgoutput message) as a dead letter of class {@code decode} and
     * waits until it is stored.
     *
     * @param tx    the transaction the row belongs to
     * @param index the row's place in its transaction, counted from 0 over every row message (and
     *              every table of a Truncate), filtered ones too, so that the same row gets the same
     *              index when the transaction is read again
     */
    void deadLetter(byte[] body, String error, TxInfo tx, int index) throws InterruptedException;
}
