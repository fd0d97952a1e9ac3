package io.vrsky.core.codec;

/** The bytes are not a valid VRSky envelope; the message says what is wrong and where. */
public final class EnvelopeFormatException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public EnvelopeFormatException(String message) {
        super(message);
    }

    public EnvelopeFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
