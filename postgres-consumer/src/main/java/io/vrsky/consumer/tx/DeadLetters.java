package io.vrsky.consumer.tx;

/** Where what cannot be decoded or published goes, with the reason. */
@FunctionalInterface
public interface DeadLetters {
    void deadLetter(byte[] body, String error) throws InterruptedException;
}
