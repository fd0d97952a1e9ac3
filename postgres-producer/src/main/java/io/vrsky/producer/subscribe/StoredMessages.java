package io.vrsky.producer.subscribe;

/** Reads a message back from the stream by its sequence (retrying while NATS is unreachable). */
@FunctionalInterface
public interface StoredMessages {
    InboundMessage load(long streamSeq) throws Exception;
}
